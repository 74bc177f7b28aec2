/**
 * The live socket's replay rules on a terminal stream (snapshot plus tail for a client far
 * behind, every byte for one close by) and its frame limits, with a hand-driven worker.
 */
import { afterEach, expect, test } from "bun:test";
import { create, toBinary } from "@bufbuild/protobuf";
import { AgentKind, EventKind } from "../gen/switchboard/v1/common_pb.ts";
import { ClientFrameSchema } from "../gen/switchboard/v1/live_pb.ts";
import { join } from "node:path";
import { BUN, ROOT } from "../testing/clients.ts";
import { hubWithRawWorker, liveSocket, until, type HubRun } from "../testing/hub.ts";
import { MAX_CLIENT_FRAME_BYTES, SNAPSHOT_AFTER_BYTES } from "./live.ts";

const hubs: HubRun[] = [];
afterEach(async () => {
  await Promise.all(hubs.splice(0).map((h) => h.stop()));
});

async function terminalStream() {
  const { hub, b, worker, agents } = await hubWithRawWorker();
  hubs.push(hub);
  const [stream] = await agents(1, AgentKind.TERMINAL, ["bash"]);
  return { hub, b, worker, stream: stream! };
}

test("a terminal client far behind gets the newest snapshot and the tail; one close by gets every byte", async () => {
  const { hub, b, worker, stream } = await terminalStream();
  const chunk = new Uint8Array(100 * 1024).fill(0x61);
  const out = (seq: number) => ({
    seq,
    timeMs: Date.now(),
    kind: EventKind.TERMINAL_OUTPUT,
    data: chunk,
  });
  // 1-5 output (500 KiB), 6 a snapshot, 7-8 output.
  worker.events(stream, [1, 2, 3, 4, 5].map(out));
  worker.events(stream, [
    {
      seq: 6,
      timeMs: Date.now(),
      kind: EventKind.TERMINAL_SNAPSHOT,
      data: new TextEncoder().encode("screen"),
    },
  ]);
  worker.events(stream, [out(7), out(8)]);
  await until(() => worker.acks.includes(8), 5_000, "stored");
  expect(5 * chunk.length).toBeGreaterThan(SNAPSHOT_AFTER_BYTES);

  const far = await liveSocket(hub.url, b.jar);
  far.subscribe(stream, 0);
  await until(() => far.events(stream).at(-1)?.seq === 8, 5_000, "far caught up");
  const first = far.frames.find((f) => f.frame.case === "events")!;
  expect(first.frame.case === "events" && first.frame.value.reset).toBe(true);
  expect(far.events(stream).map((e) => e.seq)).toEqual([6, 7, 8]);
  expect(far.events(stream)[0]!.kind).toBe(EventKind.TERMINAL_SNAPSHOT);

  // From seq 4 only 100 KiB lie before the snapshot: cheaper to send every byte.
  const near = await liveSocket(hub.url, b.jar);
  near.subscribe(stream, 4);
  await until(() => near.events(stream).at(-1)?.seq === 8, 5_000, "near caught up");
  expect(near.events(stream).map((e) => e.seq)).toEqual([5, 6, 7, 8]);
  const nearFirst = near.frames.find((f) => f.frame.case === "events")!;
  expect(nearFirst.frame.case === "events" && nearFirst.frame.value.reset).toBe(false);

  // Live from here on, for both.
  worker.events(stream, [out(9)]);
  await until(
    () => far.events(stream).at(-1)?.seq === 9 && near.events(stream).at(-1)?.seq === 9,
    5_000,
    "live",
  );
  far.close();
  near.close();
});

test("an oversized or text frame closes only its own socket, with a reason", async () => {
  const { hub, b, stream } = await terminalStream();
  const big = await liveSocket(hub.url, b.jar);
  const text = await liveSocket(hub.url, b.jar);
  const fine = await liveSocket(hub.url, b.jar);
  fine.subscribe(stream, 0);
  big.ws.send(
    toBinary(
      ClientFrameSchema,
      create(ClientFrameSchema, {
        frame: {
          case: "subscribe",
          value: { streamId: "x".repeat(MAX_CLIENT_FRAME_BYTES), afterSeq: 0 },
        },
      }),
    ),
  );
  text.ws.send("subscribe please");
  await until(() => big.closed() && text.closed(), 5_000, "closed");
  expect(big.closed()).toEqual({ code: 1009, reason: "frame too large" });
  expect(text.closed()).toEqual({ code: 1003, reason: "binary protobuf frames only" });
  await until(
    () => fine.frames.some((f) => f.frame.case === "events" && f.frame.value.live),
    5_000,
    "fine still served",
  );
  expect(fine.closed()).toBeNull();
  fine.close();
});

test("a reader that stops reading falls behind, catches up from the log, and loses nothing", async () => {
  const { hub, b, worker, stream } = await terminalStream();
  const chunk = new Uint8Array(60 * 1024).fill(0x62);
  // 48 MiB: far past what the hub queues for one socket (LIVE_BEHIND_TERMINAL_BYTES).
  const total = 800;
  const reader = Bun.spawn({
    cmd: [
      BUN,
      join(ROOT, "src", "testing", "stalled-reader.ts"),
      hub.url,
      b.jar.header(),
      stream,
      "1500",
      String(total),
    ],
    stdout: "pipe",
    stderr: "pipe",
  });
  await Bun.sleep(300);
  for (let seq = 1; seq <= total; seq += 20) {
    worker.events(
      stream,
      Array.from({ length: 20 }, (_, i) => ({
        seq: seq + i,
        timeMs: Date.now(),
        kind: EventKind.TERMINAL_OUTPUT,
        data: chunk,
      })),
    );
  }
  const out = await new Response(reader.stdout).text();
  await reader.exited;
  const got = JSON.parse(out) as Record<string, number>;
  expect(got).toMatchObject({ last: total, count: total, gaps: 0, repeats: 0 });
  // It was taken off live at least once and replayed from the log.
  expect(got.fellBehind).toBeGreaterThanOrEqual(1);
});
