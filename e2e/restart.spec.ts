/**
 * Journey 7: a remote worker (the compiled dist/switchboard-worker, its own data folder)
 * registers with a one-time key and runs the fake agent; the hub is killed with SIGKILL in the
 * middle of a streamed answer and started again on the same data folder and port. The phone
 * catches up with no update lost or repeated, and the agent never stopped.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { EventKind } from "../src/gen/switchboard/v1/common_pb.ts";
import { BUN, ROOT } from "../src/testing/clients.ts";
import { tempDir } from "../src/testing/harness.ts";
import { connectWorker, liveSocket } from "../src/testing/hub.ts";
import { runToEnd } from "../src/testing/procs.ts";
import {
  expect,
  fakeEntry,
  JOURNEY,
  login,
  saveScreen,
  signIn,
  startFakeAgent,
  streamText,
  test,
  until,
} from "./fixtures.ts";

const BINARY = join(ROOT, "dist", "switchboard-worker");
const CHUNKS = 200;
const ALL = Array.from({ length: CHUNKS }, (_, i) => `s${i}`);

test(
  "the hub is killed mid-stream and restarted: the phone catches up, the agent never stopped",
  { tag: JOURNEY },
  async ({ page, hub, owner }, info) => {
    test.setTimeout(180_000);
    // `npm test` compiles it before the journeys; a run of this spec alone may need it built.
    if (!existsSync(BINARY)) {
      const r = await runToEnd([BUN, "run", "build:worker"], { cwd: ROOT, timeoutMs: 150_000 });
      expect(r.code, r.stderr).toBe(0);
    }

    // The remote worker's own catalog: the fake agent, logging what it is asked.
    const agentLog = join(tempDir("agent-log"), "agent.log");
    const catalog = join(tempDir("remote-catalog"), "catalog.json");
    writeFileSync(
      catalog,
      JSON.stringify({ agents: [{ ...fakeEntry(), env: { FAKE_AGENT_LOG: agentLog } }] }),
    );
    const { key } = await owner.workers.createWorkerKey({});
    const worker = connectWorker(
      [BINARY],
      ["--hub", hub.url, "--key", key, "--name", "remote", "--data", tempDir("remote-worker")],
      { SWITCHBOARD_CATALOG: catalog },
    );
    try {
      const remote = await until(
        async () =>
          (await owner.workers.listWorkers({})).workers.find(
            (w) => w.name === "remote" && w.online,
          ),
        30_000,
        "the remote worker online",
      );
      const { workspace } = await owner.workspaces.createWorkspace({
        name: "remote",
        workerId: remote!.id,
        path: tempDir("remote-ws"),
      });
      const agent = await startFakeAgent(owner, workspace!.id, "steady");

      await signIn(page, hub);
      await page.goto(`${hub.url}/w/${workspace!.id}/a/${agent.id}`);
      const message = page.getByLabel("Message");
      await expect(message).toBeEnabled();
      await message.fill(`slow ${CHUNKS} 20`);
      await page.getByRole("button", { name: "Send" }).click();
      const conversation = page.getByRole("list", { name: "Conversation" });
      await expect(conversation.getByText(/\bs40\b/).first()).toBeVisible();

      // Mid-stream: the hub dies without a word, then comes back on the same folder and port.
      await hub.restart({ kill: true });
      expect(worker.proc.exitCode).toBeNull();

      // The phone reconnects by itself and shows every chunk exactly once, in order.
      await expect(conversation.getByText(/\bs199\b/).first()).toBeVisible({ timeout: 60_000 });
      const shown = (await conversation.innerText()).match(/\bs\d+\b/g) ?? [];
      expect(shown).toEqual(ALL);
      await saveScreen(page, info, "restart-caught-up");

      // The stored stream: every seq once, no hole; the turn ended normally.
      const reader = await login(hub);
      const live = await liveSocket(hub.url, reader.jar);
      live.subscribe(agent.streamId, 0);
      await until(
        () => live.events(agent.streamId).some((e) => e.kind === EventKind.TURN_FINISHED),
        30_000,
        "the turn's end in the stored stream",
      );
      const events = live.events(agent.streamId);
      expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
      expect(streamText(events)).toBe(ALL.map((s) => `${s} `).join(""));
      const end = events.find((e) => e.kind === EventKind.TURN_FINISHED)!;
      expect(JSON.parse(end.json)).toEqual({ stopReason: "end_turn" });
      live.close();

      // One agent process all along: one initialize, one session, one prompt.
      const methods = readFileSync(agentLog, "utf8")
        .trim()
        .split("\n")
        .map((l) => (JSON.parse(l) as { method: string }).method);
      expect(methods.filter((m) => m === "initialize")).toHaveLength(1);
      expect(methods.filter((m) => m === "session/new" || m === "session/load")).toHaveLength(1);
      expect(methods.filter((m) => m === "session/prompt")).toHaveLength(1);
    } finally {
      await worker.stop();
    }
  },
);
