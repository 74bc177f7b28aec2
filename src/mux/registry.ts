/**
 * Where live sessions are found: one folder of Unix sockets, `<pid>.sock`, each with a
 * `<pid>.json` beside it that describes the session. The folder is private to its user.
 */
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";

export interface SessionInfo {
  pid: number;
  name: string | null;
  socket: string;
  command: string[];
  cwd: string;
  clients: number;
  startedAt: string;
  sessionId: string | null;
}

/** `$SWITCHBOARD_SOCKET_DIR`, else `${XDG_RUNTIME_DIR:-${TMPDIR:-/tmp}}/switchboard`. */
export function socketDir(env: Record<string, string | undefined> = process.env): string {
  if (env.SWITCHBOARD_SOCKET_DIR) return env.SWITCHBOARD_SOCKET_DIR;
  return join(env.XDG_RUNTIME_DIR || env.TMPDIR || "/tmp", "switchboard");
}

/** Creates the folder 0700 (or tightens it) and refuses one that another user owns. */
export function prepareSocketDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = statSync(dir);
  if (!st.isDirectory()) throw new Error(`${dir} is not a folder`);
  const uid = process.getuid?.();
  if (uid !== undefined && st.uid !== uid) {
    throw new Error(
      `socket folder ${dir} belongs to another user (uid ${st.uid}); set SWITCHBOARD_SOCKET_DIR`,
    );
  }
  if ((st.mode & 0o777) !== 0o700) chmodSync(dir, 0o700);
  removeStale(dir);
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: the process exists but is someone else's.
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

export const socketPath = (dir: string, pid: number) => join(dir, `${pid}.sock`);
const infoPath = (dir: string, pid: number) => join(dir, `${pid}.json`);

/** Writes the description atomically (temp file + rename), private to the user. */
export function writeInfo(dir: string, info: SessionInfo): void {
  const tmp = join(dir, `.${info.pid}.json.tmp`);
  writeFileSync(tmp, JSON.stringify(info) + "\n", { mode: 0o600 });
  renameSync(tmp, infoPath(dir, info.pid));
}

export function removeSession(dir: string, pid: number): void {
  for (const p of [socketPath(dir, pid), infoPath(dir, pid)]) {
    try {
      unlinkSync(p);
    } catch {
      // Already gone: removal is idempotent.
    }
  }
}

function pidsIn(dir: string): number[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const pids = new Set<number>();
  for (const n of names) {
    const m = /^(\d+)\.(sock|json)$/.exec(n);
    if (m) pids.add(Number(m[1]));
  }
  return [...pids].sort((a, b) => a - b);
}

/** Removes the sockets and descriptions of processes that are gone. */
export function removeStale(dir: string): void {
  for (const pid of pidsIn(dir)) if (!isAlive(pid)) removeSession(dir, pid);
}

/** Live sessions; stale entries are removed on the way. */
export function listSessions(dir: string): SessionInfo[] {
  const out: SessionInfo[] = [];
  for (const pid of pidsIn(dir)) {
    if (!isAlive(pid) || !existsSync(socketPath(dir, pid))) {
      if (!isAlive(pid)) removeSession(dir, pid);
      continue;
    }
    try {
      out.push(JSON.parse(readFileSync(infoPath(dir, pid), "utf8")) as SessionInfo);
    } catch {
      // A session that has not written its description yet still shows, with what is known.
      out.push({
        pid,
        name: null,
        socket: socketPath(dir, pid),
        command: [],
        cwd: "",
        clients: 0,
        startedAt: "",
        sessionId: null,
      });
    }
  }
  return out;
}

/** A socket path, a pid, or a session name, to the socket path. */
export function resolveTarget(dir: string, target: string): string {
  if (target.includes("/") || target.endsWith(".sock")) return target;
  const live = listSessions(dir);
  if (/^\d+$/.test(target)) {
    const s = live.find((x) => x.pid === Number(target));
    if (!s) throw new Error(`no live session with pid ${target} in ${dir}`);
    return s.socket;
  }
  const named = live.filter((x) => x.name === target);
  if (named.length === 0)
    throw new Error(`no live session named ${JSON.stringify(target)} in ${dir}`);
  return named[0]!.socket;
}
