/** Dead links are found by heartbeats, on both ends. */
import { expect, test } from "bun:test";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { join } from "node:path";
import { HubFrameSchema, WorkerFrameSchema } from "../gen/switchboard/v1/link_pb.ts";
import { tempDir } from "../testing/harness.ts";
import { until } from "../testing/hub.ts";
import { WorkerLink } from "../worker/link.ts";
import { Outbox } from "../worker/outbox.ts";
import { openWorkerDb } from "../worker/worker-db.ts";
import { createHub } from "./hub.ts";
import { HEARTBEAT_DEAD_MS } from "./link.ts";
import { openDatabase } from "./store/db.ts";
import { createWorker } from "./store/workers.ts";

test("the hub closes a link that has been silent for the dead time, and not before", async () => {
  let now = 1_000_000;
  const db = openDatabase(join(tempDir("hb"), "hub.db"));
  const hub = createHub({ db, now: () => now, log: () => {} });
  const server = Bun.serve({ port: 0, fetch: hub.fetch, websocket: hub.websocket });
  hub.bind(server);
  try {
    const { id, credential } = createWorker(db, "w", "h", "1");
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/link`, {
      headers: { authorization: `Bearer ${credential}` },
    } as unknown as string[]);
    let closed: { code: number; reason: string } | null = null;
    ws.onclose = (e) => void (closed = { code: e.code, reason: e.reason });
    await new Promise((r) => (ws.onopen = r));
    ws.send(
      toBinary(
        WorkerFrameSchema,
        create(WorkerFrameSchema, { frame: { case: "hello", value: { hostname: "h" } } }),
      ),
    );
    await until(() => hub.deps.link.online(id), 2_000, "online");

    now += HEARTBEAT_DEAD_MS - 1;
    hub.deps.link.beat();
    await Bun.sleep(100);
    expect(closed).toBeNull();
    now += 2;
    hub.deps.link.beat();
    await until(() => closed, 2_000, "closed");
    expect(closed!).toEqual({ code: 4004, reason: "no heartbeat" });
  } finally {
    hub.stop();
    await server.stop(true);
    db.close();
  }
});

test("the worker drops a hub that stops answering and dials again", async () => {
  let connections = 0;
  const server = Bun.serve({
    port: 0,
    fetch: (req, s) => (s.upgrade(req) ? undefined : new Response("no", { status: 400 })),
    websocket: {
      open: () => void connections++,
      message(ws, msg) {
        const f = fromBinary(WorkerFrameSchema, msg as Buffer).frame;
        // Welcome the hello, then never answer again (a hub that hangs or a cut cable).
        if (f.case === "hello") {
          ws.send(
            toBinary(
              HubFrameSchema,
              create(HubFrameSchema, { frame: { case: "welcome", value: { workerId: "w" } } }),
            ),
          );
        }
      },
    },
  });
  const outbox = new Outbox(openWorkerDb(":memory:"));
  const lines: string[] = [];
  const link = new WorkerLink({
    hubUrl: `http://127.0.0.1:${server.port}`,
    credential: "c".repeat(43),
    outbox,
    hello: () => ({ hostname: "h" }),
    onCommand: async () => undefined,
    log: (l) => lines.push(l),
    heartbeatMs: 20,
    deadMs: 150,
  });
  try {
    link.start();
    await until(() => connections >= 2, 5_000, "a second connection");
    expect(lines.some((l) => l.includes("no heartbeat from the hub"))).toBe(true);
  } finally {
    link.stop();
    outbox.close();
    await server.stop(true);
  }
});
