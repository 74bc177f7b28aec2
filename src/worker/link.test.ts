/**
 * The worker link across processes: a worker registered with a one-time key keeps streaming
 * through a hub killed with SIGKILL and started again, and the hub ends up with every event
 * once, in order. Also: revocation, bad credentials, and bad frames closing only their link.
 */
import { afterEach, expect, test } from "bun:test";
import { Code, ConnectError } from "@connectrpc/connect";
import { AgentService } from "../gen/switchboard/v1/agent_pb.ts";
import { AuthService } from "../gen/switchboard/v1/auth_pb.ts";
import { AgentKind, AgentStatus, EventKind } from "../gen/switchboard/v1/common_pb.ts";
import { WorkerService } from "../gen/switchboard/v1/worker_pb.ts";
import { WorkspaceService } from "../gen/switchboard/v1/workspace_pb.ts";
import { BUN, FAKE_AGENT, WORKER } from "../testing/clients.ts";
import { tempDir } from "../testing/harness.ts";
import {
  browser,
  connectWorker,
  liveSocket,
  rawWorker,
  startHub,
  until,
  type HubRun,
} from "../testing/hub.ts";

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((f) => f()));
});

async function hubWithOwner(dataDir = tempDir("hub")) {
  const hub = await startHub({ dataDir, args: ["--no-local-worker"] });
  cleanups.push(() => hub.stop());
  const b = browser(hub.url);
  await b
    .client(AuthService)
    .setup({ token: hub.setupToken!, name: "ada", password: "correct horse battery" });
  return { hub, b, dataDir };
}

function spawnWorker(args: string[]) {
  const w = connectWorker([BUN, WORKER], args);
  cleanups.push(w.stop);
  return w;
}

async function restart(hub: HubRun, dataDir: string, how: "kill" | "stop") {
  await (how === "kill" ? hub.kill() : hub.stop());
  const again = await startHub({ dataDir, port: hub.port, args: ["--no-local-worker"] });
  cleanups.push(() => again.stop());
  return again;
}

test("a remote worker registers once, and a hub killed mid-stream loses and repeats nothing", async () => {
  const { hub, b, dataDir } = await hubWithOwner();
  const { key } = await b.client(WorkerService).createWorkerKey({});
  const workerData = tempDir("worker");
  const worker = spawnWorker([
    "--hub",
    hub.url,
    "--key",
    key,
    "--data",
    workerData,
    "--name",
    "build-box",
  ]);
  await until(() => worker.stderr().includes("connected to"), 15_000, "worker connected");
  const listed = (await b.client(WorkerService).listWorkers({})).workers;
  expect(listed.map((w) => [w.name, w.online, w.local])).toEqual([["build-box", true, false]]);
  // The key was one-time.
  const reuse = await b
    .client(WorkerService)
    .registerWorker({ key, name: "x" })
    .catch((e: unknown) => e);
  expect((reuse as ConnectError).code).toBe(Code.Unauthenticated);

  const folder = tempDir("ws");
  const { workspace } = await b
    .client(WorkspaceService)
    .createWorkspace({ name: "w", workerId: listed[0]!.id, path: folder });
  const agents = b.client(AgentService);
  const { agent } = await agents.startAgent({
    workspaceId: workspace!.id,
    kind: AgentKind.ACP,
    command: FAKE_AGENT,
  });
  const stream = agent!.streamId;
  await until(
    async () =>
      (await agents.listAgents({ workspaceId: workspace!.id })).agents[0]?.status ===
      AgentStatus.IDLE,
    10_000,
    "idle",
  );
  await agents.prompt({
    agentId: agent!.id,
    idempotencyKey: "p",
    promptJson: JSON.stringify([{ type: "text", text: "slow 80 20" }]),
  });
  const live = await liveSocket(hub.url, b.jar);
  live.subscribe(stream, 0);
  await until(
    () => live.events(stream).filter((e) => e.kind === EventKind.SESSION_UPDATE).length > 15,
    10_000,
    "some chunks",
  );
  live.close();

  const again = await restart(hub, dataDir, "kill");
  const b2 = browser(again.url);
  await b2.client(AuthService).login({ name: "ada", password: "correct horse battery" });
  const live2 = await liveSocket(again.url, b2.jar);
  live2.subscribe(stream, 0);
  await until(
    () => live2.events(stream).some((e) => e.kind === EventKind.TURN_FINISHED),
    30_000,
    "turn end after restart",
  );
  const events = live2.events(stream);
  expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
  const chunks = events
    .filter((e) => e.kind === EventKind.SESSION_UPDATE)
    .map(
      (e) =>
        (JSON.parse(e.json) as { update: { content?: { text?: string } } }).update.content?.text ??
        "",
    )
    .filter((t) => t.startsWith("s"));
  expect(chunks).toEqual(Array.from({ length: 80 }, (_, i) => `s${i} `));
  // The agent never stopped: no failure, and it still answers.
  expect(events.some((e) => e.kind === EventKind.AGENT_STATUS && e.json.includes("failed"))).toBe(
    false,
  );
  await b2.client(AgentService).prompt({
    agentId: agent!.id,
    promptJson: JSON.stringify([{ type: "text", text: "say still here" }]),
  });
  await until(
    () => live2.events(stream).some((e) => e.json.includes("still here")),
    10_000,
    "answer after restart",
  );
  expect(worker.stderr()).toContain("dialling again");
  live2.close();
});

test("a revoked worker is cut off at once and cannot come back", async () => {
  const { hub, b } = await hubWithOwner();
  const { key } = await b.client(WorkerService).createWorkerKey({});
  const worker = spawnWorker(["--hub", hub.url, "--key", key, "--data", tempDir("worker")]);
  await until(() => worker.stderr().includes("connected to"), 15_000, "connected");
  const [w] = (await b.client(WorkerService).listWorkers({})).workers;
  await b.client(WorkerService).revokeWorker({ workerId: w!.id });
  await until(() => worker.stderr().includes("this worker was revoked"), 10_000, "cut off");
  expect((await b.client(WorkerService).listWorkers({})).workers).toHaveLength(0);
  const res = await fetch(`${hub.url.replace("http", "http")}/link`, {
    headers: {
      authorization: "Bearer not-a-real-credential-at-all",
      upgrade: "websocket",
      connection: "upgrade",
      "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
      "sec-websocket-version": "13",
    },
  });
  expect(res.status).toBe(401);
});

test("a bad frame or a hole in a stream closes only that link; a resend is stored once", async () => {
  const { hub, b } = await hubWithOwner();
  const { key } = await b.client(WorkerService).createWorkerKey({});
  const { credential } = await b.client(WorkerService).registerWorker({ key, name: "raw" });
  const open = () => rawWorker(hub.url, credential);

  const garbage = await open();
  garbage.ws.send(new Uint8Array([0xff, 0xff, 0xff]));
  await until(() => garbage.closed(), 5_000, "closed");
  expect(garbage.closed()).toEqual({ code: 1007, reason: "not a WorkerFrame" });

  const noHello = await open();
  noHello.send({ frame: { case: "ping", value: { nonce: 1 } } });
  await until(() => noHello.closed(), 5_000, "closed");
  expect(noHello.closed()!.reason).toBe("the first frame must be a hello");

  const first = await open();
  first.hello();
  const [w] = (await until(
    async () => {
      const list = (await b.client(WorkerService).listWorkers({})).workers;
      return list.some((x) => x.online) ? list : null;
    },
    5_000,
    "online",
  ))!;
  const { workspace } = await b
    .client(WorkspaceService)
    .createWorkspace({ name: "x", workerId: w!.id, path: tempDir("ws") });
  const { agent } = await b
    .client(AgentService)
    .startAgent({ workspaceId: workspace!.id, kind: AgentKind.ACP, command: ["agent"] });
  const stream = agent!.streamId;
  const ev = (seq: number) => ({
    seq,
    timeMs: Date.now(),
    kind: EventKind.SESSION_UPDATE,
    json: `{"n":${seq}}`,
  });

  // A hole (seq 5 when the hub holds nothing) closes this link with the reason.
  first.events(stream, [ev(5)]);
  await until(() => first.closed(), 5_000, "closed on a hole");
  expect(first.closed()!.reason).toContain("got seq 5 after 0");

  // A reconnecting worker resends: the repeat is acknowledged and not stored twice.
  const second = await open();
  second.hello();
  await until(
    async () => (await b.client(WorkerService).listWorkers({})).workers[0]?.online,
    5_000,
    "online",
  );
  second.events(stream, [ev(1), ev(2), ev(3)]);
  second.events(stream, [ev(2), ev(3), ev(4)]);
  await until(() => second.acks.includes(4), 5_000, "acked");
  expect(second.acks).toEqual([3, 4]);
  const live = await liveSocket(hub.url, b.jar);
  live.subscribe(stream, 0);
  await until(() => live.events(stream).length === 4, 5_000, "four stored");
  expect(live.events(stream).map((e) => e.json)).toEqual([1, 2, 3, 4].map((n) => `{"n":${n}}`));
  // The other sockets never noticed.
  expect(live.closed()).toBeNull();
  live.close();
  second.ws.close();
});
