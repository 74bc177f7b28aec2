/**
 * The socket folder with several sessions per process: keys `<pid>` and `<pid>-<n>`, claiming,
 * listing, stale removal (a dead pid, or a former holder of this process's pid), and attach
 * targets (a pid serving several sessions is ambiguous).
 */
import { afterEach, expect, test } from "bun:test";
import { existsSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Cleanups, deadPid } from "../testing/procs.ts";
import {
  claimKey,
  listSessions,
  pidOfKey,
  prepareSocketDir,
  removeSession,
  removeStale,
  resolveTarget,
  socketPath,
  writeInfo,
  type SessionInfo,
} from "./registry.ts";

const cleanups = new Cleanups();
afterEach(() => cleanups.runAll());

/** An hour: long before this test process started. */
const LONG_AGO_MS = 60 * 60 * 1000;

function folder(): string {
  const dir = join(cleanups.scratch("registry"), "switchboard");
  prepareSocketDir(dir);
  return dir;
}

function info(dir: string, key: string | number, more: Partial<SessionInfo> = {}): SessionInfo {
  return {
    pid: pidOfKey(key),
    name: null,
    socket: socketPath(dir, key),
    command: ["agent"],
    cwd: "/",
    clients: 1,
    startedAt: new Date().toISOString(),
    sessionId: null,
    ...more,
  };
}

/** A session as a serving process leaves it: its socket (a plain file will do) and entry. */
function session(dir: string, key: string | number, more: Partial<SessionInfo> = {}) {
  const s = info(dir, key, more);
  writeFileSync(s.socket, "");
  writeInfo(dir, s, key);
  return s;
}

test("claimKey: fresh <pid>-<n> keys, claimed by an empty private entry, skipping taken ones", () => {
  const dir = folder();
  const first = claimKey(dir);
  const m = new RegExp(`^${process.pid}-(\\d+)$`).exec(first);
  expect(m).not.toBeNull();
  const n = Number(m![1]);
  expect(statSync(join(dir, `${first}.json`)).mode & 0o777).toBe(0o600);
  expect(existsSync(socketPath(dir, first))).toBe(false);
  // The next two are taken (by a description, by a socket): the claim goes past them.
  writeFileSync(join(dir, `${process.pid}-${n + 1}.json`), "{}");
  writeFileSync(socketPath(dir, `${process.pid}-${n + 2}`), "");
  expect(claimKey(dir)).toBe(`${process.pid}-${n + 3}`);
  expect(pidOfKey(first)).toBe(process.pid);
  expect(pidOfKey(process.pid)).toBe(process.pid);
  expect(() => pidOfKey("12-x")).toThrow("not a session key");
});

test("listSessions: every session of a process, by key; a claimed key without socket is not listed", () => {
  const dir = folder();
  const mux = session(dir, process.pid, { name: "editor" });
  const k1 = claimKey(dir);
  const k2 = claimKey(dir);
  const a = session(dir, k1, { name: "fake", agentId: "ag1", workspaceId: "ws1" });
  const b = session(dir, k2, { name: "fake-2", agentId: "ag2" });
  const pending = claimKey(dir);
  expect(existsSync(join(dir, `${pending}.json`))).toBe(true);
  expect(listSessions(dir)).toEqual([mux, a, b]);
  const entries = readdirSync(dir).filter((f) => f.endsWith(".json"));
  expect(entries.length).toBe(4);
  for (const f of entries) expect(statSync(join(dir, f)).mode & 0o777).toBe(0o600);
  expect(statSync(dir).mode & 0o777).toBe(0o700);

  // A session whose entry cannot be read still shows, with what its key says.
  writeFileSync(join(dir, `${pending}.json`), "{not json");
  writeFileSync(socketPath(dir, pending), "");
  expect(listSessions(dir).at(-1)).toEqual({
    pid: process.pid,
    name: null,
    socket: socketPath(dir, pending),
    command: [],
    cwd: "",
    clients: 0,
    startedAt: "",
    sessionId: null,
  });

  removeSession(dir, k1);
  expect(listSessions(dir).map((s) => s.name)).toEqual(["editor", "fake-2", null]);
  expect(existsSync(socketPath(dir, k1))).toBe(false);
  expect(existsSync(join(dir, `${k1}.json`))).toBe(false);
});

test("removeStale: a dead pid's sessions and half-written entries go; live ones stay", async () => {
  const dir = folder();
  const dead = await deadPid();
  session(dir, dead);
  session(dir, `${dead}-1`);
  session(dir, `${dead}-2`);
  writeFileSync(join(dir, `.${dead}-3.json.tmp`), "{");
  const live = session(dir, claimKey(dir), { name: "live" });
  // Not a session's file: left alone.
  writeFileSync(join(dir, "notes.txt"), "");

  removeStale(dir);
  const key = keyOf(live);
  expect(readdirSync(dir).sort()).toEqual([`${key}.json`, `${key}.sock`, "notes.txt"]);
  expect(listSessions(dir)).toEqual([live]);
});

test("an entry with this process's pid but older than this process is a former holder's: removed", () => {
  const dir = folder();
  const old = new Date(Date.now() - LONG_AGO_MS).toISOString();
  const former = session(dir, `${process.pid}-9000`, { name: "former", startedAt: old });
  const formerMux = session(dir, process.pid, { name: "former-mux", startedAt: old });
  const current = session(dir, claimKey(dir), { name: "current" });
  expect(listSessions(dir)).toEqual([current]);
  expect(existsSync(former.socket)).toBe(false);
  expect(existsSync(formerMux.socket)).toBe(false);
  expect(existsSync(current.socket)).toBe(true);
});

test("resolveTarget: path, name, key; a pid with several sessions lists what to use instead", async () => {
  const dir = folder();
  const a = session(dir, claimKey(dir), { name: "alpha" });
  const unnamed = session(dir, claimKey(dir));
  const b = session(dir, claimKey(dir), { name: "beta" });

  expect(resolveTarget(dir, "/some/where.sock")).toBe("/some/where.sock");
  expect(resolveTarget(dir, "alpha")).toBe(a.socket);
  expect(resolveTarget(dir, "beta")).toBe(b.socket);
  const unnamedKey = keyOf(unnamed);
  expect(resolveTarget(dir, unnamedKey)).toBe(unnamed.socket);

  const pid = String(process.pid);
  expect(() => resolveTarget(dir, pid)).toThrow(
    `process ${pid} serves 3 sessions in ${dir}; attach to one by name or socket path: ` +
      `"alpha", ${unnamed.socket}, "beta"`,
  );
  expect(() => resolveTarget(dir, "gamma")).toThrow(`no live session named "gamma" in ${dir}`);
  expect(() => resolveTarget(dir, `${pid}-999999`)).toThrow(
    `no live session named "${pid}-999999" in ${dir}`,
  );
  const dead = await deadPid();
  expect(() => resolveTarget(dir, String(dead))).toThrow(`no live session with pid ${dead} in`);

  // With one session left, the pid names it.
  removeSession(dir, unnamedKey);
  removeSession(dir, keyOf(b));
  expect(resolveTarget(dir, pid)).toBe(a.socket);
});

/** The key of a session, from its socket's file name. */
function keyOf(s: SessionInfo): string {
  return s.socket.slice(s.socket.lastIndexOf("/") + 1, -".sock".length);
}
