/** The link's frames of events stay within RESEND_PAGE_BYTES, live batches as well as resends. */
import { expect, test } from "bun:test";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { EventKind } from "../gen/switchboard/v1/common_pb.ts";
import { HubFrameSchema, WorkerFrameSchema } from "../gen/switchboard/v1/link_pb.ts";
import { until } from "../testing/hub.ts";
import { RESEND_PAGE_BYTES, WorkerLink } from "./link.ts";
import { Outbox } from "./outbox.ts";
import { openWorkerDb } from "./worker-db.ts";

test("a live batch larger than a page goes out in pages, every event once and in order", async () => {
  const frames: { seqs: number[]; bytes: number }[] = [];
  const server = Bun.serve({
    port: 0,
    fetch: (req, s) => (s.upgrade(req) ? undefined : new Response("no", { status: 400 })),
    websocket: {
      maxPayloadLength: 64 * 1024 * 1024,
      message(ws, msg) {
        const f = fromBinary(WorkerFrameSchema, msg as Buffer).frame;
        if (f.case === "hello") {
          ws.send(
            toBinary(
              HubFrameSchema,
              create(HubFrameSchema, { frame: { case: "welcome", value: { workerId: "w" } } }),
            ),
          );
        } else if (f.case === "events") {
          const { events } = f.value;
          frames.push({
            seqs: events.map((e) => e.seq),
            bytes: events.reduce((n, e) => n + e.json.length + e.data.length, 0),
          });
        }
      },
    },
  });
  const outbox = new Outbox(openWorkerDb(":memory:"));
  const link = new WorkerLink({
    hubUrl: `http://127.0.0.1:${server.port}`,
    credential: "c".repeat(43),
    outbox,
    hello: () => ({ hostname: "h" }),
    onCommand: async () => undefined,
  });
  try {
    link.start();
    await until(() => link.online, 5_000, "welcomed");
    // One turn's worth: 200 terminal events of 64 KiB, 12.5 MiB, stored and handed on together.
    const chunk = new Uint8Array(64 * 1024).fill(120);
    for (let i = 0; i < 200; i++) outbox.append("t", EventKind.TERMINAL_OUTPUT, { data: chunk });
    await until(() => frames.flatMap((f) => f.seqs).length >= 200, 10_000, "every event");
    expect(frames.length).toBeGreaterThan(1);
    for (const f of frames) expect(f.bytes).toBeLessThanOrEqual(RESEND_PAGE_BYTES);
    expect(frames.flatMap((f) => f.seqs)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
  } finally {
    link.stop();
    outbox.close();
    await server.stop(true);
  }
});
