/**
 * The worker's driver of one ACP agent, against real fake-agent processes: the events it emits,
 * their order, and the agent's life from start to stop or crash.
 */
import * as acp from "@agentclientprotocol/sdk";
import { afterEach, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { EventKind } from "../gen/switchboard/v1/common_pb.ts";
import type { Mux } from "../mux/mux.ts";
import { FAKE_AGENT } from "../testing/clients.ts";
import { Cleanups, isRunning, waitFor } from "../testing/procs.ts";
import { AcpAgent, NOT_RESUMED, type AcpAgentOptions } from "./acp-agent.ts";
import { Outbox, WINDOW_EVENTS } from "./outbox.ts";
import { openWorkerDb } from "./worker-db.ts";

interface Ev {
  kind: EventKind;
  json: Record<string, unknown>;
  actor: string;
}

const cleanups = new Cleanups();
afterEach(() => cleanups.runAll());

/** An agent whose events are recorded; `onEvent` sees each one as it is emitted. */
function startAgent(opts: Partial<AcpAgentOptions> = {}, onEvent?: (e: Ev) => void) {
  const events: Ev[] = [];
  const logs: string[] = [];
  const agent: AcpAgent = new AcpAgent({
    agentId: "a1",
    cwd: cleanups.scratch("acp-agent"),
    command: FAKE_AGENT,
    emit: (kind, p) => {
      const e = { kind, json: p.json as Record<string, unknown>, actor: p.actor ?? "" };
      events.push(e);
      onEvent?.(e);
    },
    log: (l) => logs.push(l),
    // Attachable, as every agent is, in a folder of the test's own.
    socketDir: cleanups.scratch("acp-sock"),
    ...opts,
  });
  cleanups.add(() => agent.stop());
  const of = (kind: EventKind) => events.filter((e) => e.kind === kind);
  const until = (pred: (e: Ev) => boolean, what: string) =>
    waitFor(() => events.some(pred), what, 10_000);
  return { agent, events, logs, of, until };
}

const text = (t: string) => [{ type: "text", text: t }];
const isStatus = (s: string) => (e: Ev) => e.kind === EventKind.AGENT_STATUS && e.json.status === s;
/** The text of an agent_message_chunk event, else null. */
function chunkText(e: Ev): string | null {
  const u = e.json.update as { sessionUpdate?: string; content?: { text?: string } } | undefined;
  return e.kind === EventKind.SESSION_UPDATE && u?.sessionUpdate === "agent_message_chunk"
    ? (u.content?.text ?? "")
    : null;
}
/** A compact picture of events for order assertions. */
function shape(e: Ev): string {
  const kind = EventKind[e.kind];
  if (e.kind === EventKind.AGENT_STATUS) return `${kind}:${e.json.status}`;
  if (e.kind === EventKind.TURN_FINISHED) return `${kind}:${e.json.stopReason ?? "error"}`;
  if (e.kind === EventKind.SESSION_UPDATE)
    return `${kind}:${(e.json.update as { sessionUpdate: string }).sessionUpdate}`;
  return kind;
}

/** Starts an agent and waits until the fake agent's post-session update arrived. */
async function started(opts: Partial<AcpAgentOptions> = {}) {
  const t = startAgent(opts);
  await t.agent.start();
  await t.until((e) => shape(e).endsWith("available_commands_update"), "available commands");
  return t;
}

/** An SDK client in this process attached to the agent's mux, like an editor on the socket. */
async function editor(mux: Mux, name: string, answer?: string, load?: string) {
  const updates: acp.SessionNotification[] = [];
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const readable = new ReadableStream<Uint8Array>({ start: (c) => void (controller = c) });
  const sink = {
    write: (d: Uint8Array) => (controller.enqueue(d.slice()), d.length),
    end: () => controller.close(),
  };
  const frontend = mux.attach(sink, { name });
  const writable = new WritableStream<Uint8Array>({ write: (c) => frontend.receive(c) });
  const conn = acp
    .client({ name })
    .onNotification("session/update", ({ params }) => void updates.push(params))
    .onNotification("*", () => {})
    .onRequest("session/request_permission", async ({ signal }) => {
      if (answer) return { outcome: { outcome: "selected", optionId: answer } };
      return new Promise<never>((_, reject) => signal.addEventListener("abort", reject));
    })
    .connect(acp.ndJsonStream(writable, readable));
  await conn.agent.request("initialize", { protocolVersion: 1, clientCapabilities: {} });
  if (load !== undefined) {
    await conn.agent.request("session/load", { sessionId: load, cwd: "/", mcpServers: [] });
    return { conn, sessionId: load, updates };
  }
  const { sessionId } = await conn.agent.request("session/new", { cwd: "/", mcpServers: [] });
  return { conn, sessionId, updates };
}

/** The methods the fake agent received, from its FAKE_AGENT_LOG. */
function received(log: string): { method: string; params: Record<string, unknown> }[] {
  return readFileSync(log, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}

test("start reports starting, the session's facts, then idle and the frontends", async () => {
  const { events, agent } = await started();
  expect(events.slice(0, 4).map(shape)).toEqual([
    "AGENT_STATUS:starting",
    "SESSION_INFO",
    "AGENT_STATUS:idle",
    "FRONTENDS",
  ]);
  const info = events[1]!.json;
  expect(info.sessionId).toStartWith("sess-");
  expect((info.agentInfo as { name: string }).name).toBe("fake-agent");
  expect((info.agentCapabilities as { loadSession: boolean }).loadSession).toBe(true);
  expect((info.modes as { currentModeId: string }).currentModeId).toBe("code");
  expect((info.configOptions as { id: string }[])[0]!.id).toBe("model");
  expect(events[3]!.json).toEqual({ frontends: ["hub"] });
  expect(agent.running).toBe(true);
  await expect(agent.start()).rejects.toThrow("started already");
});

test("a prompt streams, in order: prompt, working, its updates, turn finished, idle", async () => {
  const { agent, events } = await started();
  const from = events.length;
  await agent.prompt(text("say hello\nchunks 50\nsay bye"), "alice");
  await waitFor(() => events.slice(from).some(isStatus("idle")), "turn end");
  const turn = events.slice(from);
  expect(turn.map(shape)).toEqual([
    "PROMPT",
    "AGENT_STATUS:working",
    ...Array(52).fill("SESSION_UPDATE:agent_message_chunk"),
    "TURN_FINISHED:end_turn",
    "AGENT_STATUS:idle",
  ]);
  expect(turn[0]!.json).toEqual({ prompt: text("say hello\nchunks 50\nsay bye") });
  expect(turn[0]!.actor).toBe("alice");
  expect(turn[1]!.actor).toBe("alice");
  expect(turn.map(chunkText).filter((t) => t !== null)).toEqual([
    "hello",
    ...Array.from({ length: 50 }, (_, i) => `c${i} `),
    "bye",
  ]);
  expect(turn[2]!.actor).toBe("agent");
  expect(turn.at(-2)!.json).toEqual({ stopReason: "end_turn" });
});

test("a second prompt while a turn runs is refused, not queued", async () => {
  const { agent, events } = await started();
  await agent.prompt(text("slow 3 100"), "alice");
  await expect(agent.prompt(text("say again"), "bob")).rejects.toThrow("a turn is already running");
  await waitFor(() => events.some((e) => e.kind === EventKind.TURN_FINISHED), "turn end");
  expect(events.filter((e) => e.kind === EventKind.PROMPT).length).toBe(1);
  expect(events.map(chunkText)).not.toContain("again");
});

test("a permission answered from here: waiting, resolved by the user, working, then the turn ends", async () => {
  const { agent, events, of, until } = await started();
  const from = events.length;
  await agent.prompt(text("permission Deploy"), "alice");
  await until((e) => e.kind === EventKind.PERMISSION_REQUEST, "permission request");
  const req = of(EventKind.PERMISSION_REQUEST)[0]!;
  const requestId = req.json.requestId as string;
  expect((req.json.request as acp.RequestPermissionRequest).toolCall.title).toBe("Deploy");
  expect(events.at(-1)!.json).toEqual({ status: "waiting" });

  await expect(agent.answerPermission("99", { optionId: "allow" }, "bob")).rejects.toThrow(
    'unknown permission request "99"',
  );
  await expect(agent.answerPermission(requestId, { optionId: "nope" }, "bob")).rejects.toThrow(
    "offers no option",
  );
  await agent.answerPermission(requestId, { optionId: "allow" }, "bob");
  await waitFor(() => events.slice(from).some(isStatus("idle")), "turn end");
  const resolved = of(EventKind.PERMISSION_RESOLVED);
  expect(resolved).toEqual([
    {
      kind: EventKind.PERMISSION_RESOLVED,
      json: { requestId, outcome: { outcome: "selected", optionId: "allow" } },
      actor: "bob",
    },
  ]);
  const order = events.slice(from).map(shape);
  const at = (s: string) => order.indexOf(s);
  expect(at("PERMISSION_REQUEST")).toBeLessThan(at("AGENT_STATUS:waiting"));
  expect(at("AGENT_STATUS:waiting")).toBeLessThan(at("PERMISSION_RESOLVED"));
  expect(order[at("PERMISSION_RESOLVED") + 1]).toBe("AGENT_STATUS:working");
  expect(events.map(chunkText)).toContain("permission: selected allow");
  expect(order.slice(-2)).toEqual(["TURN_FINISHED:end_turn", "AGENT_STATUS:idle"]);
  await expect(agent.answerPermission(requestId, { cancelled: true }, "bob")).rejects.toThrow(
    "already resolved",
  );
});

test("answering inside the emit callback (while the mux is writing to us) works", async () => {
  const { agent, events, until } = startAgent({}, (e) => {
    // Synchronous, from inside the mux's write to the hub frontend.
    if (e.kind === EventKind.PERMISSION_REQUEST)
      void agent.answerPermission(e.json.requestId as string, { optionId: "allow" }, "eve");
  });
  await agent.start();
  await agent.prompt(text("permission"), "eve");
  await until((e) => e.kind === EventKind.TURN_FINISHED, "turn end");
  expect(events.map(chunkText)).toContain("permission: selected allow");
  expect(events.find((e) => e.kind === EventKind.PERMISSION_RESOLVED)!.actor).toBe("eve");
});

test("an editor on the same mux answers the permission and prompts: its name is the actor", async () => {
  const { agent, events, of, until } = await started();
  const ed = await editor(agent.mux!, "editor", "reject");
  await until((e) => JSON.stringify(e.json) === '{"frontends":["hub","editor"]}', "two frontends");

  await agent.prompt(text("permission"), "alice");
  await until((e) => e.kind === EventKind.PERMISSION_RESOLVED, "resolution");
  const [req] = of(EventKind.PERMISSION_REQUEST);
  const [res] = of(EventKind.PERMISSION_RESOLVED);
  expect(res!.actor).toBe("editor");
  expect(res!.json).toEqual({
    requestId: req!.json.requestId,
    outcome: { outcome: "selected", optionId: "reject" },
  });
  await until((e) => e.kind === EventKind.TURN_FINISHED, "turn end");
  await expect(
    agent.answerPermission(req!.json.requestId as string, { optionId: "allow" }, "bob"),
  ).rejects.toThrow("already resolved");
  await until(isStatus("idle"), "idle");

  // The editor's own turn: its prompt echoed with its name, its end reported too.
  const from = events.length;
  const r = await ed.conn.agent.request("session/prompt", {
    sessionId: ed.sessionId,
    prompt: [{ type: "text", text: "say from the editor" }],
  });
  expect(r.stopReason).toBe("end_turn");
  await waitFor(() => events.slice(from).some(isStatus("idle")), "editor turn end");
  const turn = events.slice(from);
  expect(turn.map(shape)).toEqual([
    "SESSION_UPDATE:user_message_chunk",
    "AGENT_STATUS:working",
    "SESSION_UPDATE:agent_message_chunk",
    "TURN_FINISHED:end_turn",
    "AGENT_STATUS:idle",
  ]);
  expect(turn.map((e) => e.actor)).toEqual(["editor", "editor", "agent", "editor", "agent"]);
});

test("cancel during a slow turn ends it as cancelled", async () => {
  const { agent, events, until } = await started();
  await agent.prompt(text("slow 100 50"), "alice");
  await until((e) => chunkText(e) === "s1 ", "two chunks");
  await agent.cancel("carol");
  await until((e) => e.kind === EventKind.TURN_FINISHED, "turn end");
  const finished = events.find((e) => e.kind === EventKind.TURN_FINISHED)!;
  expect(finished.json).toEqual({ stopReason: "cancelled" });
  await until(isStatus("idle"), "idle");
  expect(events.filter((e) => chunkText(e)?.startsWith("s")).length).toBeLessThan(100);
});

test("mode and config changes from here appear in the stream under the user's name", async () => {
  const { agent, events, until } = await started({ env: { FAKE_AGENT_NO_MODE_UPDATE: "1" } });
  await agent.setMode("ask", "dave");
  await agent.setConfigOption("model", "smart", "dave");
  const updates = events
    .filter((e) => e.actor === "dave")
    .map((e) => (e.json as { update: Record<string, unknown> }).update);
  expect(updates[0]).toEqual({ sessionUpdate: "current_mode_update", currentModeId: "ask" });
  expect(updates[1]!.sessionUpdate).toBe("config_option_update");
  expect(JSON.stringify(updates[1])).toContain('"currentValue":"smart"');
  await expect(agent.setMode("nope", "dave")).rejects.toThrow("unknown mode nope");
  await expect(agent.setConfigOption("model", "huge", "dave")).rejects.toThrow("unknown model");
  await until(isStatus("idle"), "still idle");
});

test("a crash fails the turn and reports the exit code and stderr", async () => {
  const { agent, events, logs, until } = await started();
  await agent.prompt(text("crash 7"), "alice");
  await until(isStatus("failed"), "failed status");
  const finished = events.find((e) => e.kind === EventKind.TURN_FINISHED)!;
  expect(String(finished.json.error)).toContain("code 7");
  const failed = events.at(-1)!;
  expect(failed.kind).toBe(EventKind.AGENT_STATUS);
  expect(String(failed.json.message)).toContain("exited (code 7)");
  expect(failed.json.stderr).toContain("fake-agent: crashing on request");
  expect(events.indexOf(finished)).toBeLessThan(events.indexOf(failed));
  expect(logs.join("\n")).toContain("agent a1: stderr: fake-agent: crashing on request");
  expect(agent.running).toBe(false);
  await expect(agent.prompt(text("say hi"), "alice")).rejects.toThrow("not running");
});

test("stop ends the process, fails a running turn, and reports stopped", async () => {
  const { agent, events } = await started();
  const pid = agent.pid!;
  expect(isRunning(pid)).toBe(true);
  await agent.prompt(text("hang"), "alice");
  await agent.stop();
  expect(isRunning(pid)).toBe(false);
  expect(agent.running).toBe(false);
  expect(events.slice(-2)).toEqual([
    { kind: EventKind.TURN_FINISHED, json: { error: "the agent was stopped" }, actor: "agent" },
    { kind: EventKind.AGENT_STATUS, json: { status: "stopped" }, actor: "agent" },
  ]);
  await agent.stop(); // twice is harmless
  expect(events.filter(isStatus("stopped")).length).toBe(1);
});

test("a command that does not exist rejects start with a failed status", async () => {
  const { agent, events } = startAgent({ command: ["/nonexistent/agent-binary"] });
  await expect(agent.start()).rejects.toThrow("cannot start the agent");
  expect(events.map(shape)).toEqual(["AGENT_STATUS:starting", "AGENT_STATUS:failed"]);
  expect(String(events[1]!.json.message)).toContain("/nonexistent/agent-binary");
  expect(agent.running).toBe(false);
});

test("an agent that exits before answering fails start with its stderr", async () => {
  const { agent, events } = startAgent({ command: ["sh", "-c", "echo no api key >&2; exit 2"] });
  await expect(agent.start()).rejects.toThrow("exited (code 2): no api key");
  const failed = events.at(-1)!;
  expect(failed.json).toMatchObject({ status: "failed", stderr: ["no api key"] });
  expect(events.some((e) => e.kind === EventKind.SESSION_INFO)).toBe(false);
});

test("an agent that never answers initialize fails start after the timeout and is stopped", async () => {
  const { agent, events } = startAgent({
    command: ["sh", "-c", "cat >/dev/null"],
    startTimeoutMs: 200,
  });
  await expect(agent.start()).rejects.toThrow("initialize: no answer within 200 ms");
  expect(events.map(shape)).toEqual(["AGENT_STATUS:starting", "AGENT_STATUS:failed"]);
  expect(agent.running).toBe(false);
});

test("resume loads the earlier session: its replay is not emitted again, SESSION_INFO says resumed", async () => {
  const dir = cleanups.scratch("acp-agent-state");
  const cwd = cleanups.scratch("acp-agent-resume");
  const known: string[] = [];
  const onSession = (id: string) => void known.push(id);
  // The first life: a session with a turn and a changed model, kept by the agent.
  const first = await started({ cwd, env: { FAKE_AGENT_STATE_DIR: dir }, onSession });
  const sessionId = first.agent.sessionId;
  expect(sessionId).toStartWith("sess-");
  expect(known).toEqual([sessionId]);
  await first.agent.setConfigOption("model", "smart", "alice");
  await first.agent.prompt(text("say before"), "alice");
  await first.until((e) => e.kind === EventKind.TURN_FINISHED, "first turn");
  await first.agent.stop();

  // The second life (a restarted worker), asked to resume it.
  const log = join(dir, "agent.log");
  const env = { FAKE_AGENT_STATE_DIR: dir, FAKE_AGENT_LOG: log };
  const { agent, events, until } = startAgent({ cwd, env, onSession, resume: { sessionId } });
  await agent.start();
  expect(events.map(shape)).toEqual([
    "AGENT_STATUS:starting",
    "SESSION_INFO",
    "AGENT_STATUS:idle",
    "FRONTENDS",
  ]);
  const info = events[1]!.json;
  expect(info).toMatchObject({ sessionId, resumed: true });
  expect((info.configOptions as { currentValue: string }[])[0]!.currentValue).toBe("smart");
  expect((info.agentInfo as { name: string }).name).toBe("fake-agent");
  expect(events[2]!.json).toEqual({ status: "idle" });
  expect(agent.sessionId).toBe(sessionId);
  expect(known).toEqual([sessionId, sessionId]);
  const methods = received(log).map((e) => e.method);
  expect(methods).toEqual(["initialize", "session/load"]);
  expect(received(log)[1]!.params).toEqual({ sessionId, cwd, mcpServers: [] });

  // The agent did replay (an editor loading the session gets it from the mux's history) ...
  const ed = await editor(agent.mux!, "editor", undefined, sessionId);
  const replayed = ed.updates.map((u) => u.update as { content?: { text?: string } });
  expect(replayed.map((u) => u.content?.text)).toContain("before");
  // ... and the session goes on: new turns stream as usual.
  await agent.prompt(text("say after"), "alice");
  await until((e) => e.kind === EventKind.TURN_FINISHED, "turn end");
  expect(events.map(chunkText).filter((t) => t !== null)).toEqual(["after"]);
  expect(events.find((e) => e.kind === EventKind.TURN_FINISHED)!.json).toEqual({
    stopReason: "end_turn",
  });
});

test("resume of a session the agent does not know: a new session, and the stream says so", async () => {
  const dir = cleanups.scratch("acp-agent-state");
  const log = join(dir, "agent.log");
  const known: string[] = [];
  const { agent, events, until } = startAgent({
    env: { FAKE_AGENT_STATE_DIR: dir, FAKE_AGENT_LOG: log },
    resume: { sessionId: "sess-gone" },
    onSession: (id) => void known.push(id),
  });
  await agent.start();
  await until((e) => shape(e).endsWith("available_commands_update"), "the new session's commands");
  expect(events.map(shape)).toEqual([
    "AGENT_STATUS:starting",
    "SESSION_INFO",
    "AGENT_STATUS:idle",
    "FRONTENDS",
    "SESSION_UPDATE:available_commands_update",
  ]);
  const info = events[1]!.json;
  expect(info.resumed).toBe(false);
  expect(info.sessionId).toStartWith("sess-");
  expect(info.sessionId).not.toBe("sess-gone");
  expect(events[2]!.json).toMatchObject({ status: "idle", message: NOT_RESUMED });
  expect(String(events[2]!.json.reason)).toStartWith("session/load: ");
  expect(agent.sessionId).toBe(info.sessionId as string);
  expect(known).toEqual([info.sessionId as string]);
  expect(received(log).map((e) => e.method)).toEqual(["initialize", "session/load", "session/new"]);
  await agent.prompt(text("say hi"), "alice");
  await until((e) => chunkText(e) === "hi", "a turn in the new session");
});

test("resume with an agent that cannot load sessions: a new session, and the stream says so", async () => {
  const dir = cleanups.scratch("acp-agent-state");
  const log = join(dir, "agent.log");
  const { agent, events } = startAgent({
    env: { FAKE_AGENT_NO_LOAD: "1", FAKE_AGENT_LOG: log },
    resume: { sessionId: "sess-earlier" },
  });
  await agent.start();
  expect(events.slice(0, 3).map(shape)).toEqual([
    "AGENT_STATUS:starting",
    "SESSION_INFO",
    "AGENT_STATUS:idle",
  ]);
  expect(events[1]!.json.resumed).toBe(false);
  expect(events[2]!.json).toEqual({
    status: "idle",
    message: NOT_RESUMED,
    reason: "the agent does not support session/load",
  });
  expect(received(log).map((e) => e.method)).toEqual(["initialize", "session/new"]);
});

test("a start without resume never loads and reports no resumed flag", async () => {
  const log = join(cleanups.scratch("acp-agent-log"), "agent.log");
  const { events } = await started({ env: { FAKE_AGENT_LOG: log } });
  expect("resumed" in events[1]!.json).toBe(false);
  expect(received(log).map((e) => e.method)).toEqual(["initialize", "session/new"]);
});

test("an agent that never answers session/load fails start; no new session is asked for", async () => {
  // Answers initialize (loadSession) and then nothing: the mux numbers it request 1.
  const init = JSON.stringify({
    jsonrpc: "2.0",
    id: 1,
    result: { protocolVersion: 1, agentCapabilities: { loadSession: true } },
  });
  const dir = cleanups.scratch("acp-agent-hang");
  const seen = join(dir, "seen");
  const { agent, events } = startAgent({
    command: ["sh", "-c", `read l; echo '${init}'; cat >"${seen}"`],
    resume: { sessionId: "sess-slow" },
    startTimeoutMs: 300,
  });
  await expect(agent.start()).rejects.toThrow("session/load: no answer within 300 ms");
  expect(events.map(shape)).toEqual(["AGENT_STATUS:starting", "AGENT_STATUS:failed"]);
  expect(agent.sessionId).toBe("");
  const sent = readFileSync(seen, "utf8");
  expect(sent).toContain('"method":"session/load"');
  expect(sent).not.toContain("session/new");
});

test("a notice (a catalog entry's) is the message of the starting status", async () => {
  const { events } = await started({ notice: "Running as root: no bypass" });
  expect(events[0]!).toEqual({
    kind: EventKind.AGENT_STATUS,
    json: { status: "starting", message: "Running as root: no bypass" },
    actor: "agent",
  });
  expect(events[2]!.json).toEqual({ status: "idle" });
});

// ---------------------------------------------------------------- back-pressure from the hub

const FLOOD = 20_000;

/** An agent whose events are numbered into an outbox, as the worker's host does. */
async function startedWithOutbox(linkUp: boolean) {
  const box = new Outbox(openWorkerDb(":memory:"));
  box.setLinkUp(linkUp);
  const pressure = box.pressure("a1");
  let everFull = false;
  pressure.onChange((full) => (everFull ||= full));
  const t = startAgent({ pressure, env: { FAKE_AGENT_RAW_FLOOD: "1" } }, (e) =>
    box.append("a1", e.kind, { json: e.json, actor: e.actor }),
  );
  await t.agent.start();
  await t.until((e) => shape(e).endsWith("available_commands_update"), "available commands");
  return { ...t, box, pressure, everFull: () => everFull };
}

/** Polls until `count` stops moving (the same over three polls 100 ms apart). */
async function settled(count: () => number): Promise<number> {
  let last = -1;
  let same = 0;
  while (same < 3) {
    await Bun.sleep(100);
    const now = count();
    same = now === last ? same + 1 : 0;
    last = now;
  }
  return last;
}

/** The flood's chunks in the order they were emitted: m0, m1, … */
const floodIndexes = (events: Ev[]) =>
  events
    .map(chunkText)
    .filter((t): t is string => t !== null && /^m\d+ t=/.test(t))
    .map((t) => Number(t.slice(1, t.indexOf(" "))));

test("with the hub not acking, the agent is not read past the window; acks then bring all of it once, in order", async () => {
  const { agent, events, box, pressure, of } = await startedWithOutbox(true);
  await agent.prompt(text(`flood ${FLOOD}`), "alice");
  await waitFor(() => pressure.full, "a full window");
  const held = await settled(() => events.length);
  // Held: a read or two past the window (the chunk being handled when it filled), no more.
  expect(box.unackedSize("a1").events).toBe(box.lastSeq("a1"));
  expect(floodIndexes(events).length).toBeGreaterThan(WINDOW_EVENTS - 10);
  expect(floodIndexes(events).length).toBeLessThan(FLOOD / 4);
  expect(of(EventKind.TURN_FINISHED)).toHaveLength(0);
  expect(agent.mux!.roomForAgent()).not.toBeNull();
  expect(events.length).toBe(held);

  // The hub acks each stored batch, and what was stored before: reading resumes.
  box.onStored((id, stored) => setImmediate(() => box.ack(id, stored.at(-1)!.seq)));
  box.flush();
  box.ack("a1", box.lastSeq("a1"));
  await waitFor(() => of(EventKind.TURN_FINISHED).length === 1, "the flood's end", 30_000);
  expect(floodIndexes(events)).toEqual(Array.from({ length: FLOOD }, (_, i) => i));
  expect(of(EventKind.TURN_FINISHED)[0]!.json).toEqual({ stopReason: "end_turn" });
  await waitFor(() => !pressure.full, "the last acks");
});

test("with the link down the agent is not held: the flood goes on into the outbox unacked", async () => {
  const { agent, events, box, of, everFull } = await startedWithOutbox(false);
  await agent.prompt(text(`flood ${FLOOD}`), "alice");
  await waitFor(() => of(EventKind.TURN_FINISHED).length === 1, "the flood's end", 30_000);
  expect(floodIndexes(events)).toEqual(Array.from({ length: FLOOD }, (_, i) => i));
  box.flush();
  expect(box.unackedSize("a1").events).toBe(box.lastSeq("a1"));
  expect(box.unackedSize("a1").events).toBeGreaterThan(FLOOD);
  expect(everFull()).toBe(false);
  // The link comes up with all of it unacked: held until the resend is acked.
  box.setLinkUp(true);
  expect(everFull()).toBe(true);
  box.ack("a1", box.lastSeq("a1"));
  expect(box.pressure("a1").full).toBe(false);
});
