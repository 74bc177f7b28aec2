/** The streams store: cached history at once, then live from the cursor; resets; closing. */
import { expect, test } from "bun:test";
import { create } from "@bufbuild/protobuf";
import { EventKind, EventSchema, type Event } from "@gen/switchboard/v1/common_pb.ts";
import { testApp } from "../testing/app.ts";
import { memoryCache } from "./cache.ts";
import { useStreamsStore } from "./streams.ts";

const ev = (seq: number, kind = EventKind.SESSION_UPDATE): Event =>
  create(EventSchema, { seq, kind, json: "{}" });

async function openStream(cached: Event[]) {
  const cache = memoryCache();
  await cache.append("s1", cached, false);
  const t = testApp({ cache });
  t.services.live.start();
  t.socket().open();
  const streams = t.run(() => useStreamsStore());
  const state = await streams.open("s1");
  return { t, cache, streams, state };
}

test("a cold start shows the cached events at once and subscribes after the last of them", async () => {
  const { t, state } = await openStream([ev(1), ev(2), ev(3)]);
  expect(state.events.map((e) => e.seq)).toEqual([1, 2, 3]);
  expect(state.cursor).toBe(3);
  expect(t.socket().frames("subscribe")).toEqual([
    expect.objectContaining({ streamId: "s1", afterSeq: 3 }),
  ]);
});

test("live batches are appended and cached; the head and live flag follow the hub", async () => {
  const { t, cache, streams, state } = await openStream([ev(1)]);
  t.socket().receive({
    case: "events",
    value: { streamId: "s1", events: [ev(2), ev(3)], live: true, headSeq: 3 },
  });
  expect(state.events.map((e) => e.seq)).toEqual([1, 2, 3]);
  expect(state.live).toBe(true);
  expect(streams.head("s1")).toBe(3);
  await streams.flushed();
  expect((await cache.events("s1")).map((e) => e.seq)).toEqual([1, 2, 3]);
});

test("a reset replaces what was held, in memory and in the cache", async () => {
  const { t, cache, streams, state } = await openStream([ev(1), ev(2)]);
  t.socket().receive({
    case: "events",
    value: {
      streamId: "s1",
      reset: true,
      events: [ev(9, EventKind.TERMINAL_SNAPSHOT), ev(10, EventKind.TERMINAL_OUTPUT)],
      live: true,
      headSeq: 10,
    },
  });
  expect(state.events.map((e) => e.seq)).toEqual([9, 10]);
  await streams.flushed();
  expect((await cache.events("s1")).map((e) => e.seq)).toEqual([9, 10]);
});

test("a cache with a hole is used only up to the hole", async () => {
  const { t, state } = await openStream([ev(1), ev(2), ev(4)]);
  expect(state.events.map((e) => e.seq)).toEqual([1, 2]);
  expect(t.socket().frames("subscribe")[0]!.afterSeq).toBe(2);
});

test("opens are counted: the last close unsubscribes, a reopen resumes from the cursor", async () => {
  const { t, streams, state } = await openStream([]);
  await streams.open("s1");
  t.socket().receive({ case: "events", value: { streamId: "s1", events: [ev(1)], live: true } });
  streams.close("s1");
  expect(t.socket().frames("unsubscribe")).toHaveLength(0);
  streams.close("s1");
  expect(t.socket().frames("unsubscribe")).toHaveLength(1);
  expect(state.live).toBe(false);
  expect(state.events).toHaveLength(1);
  await streams.open("s1");
  expect(t.socket().frames("subscribe").at(-1)!.afterSeq).toBe(1);
});

test("a refused stream shows the hub's reason", async () => {
  const { t, state } = await openStream([]);
  t.socket().receive({
    case: "error",
    value: { streamId: "s1", code: "not_found", message: "no such stream" },
  });
  expect(state.error).toBe("no such stream");
});
