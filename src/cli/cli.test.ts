/**
 * The command line on real processes: `worker.ts mux | attach | ls`, their help and errors, the
 * socket folder's rules, signals, and the same journeys on the binary `bun build --compile` makes.
 */
import type * as acp from "@agentclientprotocol/sdk";
import { afterEach, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import pkg from "../../package.json" with { type: "json" };
import { compiledWorker } from "../testing/binary.ts";
import { BUN, FAKE_AGENT, spawnClient, WORKER, type TestClient } from "../testing/clients.ts";
import { script, startMux, type MuxRun, type MuxRunOptions } from "../testing/harness.ts";
import {
  childPids,
  Cleanups,
  cmdline,
  deadPid,
  isRunning,
  killIfRunning,
  runToEnd,
  waitFor,
} from "../testing/procs.ts";
import type { SessionInfo } from "../mux/registry.ts";

const cleanups = new Cleanups();
afterEach(() => cleanups.runAll());

const scratch = (prefix: string) => cleanups.scratch(prefix);

const SOURCE = [BUN, WORKER];

interface Session {
  run: MuxRun;
  muxPid: number;
  sessionId: string;
  agentInfo: unknown;
  json: string;
}

/** A mux with an SDK primary that has initialized and made the session. */
async function startSession(opts: MuxRunOptions = {}): Promise<Session> {
  const run = await startMux({ ...opts, bare: true });
  cleanups.add(() => run.cleanup());
  const init = await run.primary.conn.agent.request("initialize", {
    protocolVersion: 1,
    clientCapabilities: {},
    clientInfo: { name: "editor", version: "1" },
  });
  const { sessionId } = await run.primary.conn.agent.request("session/new", {
    cwd: run.cwd,
    mcpServers: [],
  });
  const muxPid = run.primary.proc.pid;
  return {
    run,
    muxPid,
    sessionId,
    agentInfo: init.agentInfo,
    json: join(dirname(run.socket), `${muxPid}.json`),
  };
}

function say(c: TestClient, sessionId: string, ...lines: string[]): Promise<acp.PromptResponse> {
  return c.conn.agent.request("session/prompt", { sessionId, prompt: script(...lines) });
}

/** The fake agent the mux started. */
function agentPidOf(muxPid: number): number {
  const pids = childPids(muxPid).filter((p) => cmdline(p).includes("fake-agent"));
  expect(pids.length).toBe(1);
  const pid = pids[0]!;
  cleanups.add(() => killIfRunning(pid));
  return pid;
}

async function ls(env: Record<string, string>, launcher = SOURCE): Promise<SessionInfo[]> {
  const r = await runToEnd([...launcher, "ls", "--json"], { env });
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as SessionInfo[];
}

async function clientsListed(env: Record<string, string>, pid: number, launcher = SOURCE) {
  return (await ls(env, launcher)).find((s) => s.pid === pid)?.clients;
}

async function waitForClients(
  env: Record<string, string>,
  pid: number,
  n: number,
  launcher = SOURCE,
) {
  const deadline = Date.now() + 20_000;
  let last: number | undefined;
  while ((last = await clientsListed(env, pid, launcher)) !== n) {
    if (Date.now() > deadline) throw new Error(`ls shows ${last} clients, expected ${n}`);
    await Bun.sleep(50);
  }
}

/** An SDK client whose agent is `<launcher> attach <target>`. */
function attachClient(s: Session, target: string, launcher = SOURCE, name = "attached") {
  const c = spawnClient([...launcher, "attach", target], { name, env: s.run.env });
  cleanups.add(() => c.close());
  return c;
}

/** History before, join through attach, prompt from it; the primary sees the prompt. */
async function attachJourney(s: Session, target: string, launcher = SOURCE) {
  await say(s.run.primary, s.sessionId, "say before attach");
  const c = attachClient(s, target, launcher);
  const init = await c.conn.agent.request("initialize", {
    protocolVersion: 1,
    clientCapabilities: {},
    clientInfo: { name: "attached", version: "1" },
  });
  expect(init.agentInfo).toEqual(s.agentInfo as typeof init.agentInfo);
  expect(init.agentInfo?.name).toBe("fake-agent");
  const joined = await c.conn.agent.request("session/new", { cwd: s.run.cwd, mcpServers: [] });
  expect(joined.sessionId).toBe(s.sessionId);
  await c.until((x) => x.texts().includes("before attach"), "history after session/new");
  expect(c.texts("user_message_chunk")).toEqual(["say before attach"]);

  const r = await say(c, s.sessionId, "say from the attached client");
  expect(r.stopReason).toBe("end_turn");
  expect(c.texts()).toContain("from the attached client");
  await s.run.primary.until(
    (p) => p.texts("user_message_chunk").includes("say from the attached client"),
    "the attached client's prompt at the primary",
  );
  await s.run.primary.until(
    (p) => p.texts().includes("from the attached client"),
    "the answer at the primary",
  );
  return c;
}

describe("ls", () => {
  test("--json lists a live session; the client count follows joins and leaves", async () => {
    const before = Date.now();
    const s = await startSession({ flags: ["--name", "alpha"] });
    const [info, ...others] = await ls(s.run.env);
    expect(others).toEqual([]);
    expect(info).toMatchObject({
      pid: s.muxPid,
      name: "alpha",
      socket: s.run.socket,
      command: FAKE_AGENT,
      cwd: s.run.cwd,
      clients: 1,
    });
    // Known as soon as the session opens, before anyone else joins.
    expect(info!.sessionId).toBe(s.sessionId);
    expect(Object.keys(info!).sort()).toEqual(
      ["clients", "command", "cwd", "name", "pid", "sessionId", "socket", "startedAt"].sort(),
    );
    expect(typeof info!.startedAt).toBe("string");
    const started = Date.parse(info!.startedAt);
    expect(info!.startedAt).toBe(new Date(started).toISOString());
    expect(started).toBeGreaterThanOrEqual(before - 1000);
    expect(started).toBeLessThanOrEqual(Date.now());

    const b = await s.run.join({ name: "b" });
    await waitForClients(s.run.env, s.muxPid, 2);
    expect((await ls(s.run.env))[0]!.sessionId).toBe(s.sessionId);
    const c = attachClient(s, s.run.socket);
    await c.conn.agent.request("initialize", { protocolVersion: 1, clientCapabilities: {} });
    await waitForClients(s.run.env, s.muxPid, 3);
    await b.close();
    await waitForClients(s.run.env, s.muxPid, 2);
    await c.close();
    await waitForClients(s.run.env, s.muxPid, 1);
  });

  test("the table shows the same fields", async () => {
    const s = await startSession({ flags: ["--name", "beta"] });
    const [info] = await ls(s.run.env);
    const r = await runToEnd([...SOURCE, "ls"], { env: s.run.env });
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines.length).toBe(2);
    expect(lines[0]!.split(/\s+/)).toEqual([
      "PID",
      "NAME",
      "CLIENTS",
      "STARTED",
      "CWD",
      "COMMAND",
      "SOCKET",
    ]);
    // Columns line up under their headers.
    const at = (h: string) => lines[0]!.indexOf(h);
    const row = lines[1]!;
    expect(row.slice(at("PID")).split(/\s+/)[0]).toBe(String(s.muxPid));
    expect(row.slice(at("NAME")).split(/\s+/)[0]).toBe("beta");
    expect(row.slice(at("CLIENTS")).split(/\s+/)[0]).toBe("1");
    expect(row.slice(at("STARTED")).split(/\s+/)[0]).toBe(info!.startedAt);
    expect(row.slice(at("CWD")).split(/\s+/)[0]).toBe(s.run.cwd);
    expect(row.slice(at("COMMAND"), at("SOCKET")).trim()).toBe(FAKE_AGENT.join(" "));
    expect(row.slice(at("SOCKET"))).toBe(s.run.socket);
  });

  test("an empty folder says so", async () => {
    const dir = scratch("empty");
    const r = await runToEnd([...SOURCE, "ls"], { env: { SWITCHBOARD_SOCKET_DIR: dir } });
    expect(r).toEqual({ code: 0, stdout: `no live sessions in ${dir}\n`, stderr: "" });
    expect(await ls({ SWITCHBOARD_SOCKET_DIR: dir })).toEqual([]);
  });

  test("stale sockets of dead processes are removed; live ones stay", async () => {
    const s = await startSession();
    const dir = s.run.dir;

    // 1. A real mux killed with SIGKILL: its files stay behind, its agent ends with its stdin.
    // (First: a mux starting up would remove the others.)
    const killed = await startMux({ env: { SWITCHBOARD_SOCKET_DIR: dir } });
    cleanups.add(() => killed.cleanup());
    const killedPid = killed.primary.proc.pid;
    const killedAgent = agentPidOf(killedPid);
    killed.primary.proc.kill("SIGKILL");
    await killed.primary.proc.exited;
    expect(existsSync(killed.socket)).toBe(true);
    await waitFor(() => !isRunning(killedAgent), "the orphaned agent to end");

    // 2. A pair whose pid does not exist, and two of the several sessions such a process (a
    // worker) served, one with its description half written.
    const dead = await deadPid();
    expect(isRunning(dead)).toBe(false);
    for (const key of [dead, `${dead}-1`, `${dead}-2`]) {
      writeFileSync(join(dir, `${key}.sock`), "");
      writeFileSync(join(dir, `${key}.json`), JSON.stringify({ pid: dead }), { mode: 0o600 });
    }
    writeFileSync(join(dir, `.${dead}-2.json.tmp`), "{");

    // 3. A real listening socket whose process was killed before it could remove it.
    const listener = Bun.spawn({
      cmd: [
        BUN,
        "-e",
        `const d = process.env.DIR;
         Bun.listen({ unix: d + "/" + process.pid + ".sock", socket: { data() {} } });
         require("node:fs").writeFileSync(d + "/" + process.pid + ".json", "{}");
         console.log("ready");
         setInterval(() => {}, 1000);`,
      ],
      env: { ...process.env, DIR: dir },
      stdout: "pipe",
    });
    cleanups.add(() => listener.kill("SIGKILL"));
    const reader = listener.stdout.getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toContain("ready");
    reader.releaseLock();
    listener.kill("SIGKILL");
    await listener.exited;
    expect(statSync(join(dir, `${listener.pid}.sock`)).isSocket()).toBe(true);

    const names = (key: number | string) => [`${key}.json`, `${key}.sock`];
    expect(readdirSync(dir).sort()).toEqual(
      [
        ...names(dead),
        ...names(`${dead}-1`),
        ...names(`${dead}-2`),
        `.${dead}-2.json.tmp`,
        ...names(listener.pid),
        ...names(killedPid),
        ...names(s.muxPid),
      ].sort(),
    );
    const listed = await ls(s.run.env);
    expect(listed.map((x) => x.pid)).toEqual([s.muxPid]);
    expect(readdirSync(dir).sort()).toEqual(names(s.muxPid).sort());

    // The text form prunes too.
    writeFileSync(join(dir, `${dead}.sock`), "");
    writeFileSync(join(dir, `${dead}-3.sock`), "");
    const r = await runToEnd([...SOURCE, "ls"], { env: s.run.env });
    expect(r.stdout).toContain(s.run.socket);
    expect(existsSync(join(dir, `${dead}.sock`))).toBe(false);
    expect(existsSync(join(dir, `${dead}-3.sock`))).toBe(false);
  });

  test("a mux starting up removes stale pairs too", async () => {
    const dir = scratch("stale");
    const dead = await deadPid();
    writeFileSync(join(dir, `${dead}.sock`), "");
    writeFileSync(join(dir, `${dead}.json`), "{}");
    const s = await startSession({ env: { SWITCHBOARD_SOCKET_DIR: dir } });
    expect(readdirSync(dir).sort()).toEqual([`${s.muxPid}.json`, `${s.muxPid}.sock`]);
  });
});

describe("attach", () => {
  test("by socket path: history, prompt, and the primary sees it", async () => {
    const s = await startSession();
    await attachJourney(s, s.run.socket);
  });

  test("by pid", async () => {
    const s = await startSession();
    await attachJourney(s, String(s.muxPid));
  });

  test("by name", async () => {
    const s = await startSession({ flags: ["--name", "my-session"] });
    await attachJourney(s, "my-session");
  });

  test("a socket client and an attached client see the same session", async () => {
    const s = await startSession({ flags: ["--name", "shared"] });
    const b = await s.run.join({ name: "b" });
    const c = await attachJourney(s, "shared");
    await b.until((x) => x.texts().includes("from the attached client"), "b saw the answer");
    const r = await say(b, s.sessionId, "say from b");
    expect(r.stopReason).toBe("end_turn");
    await c.until((x) => x.texts("user_message_chunk").includes("say from b"), "c saw b's prompt");
    await c.until((x) => x.texts().includes("from b"), "c saw b's answer");
  });

  test("unknown name, unknown pid, missing socket: a clear error and a non-zero exit", async () => {
    const s = await startSession({ flags: ["--name", "known"] });
    const env = s.run.env;
    const dead = await deadPid();
    const cases: [string, RegExp][] = [
      ["unknown", /no live session named "unknown" in /],
      [String(dead), new RegExp(`no live session with pid ${dead} in `)],
      // A live process that is not a session.
      [String(process.pid), new RegExp(`no live session with pid ${process.pid} in `)],
      [join(s.run.dir, "missing.sock"), /cannot connect to .*missing\.sock/],
    ];
    for (const [target, message] of cases) {
      const r = await runToEnd([...SOURCE, "attach", target], { env, stdin: "" });
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(message);
      expect(r.stdout).toBe("");
    }
    const none = await runToEnd([...SOURCE, "attach"], { env });
    expect(none.code).toBe(2);
    expect(none.stderr).toContain("attach needs a socket path, pid or session name");
  });

  test("the attach process ends when its session ends, though the editor keeps stdin open", async () => {
    const s = await startSession();
    const c = await attachJourney(s, s.run.socket);
    process.kill(s.muxPid, "SIGTERM");
    expect(await s.run.primary.proc.exited).toBe(0);
    // An editor learns that its agent is gone from the process ending (and stdout closing).
    const code = await Promise.race([c.proc.exited, Bun.sleep(10_000).then(() => "still running")]);
    expect(code).toBe(0);
    await c.conn.closed;
  });

  test("the attach process ends when the editor closes stdin; the session goes on", async () => {
    const s = await startSession();
    const c = await attachJourney(s, s.run.socket);
    await waitForClients(s.run.env, s.muxPid, 2);
    await c.leave();
    expect(await c.proc.exited).toBe(0);
    await waitForClients(s.run.env, s.muxPid, 1);
    expect((await say(s.run.primary, s.sessionId, "say still on")).stopReason).toBe("end_turn");
  });

  test("an agent crash reaches the attached editor as the exit notice, then the process ends", async () => {
    const s = await startSession();
    const c = await attachJourney(s, s.run.socket);
    const err = await say(c, s.sessionId, "crash 7").then(
      () => null,
      (e: { message?: string }) => e,
    );
    expect(err?.message).toBeDefined();
    await c.until((x) => x.ext.some((e) => e.method === "_switchboard/agent_exited"), "notice");
    expect(c.ext.find((e) => e.method === "_switchboard/agent_exited")!.params).toMatchObject({
      code: 7,
    });
    expect(await s.run.primary.proc.exited).toBe(7);
    const code = await Promise.race([c.proc.exited, Bun.sleep(10_000).then(() => "still running")]);
    expect(code).toBe(0);
  });
});

describe("mux", () => {
  test("a second mux with a live session's name is refused", async () => {
    const s = await startSession({ flags: ["--name", "dup"] });
    const r = await runToEnd([...SOURCE, "mux", "--name", "dup", "--", ...FAKE_AGENT], {
      env: s.run.env,
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('a live session is already named "dup"');
    expect(readdirSync(s.run.dir).sort()).toEqual([`${s.muxPid}.json`, `${s.muxPid}.sock`]);
    expect((await ls(s.run.env)).map((x) => x.name)).toEqual(["dup"]);

    // Once that session is gone, the name is free.
    process.kill(s.muxPid, "SIGTERM");
    await s.run.primary.proc.exited;
    const again = await startSession({
      flags: ["--name", "dup"],
      env: { SWITCHBOARD_SOCKET_DIR: s.run.dir },
    });
    expect((await ls(s.run.env)).map((x) => [x.pid, x.name])).toEqual([[again.muxPid, "dup"]]);
  });

  test("the socket folder is made 0700; the socket and its description are 0600", async () => {
    const dir = join(scratch("perm"), "nested", "switchboard");
    const s = await startSession({ env: { SWITCHBOARD_SOCKET_DIR: dir } });
    expect(s.run.socket).toBe(join(dir, `${s.muxPid}.sock`));
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(s.run.socket).isSocket()).toBe(true);
    expect(statSync(s.run.socket).mode & 0o777).toBe(0o600);
    expect(statSync(s.json).mode & 0o777).toBe(0o600);
    // Still 0600 after it is rewritten (a client joined).
    await s.run.join({ name: "b" });
    await waitForClients(s.run.env, s.muxPid, 2);
    expect(statSync(s.json).mode & 0o777).toBe(0o600);
  });

  test("an existing 0755 socket folder is tightened to 0700", async () => {
    const dir = join(scratch("perm"), "switchboard");
    mkdirSync(dir);
    chmodSync(dir, 0o755);
    const s = await startSession({ env: { SWITCHBOARD_SOCKET_DIR: dir } });
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(s.run.socket).mode & 0o777).toBe(0o600);
  });

  test("without $SWITCHBOARD_SOCKET_DIR: $XDG_RUNTIME_DIR/switchboard, else $TMPDIR/switchboard", async () => {
    const xdg = scratch("xdg");
    const env1 = { SWITCHBOARD_SOCKET_DIR: "", XDG_RUNTIME_DIR: xdg };
    const s1 = await startSession({ env: env1 });
    expect(s1.run.socket).toBe(join(xdg, "switchboard", `${s1.muxPid}.sock`));
    expect(statSync(join(xdg, "switchboard")).mode & 0o777).toBe(0o700);
    expect((await ls(env1)).map((x) => x.pid)).toEqual([s1.muxPid]);

    const tmp = scratch("tmpdir");
    const env2 = { SWITCHBOARD_SOCKET_DIR: "", XDG_RUNTIME_DIR: "", TMPDIR: tmp };
    const s2 = await startSession({ env: env2 });
    expect(s2.run.socket).toBe(join(tmp, "switchboard", `${s2.muxPid}.sock`));
    expect((await ls(env2)).map((x) => x.pid)).toEqual([s2.muxPid]);
  });

  for (const sig of ["SIGTERM", "SIGINT", "SIGHUP"] as const) {
    test(`${sig}: socket and description removed, agent gone, clients disconnected, exit 0`, async () => {
      const s = await startSession();
      const b = await s.run.join({ name: "b" });
      const agentPid = agentPidOf(s.muxPid);
      expect(isRunning(agentPid)).toBe(true);
      expect(existsSync(s.run.socket)).toBe(true);
      expect(existsSync(s.json)).toBe(true);

      process.kill(s.muxPid, sig);
      expect(await s.run.primary.proc.exited).toBe(0);
      expect(existsSync(s.run.socket)).toBe(false);
      expect(existsSync(s.json)).toBe(false);
      expect(readdirSync(s.run.dir)).toEqual([]);
      await waitFor(() => !isRunning(agentPid), "the agent to be gone", 10_000);
      await b.conn.closed;
    });
  }

  test("an agent command that is not found: a clear error, exit 1, no socket left", async () => {
    for (const agent of ["switchboard-no-such-agent", "/nonexistent/switchboard-agent"]) {
      const dir = scratch("sock");
      const r = await runToEnd([...SOURCE, "mux", "--", agent, "--flag"], {
        env: { SWITCHBOARD_SOCKET_DIR: dir },
        stdin: "",
      });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`cannot start the agent "${agent} --flag"`);
      expect(r.stderr).not.toContain("socket ");
      expect(readdirSync(dir)).toEqual([]);
    }
  });

  test("an agent that exits at once: its exit code, no socket left", async () => {
    const dir = scratch("sock");
    const proc = Bun.spawn({
      cmd: [
        ...SOURCE,
        "mux",
        "--",
        BUN,
        "-e",
        "console.error('no model configured'); process.exit(5)",
      ],
      env: { ...process.env, SWITCHBOARD_SOCKET_DIR: dir },
      // The editor keeps its end open: only the agent's exit ends the mux.
      stdin: "pipe",
      stdout: "pipe",
      stderr: "pipe",
    });
    cleanups.add(() => proc.kill("SIGKILL"));
    const [code, stderr] = await Promise.all([proc.exited, new Response(proc.stderr).text()]);
    expect(code).toBe(5);
    expect(stderr).toContain("no model configured");
    expect(stderr).toContain("agent exited (code 5)");
    expect(readdirSync(dir)).toEqual([]);
  });

  test("bad flags are usage errors (exit 2)", async () => {
    const dir = scratch("sock");
    const env = { SWITCHBOARD_SOCKET_DIR: dir };
    for (const [args, message] of [
      [["mux"], "mux needs the agent command after --"],
      [["mux", "--history-bytes", "lots", "--", ...FAKE_AGENT], "--history-bytes needs a positive"],
      [["mux", "--client-timeout-ms", "0", "--", ...FAKE_AGENT], "--client-timeout-ms needs a"],
      [["mux", "--name"], "--name needs a value"],
    ] as const) {
      const r = await runToEnd([...SOURCE, ...args], { env });
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(message);
      expect(r.stderr).toContain("Usage: switchboard-worker mux");
    }
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe("help and version", () => {
  for (const [args, first] of [
    [["--help"], "Usage: switchboard-worker <command>"],
    [["-h"], "Usage: switchboard-worker <command>"],
    [["help"], "Usage: switchboard-worker <command>"],
    [["mux", "--help"], "Usage: switchboard-worker mux "],
    [["mux", "-h"], "Usage: switchboard-worker mux "],
    [["attach", "--help"], "Usage: switchboard-worker attach "],
    [["ls", "--help"], "Usage: switchboard-worker ls "],
  ] as const) {
    test(`${args.join(" ")} prints usage, exit 0`, async () => {
      const r = await runToEnd([...SOURCE, ...args]);
      expect(r.code).toBe(0);
      expect(r.stdout).toStartWith(first);
      expect(r.stderr).toBe("");
    });
  }

  test("the top-level usage names every command", async () => {
    const r = await runToEnd([...SOURCE, "--help"]);
    for (const c of ["mux", "attach", "ls"]) expect(r.stdout).toMatch(new RegExp(`^  ${c} `, "m"));
  });

  test("--help after -- goes to the agent, not to mux", async () => {
    const dir = scratch("sock");
    const r = await runToEnd([...SOURCE, "mux", "--", "switchboard-no-such-agent", "--help"], {
      env: { SWITCHBOARD_SOCKET_DIR: dir },
      stdin: "",
    });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain('cannot start the agent "switchboard-no-such-agent --help"');
  });

  test("--version and -v print package.json's version", async () => {
    for (const flag of ["--version", "-v"]) {
      const r = await runToEnd([...SOURCE, flag]);
      expect(r).toEqual({ code: 0, stdout: `${pkg.version}\n`, stderr: "" });
    }
  });

  test("an unknown command exits 2 with the usage", async () => {
    const r = await runToEnd([...SOURCE, "frobnicate"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown command "frobnicate"');
    expect(r.stderr).toContain("Usage: switchboard-worker <command>");
  });

  test("no command at all prints the usage", async () => {
    const r = await runToEnd([...SOURCE]);
    expect(r.code).toBe(0);
    expect(r.stdout).toStartWith("Usage: switchboard-worker <command>");
  });
});

describe("the compiled binary", () => {
  let binary = "";
  beforeAll(async () => {
    binary = await compiledWorker();
  }, 120_000);

  test("--version, --help, unknown command", async () => {
    expect(await runToEnd([binary, "--version"])).toEqual({
      code: 0,
      stdout: `${pkg.version}\n`,
      stderr: "",
    });
    const help = await runToEnd([binary, "mux", "--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toStartWith("Usage: switchboard-worker mux ");
    const bad = await runToEnd([binary, "frobnicate"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('unknown command "frobnicate"');
  });

  test("mux, attach and ls: listing, history, prompt", async () => {
    const s = await startSession({ binary, flags: ["--name", "compiled"] });
    const launcher = [binary];
    const [info] = await ls(s.run.env, launcher);
    expect(info).toMatchObject({
      pid: s.muxPid,
      name: "compiled",
      socket: s.run.socket,
      command: FAKE_AGENT,
      cwd: s.run.cwd,
      clients: 1,
    });
    expect(cmdline(s.muxPid)).toStartWith(binary);
    expect(statSync(s.run.socket).mode & 0o777).toBe(0o600);

    const c = await attachJourney(s, "compiled", launcher);
    await waitForClients(s.run.env, s.muxPid, 2, launcher);
    const text = await runToEnd([binary, "ls"], { env: s.run.env });
    expect(text.stdout).toContain(s.run.socket);
    await c.close();
    await waitForClients(s.run.env, s.muxPid, 1, launcher);

    const agentPid = agentPidOf(s.muxPid);
    process.kill(s.muxPid, "SIGTERM");
    expect(await s.run.primary.proc.exited).toBe(0);
    expect(readdirSync(s.run.dir)).toEqual([]);
    await waitFor(() => !isRunning(agentPid), "the agent to be gone", 10_000);
  });

  test("attach by pid and by socket path", async () => {
    const s = await startSession({ binary });
    await attachJourney(s, String(s.muxPid), [binary]);
    const c2 = attachClient(s, s.run.socket, [binary], "second");
    await c2.conn.agent.request("initialize", { protocolVersion: 1, clientCapabilities: {} });
    const j = await c2.conn.agent.request("session/new", { cwd: s.run.cwd, mcpServers: [] });
    expect(j.sessionId).toBe(s.sessionId);
    await c2.until((x) => x.texts().includes("from the attached client"), "history via binary");
  });
});
