/**
 * Every ACP agent the worker runs is attachable from an editor on the same machine: listed by
 * `worker.ts ls`, joined by `worker.ts attach <name>` with an official SDK client, sharing the
 * session both ways with the hub's frontend, and gone from the folder when the agent ends.
 */
import type * as acp from "@agentclientprotocol/sdk";
import { afterEach, expect, test } from "bun:test";
import { existsSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { EventKind } from "../gen/switchboard/v1/common_pb.ts";
import type { SessionInfo } from "../mux/registry.ts";
import { BUN, FAKE_AGENT, rawSocket, spawnClient, WORKER } from "../testing/clients.ts";
import { script } from "../testing/harness.ts";
import { Cleanups, runToEnd, waitFor } from "../testing/procs.ts";
import { AcpAgent, type AcpAgentOptions } from "./acp-agent.ts";
import { FALLBACK_NAME, MAX_SLUG_CHARS, slugify, uniqueName } from "./attach-point.ts";

interface Ev {
  kind: EventKind;
  json: Record<string, unknown>;
  actor: string;
}

const cleanups = new Cleanups();
afterEach(() => cleanups.runAll());

/** How long a change may take to show (a turn of the fake agent, a process starting). */
const WAIT_MS = 15_000;

/** A socket folder of the test's own, and the environment that points the CLI at it. */
function sockets() {
  const dir = cleanups.scratch("attach-sock");
  return { dir, env: { SWITCHBOARD_SOCKET_DIR: dir } };
}

async function startAgent(opts: Partial<AcpAgentOptions> & { socketDir: string | null }) {
  const events: Ev[] = [];
  const logs: string[] = [];
  const agent = new AcpAgent({
    agentId: "ag-1",
    workspaceId: "ws-1",
    name: "Fake Agent!",
    cwd: cleanups.scratch("attach-cwd"),
    command: FAKE_AGENT,
    emit: (kind, p) =>
      void events.push({ kind, json: p.json as Record<string, unknown>, actor: p.actor ?? "" }),
    log: (l) => logs.push(l),
    ...opts,
  });
  cleanups.add(() => agent.stop());
  await agent.start();
  const until = (pred: (e: Ev) => boolean, what: string) =>
    waitFor(() => events.some(pred), what, WAIT_MS);
  return { agent, events, logs, until };
}

const text = (t: string) => [{ type: "text", text: t }];
const isStatus = (s: string) => (e: Ev) => e.kind === EventKind.AGENT_STATUS && e.json.status === s;
/** The text of a SESSION_UPDATE of that kind, else null. */
function updateText(e: Ev, kind: string): string | null {
  const u = e.json.update as { sessionUpdate?: string; content?: { text?: string } } | undefined;
  return e.kind === EventKind.SESSION_UPDATE && u?.sessionUpdate === kind
    ? (u.content?.text ?? "")
    : null;
}

async function ls(env: Record<string, string>): Promise<SessionInfo[]> {
  const r = await runToEnd([BUN, WORKER, "ls", "--json"], { env });
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as SessionInfo[];
}

async function waitForClients(env: Record<string, string>, name: string, n: number) {
  const deadline = Date.now() + WAIT_MS;
  let last: number | undefined;
  while ((last = (await ls(env)).find((s) => s.name === name)?.clients) !== n) {
    if (Date.now() > deadline) throw new Error(`ls shows ${last} clients for ${name}, not ${n}`);
    await Bun.sleep(50);
  }
}

/** An SDK client whose agent is `worker.ts attach <target>`, initialized as `clientName`. */
async function attach(env: Record<string, string>, target: string, clientName: string) {
  const c = spawnClient([BUN, WORKER, "attach", target], { name: clientName, env });
  cleanups.add(() => c.close());
  await c.conn.agent.request("initialize", {
    protocolVersion: 1,
    clientCapabilities: {},
    clientInfo: { name: clientName, version: "1" },
  });
  return c;
}

test("names: slugs to type after attach, unique among live sessions", () => {
  expect(slugify("Fake Agent!")).toBe("fake-agent");
  expect(slugify("  Claude — refactor/auth ")).toBe("claude-refactor-auth");
  expect(slugify("Café Crème")).toBe("cafe-creme");
  expect(slugify("../../etc.sock")).toBe("etc-sock");
  // Never empty, never a pid or a `<pid>-<n>` key.
  expect(slugify("")).toBe(FALLBACK_NAME);
  expect(slugify("!!!")).toBe(FALLBACK_NAME);
  expect(slugify("2024")).toBe(`${FALLBACK_NAME}-2024`);
  expect(slugify("12-3")).toBe(`${FALLBACK_NAME}-12-3`);
  const long = slugify("a".repeat(MAX_SLUG_CHARS - 1) + " b c");
  expect(long).toBe("a".repeat(MAX_SLUG_CHARS - 1));
  expect(long.length).toBeLessThanOrEqual(MAX_SLUG_CHARS);

  expect(uniqueName("fake", new Set())).toBe("fake");
  expect(uniqueName("fake", new Set(["fake"]))).toBe("fake-2");
  expect(uniqueName("fake", new Set(["fake", "fake-2", "fake-3"]))).toBe("fake-4");
});

test("an agent's session: listed by ls, joined by name, shared both ways, gone after stop", async () => {
  const { dir, env } = sockets();
  const cwd = cleanups.scratch("attach-cwd");
  const { agent, events, until } = await startAgent({ socketDir: dir, cwd });
  const socket = agent.socketPath!;
  expect(socket).toBeDefined();
  expect(agent.attachName).toBe("fake-agent");
  expect(basename(socket)).toMatch(new RegExp(`^${process.pid}-\\d+\\.sock$`));
  expect(statSync(dir).mode & 0o777).toBe(0o700);
  expect(statSync(socket).isSocket()).toBe(true);
  expect(statSync(socket).mode & 0o777).toBe(0o600);
  expect(statSync(socket.replace(/\.sock$/, ".json")).mode & 0o777).toBe(0o600);

  // Something in the history before the editor comes.
  await agent.prompt(text("say before the editor"), "alice");
  await until((e) => updateText(e, "agent_message_chunk") === "before the editor", "answer");
  await until(isStatus("idle"), "the turn's end");

  const [info, ...others] = await ls(env);
  expect(others).toEqual([]);
  expect(info).toEqual({
    pid: process.pid,
    name: "fake-agent",
    socket,
    command: FAKE_AGENT,
    cwd,
    clients: 1,
    startedAt: info!.startedAt,
    sessionId: agent.sessionId,
    agentId: "ag-1",
    workspaceId: "ws-1",
  });
  expect(new Date(Date.parse(info!.startedAt)).toISOString()).toBe(info!.startedAt);

  // The editor joins by name and gets the session and its history.
  const c = await attach(env, "fake-agent", "vim");
  const joined = await c.conn.agent.request("session/new", { cwd: "/", mcpServers: [] });
  expect(joined.sessionId).toBe(agent.sessionId);
  await c.until((x) => x.texts().includes("before the editor"), "the history's answer");
  expect(c.texts("user_message_chunk")).toEqual(["say before the editor"]);
  await waitForClients(env, "fake-agent", 2);

  // A prompt from the hub's side reaches the editor, as the prompt and as its answer.
  await agent.prompt(text("say from the hub"), "alice");
  await c.until((x) => x.texts("user_message_chunk").includes("say from the hub"), "hub prompt");
  await c.until((x) => x.texts().includes("from the hub"), "the hub prompt's answer");
  await until(isStatus("idle"), "the hub turn's end");

  // A prompt from the editor is in the agent's events, in the editor's frontend's name.
  const from = events.length;
  const r: acp.PromptResponse = await c.conn.agent.request("session/prompt", {
    sessionId: joined.sessionId,
    prompt: script("say from the editor"),
  });
  expect(r.stopReason).toBe("end_turn");
  await until((e) => e.kind === EventKind.TURN_FINISHED && e.actor.startsWith("vim"), "turn end");
  const turn = events.slice(from);
  const echo = turn.find((e) => updateText(e, "user_message_chunk") === "say from the editor");
  expect(echo).toBeDefined();
  expect(echo!.actor).toMatch(/^vim#\d+$/);
  expect(turn.find((e) => e.kind === EventKind.TURN_FINISHED)!.actor).toBe(echo!.actor);
  expect(turn.some((e) => updateText(e, "agent_message_chunk") === "from the editor")).toBe(true);

  // Stopped: a frontend on the socket hears the agent is gone (the SDK may drop a notification
  // that arrives with the end of its stream, so a raw reader checks), the editor's attach
  // process ends, and nothing is left in the folder.
  const raw = await rawSocket(socket);
  await waitForClients(env, "fake-agent", 3);
  await agent.stop();
  expect(agent.socketPath).toBeUndefined();
  expect(readdirSync(dir)).toEqual([]);
  expect(await ls(env)).toEqual([]);
  await raw.until(
    (lines) => lines.some((l) => l.includes('"_switchboard/agent_exited"')),
    "notice",
  );
  const code = await Promise.race([c.proc.exited, Bun.sleep(WAIT_MS).then(() => "running")]);
  expect(code).toBe(0);
  await c.conn.closed;
});

test("a crash removes the socket and the entry", async () => {
  const { dir, env } = sockets();
  const { agent, until } = await startAgent({ socketDir: dir });
  const socket = agent.socketPath!;
  expect(existsSync(socket)).toBe(true);
  expect((await ls(env)).map((s) => s.name)).toEqual(["fake-agent"]);
  await agent.prompt(text("crash 4"), "alice");
  await until(isStatus("failed"), "failed");
  expect(existsSync(socket)).toBe(false);
  expect(readdirSync(dir)).toEqual([]);
  expect(await ls(env)).toEqual([]);
});

test("several agents of one process: unique names; attach by pid lists them, by name works", async () => {
  const { dir, env } = sockets();
  const one = await startAgent({ socketDir: dir, name: "twin", agentId: "t1" });
  const two = await startAgent({ socketDir: dir, name: "twin", agentId: "t2" });
  expect([one.agent.attachName, two.agent.attachName]).toEqual(["twin", "twin-2"]);
  expect(one.agent.socketPath).not.toBe(two.agent.socketPath);
  const listed = await ls(env);
  expect(listed.map((s) => [s.pid, s.name, s.agentId, s.socket])).toEqual([
    [process.pid, "twin", "t1", one.agent.socketPath],
    [process.pid, "twin-2", "t2", two.agent.socketPath],
  ]);

  const byPid = await runToEnd([BUN, WORKER, "attach", String(process.pid)], { env, stdin: "" });
  expect(byPid.code).not.toBe(0);
  expect(byPid.stdout).toBe("");
  expect(byPid.stderr).toContain(
    `process ${process.pid} serves 2 sessions in ${dir}; attach to one by name or socket path: ` +
      `"twin", "twin-2"`,
  );

  const c = await attach(env, "twin-2", "zed");
  const joined = await c.conn.agent.request("session/new", { cwd: "/", mcpServers: [] });
  expect(joined.sessionId).toBe(two.agent.sessionId);
  expect(joined.sessionId).not.toBe(one.agent.sessionId);

  // One stops: the other stays listed and the name it held is free again.
  await one.agent.stop();
  expect((await ls(env)).map((s) => s.name)).toEqual(["twin-2"]);
  const three = await startAgent({ socketDir: dir, name: "twin", agentId: "t3" });
  expect(three.agent.attachName).toBe("twin");
});

test("without a usable socket folder the agent runs on, unattachable, and says why", async () => {
  const file = join(cleanups.scratch("attach-file"), "not-a-folder");
  writeFileSync(file, "");
  const { agent, logs, until } = await startAgent({ socketDir: file });
  expect(agent.socketPath).toBeUndefined();
  expect(logs.some((l) => l.includes("no socket for editors"))).toBe(true);
  await agent.prompt(text("say still working"), "alice");
  await until((e) => updateText(e, "agent_message_chunk") === "still working", "answer");

  const off = await startAgent({ socketDir: null });
  expect(off.agent.socketPath).toBeUndefined();
  expect(off.logs.some((l) => l.includes("no socket for editors"))).toBe(false);
});
