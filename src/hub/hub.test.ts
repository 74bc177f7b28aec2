/**
 * The hub end to end, on the real `bun server.ts` process and its database file: an owner
 * sets up, makes a workspace on the hub's own worker, starts the fake ACP agent, prompts it,
 * and follows the stream live; replay from a cursor; rights; restart with data kept; an editor
 * on the hub's machine attached to an agent started from the app.
 */
import type * as acp from "@agentclientprotocol/sdk";
import { afterEach, expect, test } from "bun:test";
import { Code, ConnectError, type Client } from "@connectrpc/connect";
import { readdirSync } from "node:fs";
import { AgentService } from "../gen/switchboard/v1/agent_pb.ts";
import { AuthService } from "../gen/switchboard/v1/auth_pb.ts";
import { AgentKind, AgentStatus, EventKind, Role } from "../gen/switchboard/v1/common_pb.ts";
import { WorkerService } from "../gen/switchboard/v1/worker_pb.ts";
import { WorkspaceService } from "../gen/switchboard/v1/workspace_pb.ts";
import type { SessionInfo } from "../mux/registry.ts";
import { BUN, FAKE_AGENT, spawnClient, WORKER } from "../testing/clients.ts";
import { script, tempDir } from "../testing/harness.ts";
import { browser, liveSocket, startHub, until, type HubRun } from "../testing/hub.ts";
import { runToEnd } from "../testing/procs.ts";

const hubs: HubRun[] = [];
const editors: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(editors.splice(0).map((e) => e.close()));
  await Promise.all(hubs.splice(0).map((h) => h.stop()));
});

async function ownerHub(opts: Parameters<typeof startHub>[0] = {}) {
  const hub = await startHub(opts);
  hubs.push(hub);
  const b = browser(hub.url);
  await b
    .client(AuthService)
    .setup({ token: hub.setupToken!, name: "ada", password: "correct horse battery" });
  return { hub, b };
}

async function workspaceWithAgent(b: ReturnType<typeof browser>) {
  const workers = await b.client(WorkerService).listWorkers({});
  const local = workers.workers.find((w) => w.local)!;
  await until(
    async () =>
      (await b.client(WorkerService).listWorkers({})).workers.find((w) => w.local)?.online,
    10_000,
    "local worker online",
  );
  const folder = tempDir("ws");
  const { workspace } = await b
    .client(WorkspaceService)
    .createWorkspace({ name: "demo", workerId: local.id, path: folder });
  const { agent } = await b.client(AgentService).startAgent({
    workspaceId: workspace!.id,
    kind: AgentKind.ACP,
    command: FAKE_AGENT,
    name: "fake",
  });
  return { workspace: workspace!, agent: agent!, folder };
}

/** Waits until the workspace's first agent has the status. */
async function statusIs(
  agents: Client<typeof AgentService>,
  workspaceId: string,
  status: AgentStatus,
) {
  await until(
    async () => (await agents.listAgents({ workspaceId })).agents[0]?.status === status,
    10_000,
    `status ${AgentStatus[status]}`,
  );
}

const textOf = (json: string) => {
  const u = JSON.parse(json) as { update?: { content?: { text?: string } } };
  return u.update?.content?.text ?? "";
};

test("a prompt through the hub: stored, streamed live, replayed from a cursor", async () => {
  const { hub, b } = await ownerHub();
  const { agent } = await workspaceWithAgent(b);
  expect(agent.status).toBe(AgentStatus.STARTING);

  const live = await liveSocket(hub.url, b.jar);
  live.subscribe(agent.streamId, 0);
  const agents = b.client(AgentService);
  await statusIs(agents, agent.workspaceId, AgentStatus.IDLE);

  const r = await agents.prompt({
    agentId: agent.id,
    idempotencyKey: "k1",
    promptJson: JSON.stringify([{ type: "text", text: "say hello from the hub" }]),
  });
  expect(r.duplicate).toBe(false);
  await until(
    () => live.events(agent.streamId).some((e) => e.kind === EventKind.TURN_FINISHED),
    10_000,
    "turn end",
  );
  const events = live.events(agent.streamId);
  // Numbered 1, 2, 3 … with no hole and no repeat.
  expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
  const kinds = events.map((e) => e.kind);
  expect(kinds.indexOf(EventKind.PROMPT)).toBeLessThan(kinds.indexOf(EventKind.TURN_FINISHED));
  const prompt = events.find((e) => e.kind === EventKind.PROMPT)!;
  expect(prompt.actor).toBe("ada");
  expect(
    events
      .filter((e) => e.kind === EventKind.SESSION_UPDATE)
      .map((e) => textOf(e.json))
      .join(""),
  ).toContain("hello from the hub");

  // The same key again is dropped, not sent twice.
  const again = await agents.prompt({
    agentId: agent.id,
    idempotencyKey: "k1",
    promptJson: JSON.stringify([{ type: "text", text: "say hello from the hub" }]),
  });
  expect(again.duplicate).toBe(true);

  // A second client with a cursor gets exactly what follows it.
  const cursor = Math.floor(events.length / 2);
  const late = await liveSocket(hub.url, b.jar);
  late.subscribe(agent.streamId, cursor);
  await until(
    () => late.frames.some((f) => f.frame.case === "events" && f.frame.value.live),
    5_000,
    "caught up",
  );
  expect(late.events(agent.streamId).map((e) => e.seq)).toEqual(
    events.slice(cursor).map((e) => e.seq),
  );
  live.close();
  late.close();
});

test("a hub restart: same folder and port bring everything back, and the agent resumes its session", async () => {
  const dataDir = tempDir("hub-restart");
  // The fake agent keeps its sessions on disk, as a real agent does, so a new process can load one.
  const env = { FAKE_AGENT_STATE_DIR: tempDir("agent-state") };
  const first = await ownerHub({ dataDir, env });
  const { agent } = await workspaceWithAgent(first.b);
  const agents = first.b.client(AgentService);
  await statusIs(agents, agent.workspaceId, AgentStatus.IDLE);
  const firstLive = await liveSocket(first.hub.url, first.b.jar);
  firstLive.subscribe(agent.streamId, 0);
  await agents.prompt({
    agentId: agent.id,
    idempotencyKey: "r1",
    promptJson: JSON.stringify([{ type: "text", text: "say kept" }]),
  });
  // The turn is stored to its end (its idle status follows TURN_FINISHED) before the stop.
  await until(
    () => {
      const evs = firstLive.events(agent.streamId);
      const end = evs.findIndex((e) => e.kind === EventKind.TURN_FINISHED);
      return (
        end !== -1 &&
        evs.slice(end).some((e) => e.kind === EventKind.AGENT_STATUS && e.json.includes('"idle"'))
      );
    },
    10_000,
    "the turn stored",
  );
  firstLive.close();
  const before = (await agents.listAgents({ workspaceId: agent.workspaceId })).agents[0]!.headSeq;
  expect(before).toBeGreaterThan(3);
  expect(firstLive.events(agent.streamId).some((e) => textOf(e.json).includes("kept"))).toBe(true);
  await first.hub.stop();
  hubs.splice(hubs.indexOf(first.hub), 1);

  const second = await startHub({ dataDir, port: first.hub.port, env });
  hubs.push(second);
  expect(second.setupToken).toBeNull();
  expect(second.url).toBe(first.hub.url);
  const b = browser(second.url);
  await b.client(AuthService).login({ name: "ada", password: "correct horse battery" });
  const live = await liveSocket(second.url, b.jar);
  live.subscribe(agent.streamId, 0);
  await until(() => live.events(agent.streamId).length >= before, 5_000, "replay");
  expect(
    live
      .events(agent.streamId)
      .map((e) => e.seq)
      .slice(0, before),
  ).toEqual(Array.from({ length: before }, (_, i) => i + 1));
  // The agent ended with the hub's own worker; the worker starts it again and it loads its
  // session (session/load), without replaying what the stream already holds.
  await until(
    () =>
      live
        .events(agent.streamId)
        .some((e) => e.kind === EventKind.SESSION_INFO && JSON.parse(e.json).resumed === true),
    15_000,
    "resumed",
  );
  const after = live.events(agent.streamId);
  expect(after.filter((e) => textOf(e.json).includes("kept"))).toHaveLength(
    after.slice(0, before).filter((e) => textOf(e.json).includes("kept")).length,
  );
  await statusIs(b.client(AgentService), agent.workspaceId, AgentStatus.IDLE);
  await b.client(AgentService).prompt({
    agentId: agent.id,
    promptJson: JSON.stringify([{ type: "text", text: "say after the restart" }]),
  });
  await until(
    () => live.events(agent.streamId).some((e) => textOf(e.json).includes("after the restart")),
    10_000,
    "answer",
  );
  live.close();
});

test("rights: a stranger sees nothing, a viewer watches but cannot prompt, an operator can", async () => {
  const { hub, b } = await ownerHub();
  const { workspace, agent } = await workspaceWithAgent(b);
  const auth = b.client(AuthService);
  const invite = async (name: string) => {
    const { token } = await auth.createInvite({});
    const other = browser(hub.url);
    await other
      .client(AuthService)
      .acceptInvite({ token, name, password: "another good password" });
    return other;
  };
  const stranger = await invite("eve");
  const viewer = await invite("vic");
  const operator = await invite("olga");

  expect((await stranger.client(WorkspaceService).listWorkspaces({})).workspaces).toHaveLength(0);
  const denied = await stranger
    .client(AgentService)
    .listAgents({ workspaceId: workspace.id })
    .catch((e: unknown) => e);
  expect(denied).toBeInstanceOf(ConnectError);
  expect((denied as ConnectError).code).toBe(Code.NotFound);
  const eveLive = await liveSocket(hub.url, stranger.jar);
  eveLive.subscribe(agent.streamId, 0);
  await until(() => eveLive.frames.length > 0, 5_000, "an answer");
  expect(eveLive.frames[0]!.frame.case).toBe("error");
  expect(eveLive.events(agent.streamId)).toHaveLength(0);

  const ws = b.client(WorkspaceService);
  await ws.shareWorkspace({ workspaceId: workspace.id, userName: "vic", role: Role.VIEWER });
  await ws.shareWorkspace({ workspaceId: workspace.id, userName: "olga", role: Role.OPERATOR });
  expect((await viewer.client(WorkspaceService).listWorkspaces({})).workspaces[0]!.role).toBe(
    Role.VIEWER,
  );
  await statusIs(b.client(AgentService), workspace.id, AgentStatus.IDLE);

  const vicLive = await liveSocket(hub.url, viewer.jar);
  vicLive.subscribe(agent.streamId, 0);
  const promptJson = JSON.stringify([{ type: "text", text: "say from olga" }]);
  const refused = await viewer
    .client(AgentService)
    .prompt({ agentId: agent.id, promptJson })
    .catch((e: unknown) => e);
  expect((refused as ConnectError).code).toBe(Code.PermissionDenied);
  await operator.client(AgentService).prompt({ agentId: agent.id, promptJson });
  await until(
    () =>
      vicLive.events(agent.streamId).some((e) => e.kind === EventKind.PROMPT && e.actor === "olga"),
    10_000,
    "viewer sees olga's prompt",
  );
  vicLive.close();
  eveLive.close();
});

test("the live socket refuses the unauthenticated and the cross-site, and closes only a bad socket", async () => {
  const { hub, b } = await ownerHub();
  const anon = await fetch(`${hub.url}/live`, {
    headers: {
      upgrade: "websocket",
      connection: "upgrade",
      "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
      "sec-websocket-version": "13",
    },
  });
  expect(anon.status).toBe(401);
  await expect(liveSocket(hub.url, b.jar, { origin: "https://evil.example" })).rejects.toThrow();

  const good = await liveSocket(hub.url, b.jar);
  const bad = await liveSocket(hub.url, b.jar);
  bad.ws.send(new Uint8Array([0xff, 0xff, 0xff, 0xff]));
  await until(() => bad.closed(), 5_000, "bad socket closed");
  expect(bad.closed()!.code).toBe(1007);
  good.ws.send(new Uint8Array([0x1a, 0x02, 0x08, 0x07])); // ClientFrame{ping{nonce: 7}}
  await until(
    () => good.frames.some((f) => f.frame.case === "pong" && f.frame.value.nonce === 7),
    5_000,
    "pong",
  );
  expect(good.closed()).toBeNull();
  good.close();
});

test("an agent started from the app is attachable by name from an editor on the hub's machine", async () => {
  const socketDir = tempDir("hub-sock");
  const env = { SWITCHBOARD_SOCKET_DIR: socketDir };
  const { hub, b } = await ownerHub({ env });
  expect(hub.socketDir).toBe(socketDir);
  const { workspace, agent, folder } = await workspaceWithAgent(b);
  const agents = b.client(AgentService);
  await statusIs(agents, agent.workspaceId, AgentStatus.IDLE);
  const live = await liveSocket(hub.url, b.jar);
  live.subscribe(agent.streamId, 0);
  const info = await until(
    () => live.events(agent.streamId).find((e) => e.kind === EventKind.SESSION_INFO),
    10_000,
    "the session's facts",
  );
  const { sessionId } = JSON.parse(info!.json) as { sessionId: string };

  // `ls` lists it under the agent's name, served by the hub's process (its worker's thread).
  const ls = async () => {
    const r = await runToEnd([BUN, WORKER, "ls", "--json"], { env });
    expect(r.code).toBe(0);
    return JSON.parse(r.stdout) as SessionInfo[];
  };
  const listed = await ls();
  expect(listed).toHaveLength(1);
  expect(listed[0]).toMatchObject({
    pid: hub.proc.pid,
    name: "fake",
    command: FAKE_AGENT,
    cwd: folder,
    sessionId,
    agentId: agent.id,
    workspaceId: workspace.id,
  });

  const editor = spawnClient([BUN, WORKER, "attach", "fake"], { name: "zed", env });
  editors.push(editor);
  await editor.conn.agent.request("initialize", {
    protocolVersion: 1,
    clientCapabilities: {},
    clientInfo: { name: "zed", version: "1" },
  });
  const joined = await editor.conn.agent.request("session/new", { cwd: folder, mcpServers: [] });
  expect(joined.sessionId).toBe(sessionId);

  // From the app to the editor.
  await agents.prompt({
    agentId: agent.id,
    promptJson: JSON.stringify([{ type: "text", text: "say hello from the phone" }]),
  });
  await editor.until(
    (c) => c.texts("user_message_chunk").includes("say hello from the phone"),
    "the app's prompt in the editor",
  );
  await editor.until((c) => c.texts().includes("hello from the phone"), "its answer");
  await statusIs(agents, agent.workspaceId, AgentStatus.IDLE);

  // From the editor to the app's live socket, in the editor's name.
  const r: acp.PromptResponse = await editor.conn.agent.request("session/prompt", {
    sessionId,
    prompt: script("say hello from the editor"),
  });
  expect(r.stopReason).toBe("end_turn");
  const echo = (await until(
    () =>
      live
        .events(agent.streamId)
        .find(
          (e) =>
            e.kind === EventKind.SESSION_UPDATE && textOf(e.json) === "say hello from the editor",
        ),
    10_000,
    "the editor's prompt on the live socket",
  ))!;
  expect(echo.actor).toMatch(/^zed#\d+$/);
  await until(
    () => live.events(agent.streamId).some((e) => textOf(e.json) === "hello from the editor"),
    10_000,
    "its answer on the live socket",
  );
  const finished = (await until(
    () =>
      live
        .events(agent.streamId)
        .find((e) => e.kind === EventKind.TURN_FINISHED && e.actor === echo.actor),
    10_000,
    "the editor's turn finished",
  ))!;
  expect(JSON.parse(finished.json)).toEqual({ stopReason: "end_turn" });
  live.close();

  // The hub stops: its worker ends the agent, the editor's attach ends, the folder is empty.
  expect(await hub.stop()).toBe(0);
  hubs.splice(hubs.indexOf(hub), 1);
  expect(readdirSync(socketDir)).toEqual([]);
  const code = await Promise.race([editor.proc.exited, Bun.sleep(10_000).then(() => "running")]);
  expect(code).toBe(0);
});
