/**
 * Where live sessions are found: one folder of Unix sockets, each with a description beside it
 * (`<key>.sock` + `<key>.json`). The key is the serving process's pid for the `mux` command's
 * one session, `<pid>-<n>` for each of the sessions a process serving several opens (a worker's
 * agents). The folder is private to its user; the files are 0600.
 */
import {
  chmodSync,
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
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
  /** A worker's agent: its id at the hub (absent for a `mux` session). */
  agentId?: string;
  /** A worker's agent: the id of its workspace at the hub. */
  workspaceId?: string;
}

/** A session's file stem: `<pid>` or `<pid>-<n>`. A bare pid is a key too. */
export type SessionKey = string | number;

/** `<pid>` or `<pid>-<n>`, and nothing else. */
const KEY = /^(\d+)(?:-(\d+))?$/;
/** The files of one session: its socket, its description, and a description being written. */
const SESSION_FILE = /^\.?(\d+(?:-\d+)?)\.(?:sock|json|json\.tmp)$/;
/** A description older than this process's start by more than this is a former process's. */
const CLOCK_SLACK_MS = 2_000;
/** Linux's clock ticks per second (USER_HZ), the unit of /proc/<pid>/stat's start time. */
const USER_HZ = 100;
/** The start time's field in /proc/<pid>/stat, counted after the command's closing ")". */
const STAT_STARTTIME_FIELD = 19;

/**
 * When this process started (wall clock, ms), to tell its own sessions from those a former
 * holder of its pid left behind. `process.uptime()` counts from the start of the calling
 * thread, so it is only an upper bound; Linux's /proc gives the process's own start. The
 * earlier of the two is kept: an estimate too early only spares a stale entry, one too late
 * would remove a live one.
 */
function processStartedMs(): number {
  const threadStarted = Date.now() - process.uptime() * 1000;
  try {
    const stat = readFileSync("/proc/self/stat", "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ticks = Number(fields[STAT_STARTTIME_FIELD]);
    const bootSeconds = Number(/^btime (\d+)$/m.exec(readFileSync("/proc/stat", "utf8"))?.[1]);
    const ms = bootSeconds * 1000 + (ticks * 1000) / USER_HZ;
    if (Number.isFinite(ms) && ms > 0) return Math.min(ms, threadStarted);
  } catch {
    // Not Linux.
  }
  return threadStarted;
}
const PROCESS_STARTED_MS = processStartedMs();

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

export const socketPath = (dir: string, key: SessionKey) => join(dir, `${key}.sock`);
const infoPath = (dir: string, key: SessionKey) => join(dir, `${key}.json`);
const tmpPath = (dir: string, key: SessionKey) => join(dir, `.${key}.json.tmp`);

/** The pid of a key (`<pid>` or `<pid>-<n>`). */
export function pidOfKey(key: SessionKey): number {
  const m = KEY.exec(String(key));
  if (!m) throw new Error(`not a session key: ${key}`);
  return Number(m[1]);
}

/** The next `n` this process tries in `claimKey` (its sessions so far, plus one). */
let nextIndex = 1;

/**
 * A fresh `<pid>-<n>` key for one more session of this process, claimed by creating its
 * description exclusively (so two threads of one process never share a key). The caller then
 * listens on its socket and writes the description with `writeInfo`.
 */
export function claimKey(dir: string): string {
  for (;;) {
    const key = `${process.pid}-${nextIndex++}`;
    if (existsSync(socketPath(dir, key))) continue;
    try {
      closeSync(openSync(infoPath(dir, key), "wx", 0o600));
      return key;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    }
  }
}

/** Writes the description atomically (temp file + rename), private to the user. */
export function writeInfo(dir: string, info: SessionInfo, key: SessionKey = info.pid): void {
  const tmp = tmpPath(dir, key);
  writeFileSync(tmp, JSON.stringify(info) + "\n", { mode: 0o600 });
  renameSync(tmp, infoPath(dir, key));
}

export function removeSession(dir: string, key: SessionKey): void {
  for (const p of [socketPath(dir, key), infoPath(dir, key), tmpPath(dir, key)]) {
    try {
      unlinkSync(p);
    } catch {
      // Already gone: removal is idempotent.
    }
  }
}

/** The keys in the folder, by pid then n. */
function keysIn(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const keys = new Set<string>();
  for (const n of names) {
    const m = SESSION_FILE.exec(n);
    if (m) keys.add(m[1]!);
  }
  const order = (k: string) => k.split("-").map(Number);
  return [...keys].sort((a, b) => {
    const [pa, na = 0] = order(a);
    const [pb, nb = 0] = order(b);
    return pa! - pb! || na - nb;
  });
}

function readInfo(dir: string, key: string): SessionInfo | null {
  try {
    return JSON.parse(readFileSync(infoPath(dir, key), "utf8")) as SessionInfo;
  } catch {
    return null;
  }
}

/**
 * The session's process is gone. A key with this process's own pid is stale when its
 * description is older than this process: a former holder of the pid left it (a container's
 * pid 1 after a restart, say).
 */
function isStale(dir: string, key: string): boolean {
  const pid = pidOfKey(key);
  if (!isAlive(pid)) return true;
  if (pid !== process.pid) return false;
  const started = Date.parse(readInfo(dir, key)?.startedAt ?? "");
  return started < PROCESS_STARTED_MS - CLOCK_SLACK_MS;
}

/** Removes the sockets and descriptions of processes that are gone. */
export function removeStale(dir: string): void {
  for (const key of keysIn(dir)) if (isStale(dir, key)) removeSession(dir, key);
}

/** Live sessions, by pid then key; stale entries are removed on the way. */
export function listSessions(dir: string): SessionInfo[] {
  const out: SessionInfo[] = [];
  for (const key of keysIn(dir)) {
    if (isStale(dir, key)) {
      removeSession(dir, key);
      continue;
    }
    // Not listening yet (or a description still being claimed): not a session to join.
    if (!existsSync(socketPath(dir, key))) continue;
    // A session that has not written its description yet still shows, with what is known.
    out.push(
      readInfo(dir, key) ?? {
        pid: pidOfKey(key),
        name: null,
        socket: socketPath(dir, key),
        command: [],
        cwd: "",
        clients: 0,
        startedAt: "",
        sessionId: null,
      },
    );
  }
  return out;
}

/** How to name a session on the command line: its name, else its socket path. */
const handle = (s: SessionInfo) => (s.name !== null ? JSON.stringify(s.name) : s.socket);

/**
 * A socket path, a pid, a key (`<pid>-<n>`) or a session name, to the socket path. A pid that
 * serves several sessions is ambiguous: the error lists what to attach by instead.
 */
export function resolveTarget(dir: string, target: string): string {
  if (target.includes("/") || target.endsWith(".sock")) return target;
  const live = listSessions(dir);
  if (/^\d+$/.test(target)) {
    const ofPid = live.filter((x) => x.pid === Number(target));
    if (ofPid.length === 0) throw new Error(`no live session with pid ${target} in ${dir}`);
    if (ofPid.length > 1) {
      throw new Error(
        `process ${target} serves ${ofPid.length} sessions in ${dir}; attach to one by name ` +
          `or socket path: ${ofPid.map(handle).join(", ")}`,
      );
    }
    return ofPid[0]!.socket;
  }
  const named = live.filter((x) => x.name === target);
  if (named.length > 0) return named[0]!.socket;
  if (KEY.test(target)) {
    const keyed = live.find((x) => x.socket === socketPath(dir, target));
    if (keyed) return keyed.socket;
  }
  throw new Error(`no live session named ${JSON.stringify(target)} in ${dir}`);
}
