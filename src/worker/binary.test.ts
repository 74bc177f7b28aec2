/**
 * The compiled worker (`bun build --compile`), as a user installs it, against a real hub:
 * registration with a key, an ACP agent and a terminal program, path escapes, a crash, a hub
 * killed and started again, and the worker's own restart resuming its agents.
 */
import { afterEach, beforeAll, expect, test } from "bun:test";
import { Code, ConnectError } from "@connectrpc/connect";
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { AgentService } from "../gen/switchboard/v1/agent_pb.ts";
import { AuthService } from "../gen/switchboard/v1/auth_pb.ts";
import { AgentKind, AgentStatus, EventKind, Role } from "../gen/switchboard/v1/common_pb.ts";
import { FileService } from "../gen/switchboard/v1/files_pb.ts";
import { WorkerService } from "../gen/switchboard/v1/worker_pb.ts";
import { WorkspaceService } from "../gen/switchboard/v1/workspace_pb.ts";
import { compiledWorker } from "../testing/binary.ts";
import { FAKE_AGENT } from "../testing/clients.ts";
import { tempDir } from "../testing/harness.ts";
import { browser, connectWorker, liveSocket, startHub, until } from "../testing/hub.ts";

const PASSWORD = "correct horse battery";
let binary = "";
beforeAll(async () => {
  binary = await compiledWorker();
}, 120_000);

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const f of cleanups.splice(0).reverse()) await f();
});

async function setup(env: Record<string, string> = {}) {
  const hubData = tempDir("hub");
  let hub = await startHub({ dataDir: hubData, args: ["--no-local-worker"] });
  cleanups.push(() => hub.stop());
  const b = browser(hub.url);
  await b.client(AuthService).setup({ token: hub.setupToken!, name: "ada", password: PASSWORD });
  const { key } = await b.client(WorkerService).createWorkerKey({});
  const workerData = tempDir("worker");
  let worker = connectWorker([binary], ["--hub", hub.url, "--key", key, "--data", workerData], env);
  cleanups.push(() => worker.stop());
  await until(() => worker.connections() >= 1, 15_000, "the binary connected");
  const [w] = (await b.client(WorkerService).listWorkers({})).workers;
  const folder = tempDir("ws");
  const { workspace } = await b
    .client(WorkspaceService)
    .createWorkspace({ name: "code", workerId: w!.id, path: folder });
  const ws = workspace!;
  const agents = b.client(AgentService);
  const status = async (agentId: string) =>
    (await agents.listAgents({ workspaceId: ws.id })).agents.find((a) => a.id === agentId);
  const waitStatus = (agentId: string, s: AgentStatus, ms = 15_000) =>
    until(async () => (await status(agentId))?.status === s, ms, `status ${AgentStatus[s]}`);
  return {
    b,
    ws,
    folder,
    agents,
    status,
    waitStatus,
    hub: () => hub,
    worker: () => worker,
    async restartHub() {
      await hub.kill();
      hub = await startHub({ dataDir: hubData, port: hub.port, args: ["--no-local-worker"] });
    },
    async restartWorker() {
      await worker.stop();
      worker = connectWorker([binary], ["--data", workerData], env);
      await until(() => worker.connections() >= 1, 15_000, "the binary connected again");
    },
  };
}

const terminalText = (events: { kind: EventKind; data: Uint8Array }[]) =>
  events
    .filter((e) => e.kind === EventKind.TERMINAL_OUTPUT)
    .map((e) => new TextDecoder().decode(e.data))
    .join("");

test("registered with a key: an ACP agent, a terminal typed into from the hub, confined files, a crash", async () => {
  const t = await setup();
  writeFileSync(join(t.folder, "notes.txt"), "inside\n");
  mkdirSync(join(t.folder, "src"));
  symlinkSync("/etc", join(t.folder, "etc-link"));

  // Files: inside reads; every way out is refused.
  const files = t.b.client(FileService);
  expect((await files.readFile({ workspaceId: t.ws.id, path: "notes.txt" })).text).toBe("inside\n");
  const names = (await files.listDir({ workspaceId: t.ws.id, path: "" })).entries.map(
    (e) => e.name,
  );
  expect(names).toEqual(["src", "etc-link", "notes.txt"]);
  for (const path of ["../notes.txt", "/etc/passwd", "etc-link/passwd", "src/../../x"]) {
    const err = await files.readFile({ workspaceId: t.ws.id, path }).catch((e: unknown) => e);
    expect([path, (err as ConnectError).code]).toEqual([path, Code.PermissionDenied]);
  }

  // An ACP agent (the fake one) answers a prompt.
  const live = await liveSocket(t.hub().url, t.b.jar);
  const { agent } = await t.agents.startAgent({
    workspaceId: t.ws.id,
    kind: AgentKind.ACP,
    command: FAKE_AGENT,
  });
  live.subscribe(agent!.streamId);
  await t.waitStatus(agent!.id, AgentStatus.IDLE);
  await t.agents.prompt({
    agentId: agent!.id,
    promptJson: JSON.stringify([{ type: "text", text: "say compiled hello" }]),
  });
  await until(
    () => live.events(agent!.streamId).some((e) => e.json.includes("compiled hello")),
    10_000,
    "answer",
  );

  // A terminal: typed into through the live socket, output back the same way.
  const { agent: term } = await t.agents.startAgent({
    workspaceId: t.ws.id,
    kind: AgentKind.TERMINAL,
    command: ["sh"],
    cols: 100,
    rows: 30,
  });
  live.subscribe(term!.streamId);
  await t.waitStatus(term!.id, AgentStatus.IDLE);
  live.input(term!.streamId, "echo $((6*7))-done\r");
  await until(() => terminalText(live.events(term!.streamId)).includes("42-done"), 10_000, "42");
  expect(live.events(term!.streamId).find((e) => e.kind === EventKind.TERMINAL_RESIZE)?.json).toBe(
    JSON.stringify({ cols: 100, rows: 30 }),
  );

  // A viewer watches the terminal but cannot type.
  const { token } = await t.b.client(AuthService).createInvite({});
  const vic = browser(t.hub().url);
  await vic.client(AuthService).acceptInvite({ token, name: "vic", password: PASSWORD });
  await t.b
    .client(WorkspaceService)
    .shareWorkspace({ workspaceId: t.ws.id, userName: "vic", role: Role.VIEWER });
  const vicLive = await liveSocket(t.hub().url, vic.jar);
  vicLive.subscribe(term!.streamId);
  await until(
    () => terminalText(vicLive.events(term!.streamId)).includes("42-done"),
    10_000,
    "viewer sees",
  );
  vicLive.input(term!.streamId, "echo nope\r");
  await until(() => vicLive.frames.some((f) => f.frame.case === "error"), 5_000, "refused");
  const refusal = vicLive.frames.find((f) => f.frame.case === "error")!;
  expect(refusal.frame.case === "error" && refusal.frame.value.code).toBe("permission_denied");

  // A crash is reported with the agent's last words.
  await t.agents.prompt({
    agentId: agent!.id,
    promptJson: JSON.stringify([{ type: "text", text: "crash 3" }]),
  });
  await t.waitStatus(agent!.id, AgentStatus.FAILED);
  const failed = await t.status(agent!.id);
  expect(failed!.statusMessage).toContain("3");
  const statusEvent = live
    .events(agent!.streamId)
    .filter((e) => e.kind === EventKind.AGENT_STATUS)
    .map((e) => JSON.parse(e.json) as { status: string; stderr?: string[] })
    .at(-1)!;
  expect(statusEvent.status).toBe("failed");
  expect(statusEvent.stderr?.join("\n")).toContain("crash");
  live.close();
  vicLive.close();
});

test("a hub killed mid-session and the worker's own restart: nothing lost, agents resumed", async () => {
  const t = await setup({ FAKE_AGENT_STATE_DIR: tempDir("agent-state") });
  const { agent } = await t.agents.startAgent({
    workspaceId: t.ws.id,
    kind: AgentKind.ACP,
    command: FAKE_AGENT,
  });
  const { agent: term } = await t.agents.startAgent({
    workspaceId: t.ws.id,
    kind: AgentKind.TERMINAL,
    command: ["sh"],
  });
  await t.waitStatus(agent!.id, AgentStatus.IDLE);
  await t.waitStatus(term!.id, AgentStatus.IDLE);
  await t.agents.prompt({
    agentId: agent!.id,
    promptJson: JSON.stringify([{ type: "text", text: "slow 40 25" }]),
  });
  await Bun.sleep(300);

  await t.restartHub();
  await until(() => t.worker().connections() >= 2, 20_000, "reconnected to the new hub");
  const b = browser(t.hub().url);
  await b.client(AuthService).login({ name: "ada", password: PASSWORD });
  const live = await liveSocket(t.hub().url, b.jar);
  live.subscribe(agent!.streamId);
  await until(
    () => live.events(agent!.streamId).some((e) => e.kind === EventKind.TURN_FINISHED),
    20_000,
    "turn end",
  );
  const seqs = live.events(agent!.streamId).map((e) => e.seq);
  expect(seqs).toEqual(seqs.map((_, i) => i + 1));
  const chunks = live
    .events(agent!.streamId)
    .map((e) =>
      e.kind === EventKind.SESSION_UPDATE ? (JSON.parse(e.json).update.content?.text ?? "") : "",
    )
    .filter((x: string) => /^s\d+ $/.test(x));
  expect(chunks).toHaveLength(40);

  // The worker restarts: the ACP agent loads its session; the terminal waits to be restarted.
  await t.restartWorker();
  const agents = b.client(AgentService);
  await until(
    () =>
      live
        .events(agent!.streamId)
        .some((e) => e.kind === EventKind.SESSION_INFO && JSON.parse(e.json).resumed === true),
    20_000,
    "resumed",
  );
  await agents.prompt({
    agentId: agent!.id,
    promptJson: JSON.stringify([{ type: "text", text: "say back again" }]),
  });
  await until(
    () => live.events(agent!.streamId).some((e) => e.json.includes("back again")),
    10_000,
    "answer",
  );
  await until(
    async () =>
      (await agents.listAgents({ workspaceId: t.ws.id })).agents.find((a) => a.id === term!.id)
        ?.status === AgentStatus.STOPPED,
    10_000,
    "terminal stopped",
  );
  await agents.restartAgent({ agentId: term!.id });
  live.subscribe(term!.streamId);
  await until(
    async () =>
      (await agents.listAgents({ workspaceId: t.ws.id })).agents.find((a) => a.id === term!.id)
        ?.status === AgentStatus.IDLE,
    10_000,
    "terminal again",
  );
  live.input(term!.streamId, "echo again-$((2+3))\r");
  await until(
    () => terminalText(live.events(term!.streamId)).includes("again-5"),
    10_000,
    "typed again",
  );
  live.close();
});
