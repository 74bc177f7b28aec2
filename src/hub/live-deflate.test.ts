/**
 * Live fan-out to many subscribers: past COMPRESS_MAX_SUBSCRIBERS on one stream the hub deflates
 * a batch once (ServerFrame.deflated_events) instead of per socket; with fewer, and for small
 * batches, frames go as before. Every subscriber gets every event once, in order, either way.
 */
import { afterEach, expect, test } from "bun:test";
import { AgentKind, EventKind } from "../gen/switchboard/v1/common_pb.ts";
import { hubWithRawWorker, liveSocket, rawWorker, until, type HubRun } from "../testing/hub.ts";
import { COMPRESS_MAX_SUBSCRIBERS, DEFLATE_MIN_BYTES } from "./live.ts";

const hubs: HubRun[] = [];
afterEach(async () => {
  await Promise.all(hubs.splice(0).map((h) => h.stop()));
});

/** A hub with a hand-driven worker and `n` ACP agents' streams on it. */
async function sessionStreams(n: number) {
  const { hub, b, worker, agents } = await hubWithRawWorker();
  hubs.push(hub);
  return { hub, b, worker, streams: await agents(n, AgentKind.ACP, ["some-agent"]) };
}

/** Session updates as an agent streams its answer: repetitive JSON, ~200 bytes each. */
function updates(from: number, count: number) {
  return Array.from({ length: count }, (_, i) => ({
    seq: from + i,
    timeMs: Date.now(),
    kind: EventKind.SESSION_UPDATE,
    json: JSON.stringify({
      sessionId: "s-1",
      update: {
        sessionUpdate: "agent_message_chunk",
        messageId: "m-1",
        content: { type: "text", text: `chunk ${from + i} of the answer` },
      },
    }),
  }));
}

/** Sends batches of `sizes` events in turn; returns the last seq. */
function sendBatches(
  worker: Awaited<ReturnType<typeof rawWorker>>,
  stream: string,
  sizes: number[],
) {
  let seq = 1;
  for (const n of sizes) {
    worker.events(stream, updates(seq, n));
    seq += n;
  }
  return seq - 1;
}

test("past the subscriber limit a batch goes deflated once, and every subscriber gets every event once, in order", async () => {
  const { hub, b, worker, streams } = await sessionStreams(2);
  const [many, few] = streams as [string, string];
  // One more than the limit on one stream; exactly the limit on the other.
  const manySockets = await Promise.all(
    Array.from({ length: COMPRESS_MAX_SUBSCRIBERS + 1 }, () => liveSocket(hub.url, b.jar)),
  );
  const fewSockets = await Promise.all(
    Array.from({ length: COMPRESS_MAX_SUBSCRIBERS }, () => liveSocket(hub.url, b.jar)),
  );
  for (const s of manySockets) s.subscribe(many, 0);
  for (const s of fewSockets) s.subscribe(few, 0);
  const live = (s: (typeof manySockets)[number]) =>
    s.frames.some((f) => f.frame.case === "events" && f.frame.value.live);
  await until(() => [...manySockets, ...fewSockets].every(live), 5_000, "all live");

  // Batches of 40 events (about 5 KiB encoded) and a lone event (far under DEFLATE_MIN_BYTES).
  const sizes = [40, 40, 1, 40, 40, 40];
  const big = sizes.filter((n) => n > 1).length;
  expect(updates(1, 1)[0]!.json.length).toBeLessThan(DEFLATE_MIN_BYTES / 2);
  const last = sendBatches(worker, many, sizes);
  expect(sendBatches(worker, few, sizes)).toBe(last);
  const all = [...manySockets, ...fewSockets];
  await until(
    () =>
      all.every((s) => s.events(many).at(-1)?.seq === last || s.events(few).at(-1)?.seq === last),
    10_000,
    "every socket has every event",
  );
  const oneToLast = Array.from({ length: last }, (_, i) => i + 1);
  for (const s of manySockets) {
    expect(s.events(many).map((e) => e.seq)).toEqual(oneToLast);
    expect(s.events(many)[5]!.json).toContain("chunk 6 of the answer");
    // The big batches came deflated, the lone event plain; the first plain one is the replay.
    expect(s.wire.filter((c) => c === "deflatedEvents")).toHaveLength(big);
    expect(s.wire.filter((c) => c === "events")).toHaveLength(2);
    expect(s.closed()).toBeNull();
  }
  for (const s of fewSockets) {
    expect(s.events(few).map((e) => e.seq)).toEqual(oneToLast);
    expect(s.wire).not.toContain("deflatedEvents");
    expect(s.wire.filter((c) => c === "events")).toHaveLength(sizes.length + 1);
  }

  // A late subscriber replays from the log (its own socket, as before) and joins the live ones.
  const late = await liveSocket(hub.url, b.jar);
  late.subscribe(many, 0);
  await until(() => live(late), 5_000, "late live");
  worker.events(many, updates(last + 1, 40));
  await until(
    () => [...manySockets, late].every((s) => s.events(many).at(-1)?.seq === last + 40),
    10_000,
    "the next batch everywhere",
  );
  expect(late.events(many).map((e) => e.seq)).toEqual([
    ...oneToLast,
    ...updates(last + 1, 40).map((e) => e.seq),
  ]);
  expect(late.wire.filter((c) => c === "deflatedEvents")).toHaveLength(1);
  for (const s of manySockets) {
    expect(s.wire.filter((c) => c === "deflatedEvents")).toHaveLength(big + 1);
  }
  for (const s of [...all, late]) s.close();
});
