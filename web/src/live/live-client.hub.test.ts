/**
 * The web app's client side against the real hub (`bun server.ts`, its own worker, the fake ACP
 * agent): the stores sign in, start an agent and prompt it over Connect; the LiveClient follows
 * the stream over /live, survives its socket dying, and a cold start shows the cached history
 * before the network answers.
 */
import { afterEach, expect, test } from "bun:test";
import { AgentService } from "@gen/switchboard/v1/agent_pb.ts";
import { AuthService } from "@gen/switchboard/v1/auth_pb.ts";
import { AgentKind, EventKind, type Event } from "@gen/switchboard/v1/common_pb.ts";
import { FileService } from "@gen/switchboard/v1/files_pb.ts";
import { PushService } from "@gen/switchboard/v1/push_pb.ts";
import { WorkerService } from "@gen/switchboard/v1/worker_pb.ts";
import { WorkspaceService } from "@gen/switchboard/v1/workspace_pb.ts";
import { FAKE_AGENT } from "../../../src/testing/clients.ts";
import { tempDir } from "../../../src/testing/harness.ts";
import { COMPRESS_MAX_SUBSCRIBERS } from "../../../src/hub/live.ts";
import { browser, liveSocket, startHub, until, type HubRun } from "../../../src/testing/hub.ts";
import type { Api } from "../api/clients.ts";
import { buildConversation } from "../conversation/items.ts";
import { testApp } from "../testing/app.ts";
import { useAgentsStore } from "../stores/agents.ts";
import { useAuthStore } from "../stores/auth.ts";
import { memoryCache } from "../stores/cache.ts";
import { useStreamsStore } from "../stores/streams.ts";
import { useWorkspacesStore } from "../stores/workspaces.ts";
import { LiveClient, type WebSocketLike } from "./live-client.ts";

const hubs: HubRun[] = [];
const clients: LiveClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.stop();
  await Promise.all(hubs.splice(0).map((h) => h.stop()));
});

/** A browser's view of the hub: its API with the cookie jar, and live sockets that send it. */
function webClient(hub: HubRun) {
  const b = browser(hub.url);
  const api: Api = {
    auth: b.client(AuthService),
    workspaces: b.client(WorkspaceService),
    agents: b.client(AgentService),
    workers: b.client(WorkerService),
    files: b.client(FileService),
    push: b.client(PushService),
  };
  const sockets: WebSocket[] = [];
  const live = new LiveClient({
    url: `${hub.url.replace(/^http/, "ws")}/live`,
    // Bun's WebSocket takes headers: the session cookie and the page's origin, as a browser.
    createSocket: (url) => {
      const ws = new WebSocket(url, {
        headers: { cookie: b.jar.header(), origin: hub.url },
      } as unknown as string[]);
      sockets.push(ws);
      return ws as unknown as WebSocketLike;
    },
    random: () => 0,
  });
  clients.push(live);
  return { b, api, live, sockets };
}

const contiguous = (events: readonly Event[]) =>
  events.every((e, i) => e.seq === (events[0]?.seq ?? 1) + i);

test("sign in, start the fake agent, prompt it and follow the stream live, across a dead socket", async () => {
  const hub = await startHub();
  hubs.push(hub);
  const { b, api, live, sockets } = webClient(hub);
  const cache = memoryCache();
  const t = testApp({ api, live, cache });
  const changed: string[] = [];
  live.onChanged((c) => changed.push(c.what));

  await b
    .client(AuthService)
    .setup({ token: hub.setupToken!, name: "ada", password: "correct horse battery" });
  const auth = t.run(() => useAuthStore());
  await auth.init();
  expect(auth.me?.name).toBe("ada");
  await until(() => live.state === "open", 5_000, "live socket open");

  const local = await until(
    async () => (await api.workers.listWorkers({})).workers.find((w) => w.local && w.online),
    10_000,
    "local worker online",
  );
  const workspaces = t.run(() => useWorkspacesStore());
  const agents = t.run(() => useAgentsStore());
  const streams = t.run(() => useStreamsStore());
  const ws = await workspaces.create("demo", local!.id, tempDir("web-ws"));
  const agent = await agents.start(ws.id, {
    command: FAKE_AGENT,
    kind: AgentKind.ACP,
    name: "fake",
  });
  const stream = await streams.open(agent.streamId);
  const statusIs = (s: string) =>
    stream.events.some((e) => e.kind === EventKind.AGENT_STATUS && JSON.parse(e.json).status === s);
  await until(() => statusIs("idle"), 15_000, "agent idle");
  await until(() => changed.includes("agents"), 5_000, "agents changed");

  expect(await agents.prompt(agent.id, "say hello from the web")).toBe(true);
  const turns = () => stream.events.filter((e) => e.kind === EventKind.TURN_FINISHED).length;
  await until(() => turns() === 1, 15_000, "first turn");
  expect(contiguous(stream.events)).toBe(true);
  expect(stream.events[0]!.seq).toBe(1);
  const items = buildConversation(stream.events);
  expect(items.find((i) => i.kind === "prompt")).toMatchObject({ actor: "ada" });
  expect(items.some((i) => i.kind === "message" && i.text.includes("hello from the web"))).toBe(
    true,
  );

  // A permission request answered through the store; the outcome comes back on the stream.
  await agents.prompt(agent.id, "permission Write example");
  const request = await until(
    () => buildConversation(stream.events).find((i) => i.kind === "permission"),
    15_000,
    "permission request",
  );
  if (request?.kind !== "permission") throw new Error("not a permission item");
  const allow = request.options.find((o) => o.kind.startsWith("allow"))!;
  await agents.answerPermission(agent.id, request.requestId, allow.optionId);
  await until(() => turns() === 2, 15_000, "second turn");
  const resolved = buildConversation(stream.events).find((i) => i.kind === "permission");
  expect(resolved).toMatchObject({ resolved: { actor: "ada", optionId: allow.optionId } });

  // The phone's socket dies without a word; the client opens another and resumes its cursor.
  const held = stream.cursor;
  sockets[0]!.close();
  await until(() => sockets.length === 2 && live.state === "open", 10_000, "reconnected");
  await agents.prompt(agent.id, "say after the drop");
  await until(() => turns() === 3, 15_000, "third turn");
  expect(stream.cursor).toBeGreaterThan(held);
  expect(contiguous(stream.events)).toBe(true);
  expect(stream.events.map((e) => e.seq)).toEqual(stream.events.map((_, i) => i + 1));
  expect(
    stream.events.some(
      (e) => e.json.includes("after the drop") && e.kind === EventKind.SESSION_UPDATE,
    ),
  ).toBe(true);

  // A cold start on the same device: the cached history shows before any socket opens, and
  // the new socket only adds what follows it.
  await streams.flushed();
  const second = webClient(hub);
  second.b.jar.cookies.set(...[...b.jar.cookies][0]!);
  const cold = testApp({ api: second.api, live: second.live, cache });
  const coldStreams = cold.run(() => useStreamsStore());
  const coldStream = await coldStreams.open(agent.streamId);
  expect(second.live.state).toBe("stopped");
  expect(coldStream.events.map((e) => e.seq)).toEqual(stream.events.map((e) => e.seq));
  second.live.start();
  await until(() => coldStream.live, 10_000, "cold start caught up");
  expect(coldStream.events.length).toBe(stream.events.length);
  expect(contiguous(coldStream.events)).toBe(true);
}, 90_000);

test("on a stream with many viewers the hub's deflated batches reach the LiveClient whole and in order", async () => {
  const hub = await startHub();
  hubs.push(hub);
  const { b, api, live } = webClient(hub);
  await b
    .client(AuthService)
    .setup({ token: hub.setupToken!, name: "ada", password: "correct horse battery" });
  const local = await until(
    async () => (await api.workers.listWorkers({})).workers.find((w) => w.local && w.online),
    10_000,
    "local worker online",
  );
  const { workspace } = await api.workspaces.createWorkspace({
    name: "many",
    workerId: local!.id,
    path: tempDir("web-many"),
  });
  const { agent } = await api.agents.startAgent({
    workspaceId: workspace!.id,
    kind: AgentKind.ACP,
    command: FAKE_AGENT,
  });
  const streamId = agent!.streamId;
  // Enough other viewers that the hub deflates batches once for all of them.
  const others = await Promise.all(
    Array.from({ length: COMPRESS_MAX_SUBSCRIBERS }, () => liveSocket(hub.url, b.jar)),
  );
  for (const s of others) s.subscribe(streamId, 0);
  const events: Event[] = [];
  let caughtUp = false;
  live.subscribe(streamId, 0, {
    onBatch: (batch) => {
      events.push(...batch.events);
      caughtUp ||= batch.live;
    },
  });
  live.start();
  await until(() => caughtUp, 10_000, "the LiveClient live");
  await until(
    () =>
      others.every((s) => s.frames.some((f) => f.frame.case === "events" && f.frame.value.live)),
    10_000,
    "the other viewers live",
  );
  await until(
    () => events.some((e) => e.kind === EventKind.AGENT_STATUS && e.json.includes('"idle"')),
    15_000,
    "agent idle",
  );
  await api.agents.prompt({
    agentId: agent!.id,
    idempotencyKey: crypto.randomUUID(),
    promptJson: JSON.stringify([{ type: "text", text: "flood 3000" }]),
  });
  const finished = () => events.some((e) => e.kind === EventKind.TURN_FINISHED);
  await until(finished, 30_000, "the flood's turn finished");
  expect(live.state).toBe("open");
  expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
  const chunks = events.filter((e) => e.json.includes('"agent_message_chunk"'));
  expect(chunks).toHaveLength(3000);
  expect(chunks.at(-1)!.json).toContain("m2999 ");
  // The flood did come deflated, to every other viewer (and so to the LiveClient too).
  await until(
    () => others.every((s) => s.events(streamId).length === events.length),
    10_000,
    "the other viewers have it all",
  );
  for (const s of others) expect(s.wire).toContain("deflatedEvents");
  for (const s of others) s.close();
}, 60_000);
