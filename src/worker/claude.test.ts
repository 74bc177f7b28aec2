/**
 * The built-in catalog entries, and the REAL Claude Code ACP adapter driven through AcpAgent,
 * offline: its API address is a closed loopback port, its HOME a scratch folder, and Claude
 * Code's nonessential traffic (telemetry, error reports, auto-update) is switched off. Nothing is
 * faked: initialize, session/new, a prompt that cannot reach the API until cancelled, and a
 * resume through session/load. This machine runs as root; so must these tests.
 */
import { afterEach, expect, test } from "bun:test";
import { chmodSync, existsSync, realpathSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { AgentKind, EventKind } from "../gen/switchboard/v1/common_pb.ts";
import { offlineClaudeEnv } from "../testing/claude-env.ts";
import { Cleanups, waitFor } from "../testing/procs.ts";
import { AcpAgent } from "./acp-agent.ts";
import { defaultCatalog, findClaudeAdapter, ROOT_NOTICE, ROOT_SANDBOX_NOTICE } from "./claude.ts";

const cleanups = new Cleanups();
afterEach(() => cleanups.runAll());

/** The real adapter starts in about 1.5 s and stops in about 2 s; allow a slow machine. */
const REAL_TIMEOUT_MS = 60_000;
const ROOT = process.geteuid?.() === 0;

// ---------------------------------------------------------------- the built-in entries

/** A folder for PATH holding executables of these names. */
function binDir(...names: string[]): string {
  const dir = cleanups.scratch("claude-bin");
  for (const name of names) {
    writeFileSync(join(dir, name), "#!/bin/sh\nexit 0\n");
    chmodSync(join(dir, name), 0o755);
  }
  return dir;
}

test("findClaudeAdapter runs this package's adapter under node", () => {
  const argv = findClaudeAdapter()!;
  expect(argv).toHaveLength(2);
  expect(argv[0]).toBe(Bun.which("node")!);
  expect(argv[1]).toEndWith("/node_modules/@zed-industries/claude-agent-acp/dist/index.js");
  expect(existsSync(argv[1]!)).toBe(true);
});

test("findClaudeAdapter falls back to Bun when node is not on PATH", () => {
  const argv = findClaudeAdapter({ PATH: binDir() })!;
  expect(argv[0]).toBe(process.execPath);
  expect(argv[1]).toEndWith("/claude-agent-acp/dist/index.js");
});

test("gemini and codex are built in only when their commands are on PATH", () => {
  const node = dirname(Bun.which("node")!);
  const none = defaultCatalog({ PATH: `${binDir()}:${node}` }, 1000);
  expect(none.map((e) => e.id)).toEqual(["claude"]);

  const dir = binDir("gemini", "codex-acp");
  const all = defaultCatalog({ PATH: `${dir}:${node}` }, 1000);
  expect(all.map((e) => e.id)).toEqual(["claude", "gemini", "codex"]);
  const [claude, gemini, codex] = all;
  expect(claude!.command).toEqual(findClaudeAdapter()!);
  expect(gemini!.command).toEqual([join(dir, "gemini"), "--experimental-acp"]);
  expect(codex!.command).toEqual([join(dir, "codex-acp")]);
  for (const e of all) {
    expect(e.kind).toBe(AgentKind.ACP);
    expect(e.env).toEqual({});
    expect(e.name.length).toBeGreaterThan(0);
    expect(e.description.length).toBeGreaterThan(0);
  }
});

test("not root: the claude entry has no notice and sets nothing", () => {
  const [claude] = defaultCatalog({ PATH: process.env.PATH, IS_SANDBOX: "yes" }, 1000);
  expect(claude!.env).toEqual({});
  expect(claude!.notice).toBeUndefined();
});

test("root: Bypass Permissions is off unless IS_SANDBOX is set, then it is exactly 1", () => {
  const [plain] = defaultCatalog({ PATH: process.env.PATH }, 0);
  expect(plain!.env).toEqual({});
  expect(plain!.notice).toBe(ROOT_NOTICE);
  const [empty] = defaultCatalog({ PATH: process.env.PATH, IS_SANDBOX: "" }, 0);
  expect(empty!.notice).toBe(ROOT_NOTICE);
  // Claude Code accepts only "1"; the adapter takes any value as a yes.
  const [sandbox] = defaultCatalog({ PATH: process.env.PATH, IS_SANDBOX: "yes" }, 0);
  expect(sandbox!.env).toEqual({ IS_SANDBOX: "1" });
  expect(sandbox!.notice).toBe(ROOT_SANDBOX_NOTICE);
});

// ---------------------------------------------------------------- the real adapter, offline

interface Ev {
  kind: EventKind;
  json: Record<string, unknown>;
}

/** The claude entry as a worker with this environment would start it, offline. */
function claudeAgent(opts: {
  workerEnv: Record<string, string | undefined>;
  home: string;
  cwd: string;
  resume?: { sessionId: string };
}) {
  const entry = defaultCatalog(opts.workerEnv).find((e) => e.id === "claude")!;
  const events: Ev[] = [];
  const agent = new AcpAgent({
    agentId: "claude",
    cwd: opts.cwd,
    command: entry.command,
    // The worker's own environment is process.env plus these: IS_SANDBOX "" stands for unset.
    env: {
      IS_SANDBOX: opts.workerEnv.IS_SANDBOX ?? "",
      ...entry.env,
      ...offlineClaudeEnv(opts.home),
    },
    emit: (kind, p) => void events.push({ kind, json: p.json as Record<string, unknown> }),
    log: () => {},
    resume: opts.resume,
    notice: entry.notice,
  });
  cleanups.add(() => agent.stop());
  const until = (pred: (e: Ev) => boolean, what: string) =>
    waitFor(() => events.some(pred), what, 30_000);
  return { agent, events, entry, until };
}

const modeIds = (info: Record<string, unknown>) =>
  (info.modes as { availableModes: { id: string }[] }).availableModes.map((m) => m.id);
const isTurnEnd = (e: Ev) => e.kind === EventKind.TURN_FINISHED;

/** Prompts, waits until the turn runs, cancels; returns the turn's end. */
async function promptThenCancel(c: ReturnType<typeof claudeAgent>, text: string) {
  await c.agent.prompt([{ type: "text", text }], "alice");
  await c.until((e) => e.kind === EventKind.AGENT_STATUS && e.json.status === "working", "work");
  await c.agent.cancel("alice");
  await c.until(isTurnEnd, "the turn's end");
  return c.events.find(isTurnEnd)!.json;
}

test(
  "the real adapter starts from the catalog entry, offline: session facts, commands, a cancelled turn",
  async () => {
    const home = realpathSync(cleanups.scratch("claude-home"));
    const cwd = realpathSync(cleanups.scratch("claude-cwd"));
    // A worker that declares a sandbox the way this machine does (any value but "1").
    const c = claudeAgent({ workerEnv: { ...process.env, IS_SANDBOX: "yes" }, home, cwd });
    await c.agent.start();
    expect(c.events.slice(0, 3).map((e) => EventKind[e.kind])).toEqual([
      "AGENT_STATUS",
      "SESSION_INFO",
      "AGENT_STATUS",
    ]);
    expect(c.events[2]!.json).toEqual({ status: "idle" });
    // As root the entry's notice says what was chosen; it leads the stream.
    expect(c.entry.notice).toBe(ROOT ? ROOT_SANDBOX_NOTICE : undefined);
    const notice = c.entry.notice ? { message: c.entry.notice } : {};
    expect(c.events[0]!.json).toEqual({ status: "starting", ...notice });
    const info = c.events[1]!.json;
    expect(info.sessionId).toBe(c.agent.sessionId);
    expect(c.agent.sessionId).toMatch(/^[0-9a-f-]{36}$/);
    expect((info.agentInfo as { name: string }).name).toBe("@zed-industries/claude-agent-acp");
    expect((info.agentCapabilities as { loadSession: boolean }).loadSession).toBe(true);
    expect(modeIds(info)).toContain("default");
    expect(modeIds(info)).toContain("plan");
    // As root, Bypass Permissions is offered exactly when the entry declared a sandbox.
    const bypass = !ROOT || c.entry.env.IS_SANDBOX === "1";
    expect(modeIds(info).includes("bypassPermissions")).toBe(bypass);
    const options = (info.configOptions as { id: string }[]).map((o) => o.id);
    expect(options).toContain("mode");
    await c.until(
      (e) =>
        (e.json.update as { sessionUpdate?: string })?.sessionUpdate ===
        "available_commands_update",
      "available commands",
    );

    // The API is unreachable: the turn waits (retrying) until it is cancelled.
    expect(await promptThenCancel(c, "Say hello.")).toEqual({ stopReason: "cancelled" });
    await c.until((e) => e.kind === EventKind.AGENT_STATUS && e.json.status === "idle", "idle");
    expect(c.agent.running).toBe(true);
  },
  REAL_TIMEOUT_MS,
);

test(
  "as root with no sandbox declared, the real adapter starts and offers no Bypass Permissions",
  async () => {
    const home = realpathSync(cleanups.scratch("claude-home"));
    const cwd = realpathSync(cleanups.scratch("claude-cwd"));
    const workerEnv = { ...process.env, IS_SANDBOX: undefined };
    const c = claudeAgent({ workerEnv, home, cwd });
    expect(c.entry.notice).toBe(ROOT ? ROOT_NOTICE : undefined);
    await c.agent.start();
    const info = c.events.find((e) => e.kind === EventKind.SESSION_INFO)!.json;
    expect(modeIds(info).includes("bypassPermissions")).toBe(!ROOT);
    expect((info.modes as { currentModeId: string }).currentModeId).toBe("default");
  },
  REAL_TIMEOUT_MS,
);

test(
  "why IS_SANDBOX must be 1: as root, any other value makes Claude Code exit at session/new",
  async () => {
    const home = realpathSync(cleanups.scratch("claude-home"));
    const cwd = realpathSync(cleanups.scratch("claude-cwd"));
    // What a worker would run without the entry's care: the adapter sees a sandbox, the CLI not.
    const events: Ev[] = [];
    const agent = new AcpAgent({
      agentId: "claude-raw",
      cwd,
      command: findClaudeAdapter()!,
      env: { ...offlineClaudeEnv(home), IS_SANDBOX: "yes" },
      emit: (kind, p) => void events.push({ kind, json: p.json as Record<string, unknown> }),
      log: () => {},
    });
    cleanups.add(() => agent.stop());
    const started = agent.start().then(
      () => "started",
      (e: Error) => e.message,
    );
    if (!ROOT) return void expect(await started).toBe("started");
    expect(await started).toBe("the agent did not start: session/new: Internal error");
    const failed = events.at(-1)!.json;
    expect(failed.status).toBe("failed");
    expect(JSON.stringify(failed.stderr)).toContain("Query closed before response received");
  },
  REAL_TIMEOUT_MS,
);

test(
  "a restarted Claude Code resumes its session: session/load, nothing replayed twice",
  async () => {
    const home = realpathSync(cleanups.scratch("claude-home"));
    const cwd = realpathSync(cleanups.scratch("claude-cwd"));
    const first = claudeAgent({ workerEnv: process.env, home, cwd });
    await first.agent.start();
    const sessionId = first.agent.sessionId;
    // A turn, so Claude Code keeps a transcript of the session under HOME.
    expect(await promptThenCancel(first, "Remember the word teapot.")).toEqual({
      stopReason: "cancelled",
    });
    await first.agent.stop();
    expect(existsSync(join(home, ".claude", "projects"))).toBe(true);

    const second = claudeAgent({ workerEnv: process.env, home, cwd, resume: { sessionId } });
    await second.agent.start();
    const kinds = second.events.map((e) => EventKind[e.kind]);
    expect(kinds.slice(0, 3)).toEqual(["AGENT_STATUS", "SESSION_INFO", "AGENT_STATUS"]);
    expect(second.events[1]!.json).toMatchObject({ sessionId, resumed: true });
    expect(second.events[2]!.json).toEqual({ status: "idle" });
    expect(second.agent.sessionId).toBe(sessionId);
    // The adapter replayed the conversation into the mux (a frontend that loads it gets it) ...
    let seen = "";
    const editor = second.agent.mux!.attach({
      write: (d) => ((seen += new TextDecoder().decode(d)), d.length),
      end: () => {},
    });
    const load = { sessionId, cwd, mcpServers: [] };
    editor.receive(Buffer.from(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}\n`));
    editor.receive(
      Buffer.from(
        JSON.stringify({ jsonrpc: "2.0", id: 2, method: "session/load", params: load }) + "\n",
      ),
    );
    await waitFor(() => seen.includes('"id":2'), "the editor's load answer");
    expect(seen).toContain("Remember the word teapot.");
    // ... and the hub's stream, which has it from the first life, did not get it again.
    const again = second.events.some((e) => JSON.stringify(e.json).includes("teapot"));
    expect(again).toBe(false);
  },
  REAL_TIMEOUT_MS,
);
