import { expect, test } from "bun:test";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { EventKind, EventSchema, type Event } from "../gen/switchboard/v1/common_pb.ts";
import { EventBatchSchema, ServerFrameSchema } from "../gen/switchboard/v1/live_pb.ts";
import { encodeEventBatch, encodeEventsFrame, type EventBatchFields } from "./event-wire.ts";

const ev = (init: Partial<Omit<Event, "$typeName">>): Event => create(EventSchema, init);

const bytes = (n: number, seed: number) =>
  Uint8Array.from({ length: n }, (_, i) => (i * seed) & 255);

const batches: EventBatchFields[] = [
  { streamId: "", events: [] },
  { streamId: "s1", events: [ev({})], live: true, headSeq: 0 },
  {
    streamId: "01JSTREAMÄ✓",
    reset: true,
    live: true,
    headSeq: 0xffffffff,
    events: [
      ev({
        seq: 1,
        timeMs: 1764064800123,
        kind: EventKind.AGENT_STATUS,
        json: '{"status":"idle"}',
      }),
      ev({ seq: 127, timeMs: 0.5, kind: EventKind.SESSION_UPDATE, json: "ünï😀 \u{10ffff}" }),
      ev({ seq: 128, kind: EventKind.TERMINAL_OUTPUT, data: bytes(127, 7), actor: "agent" }),
      ev({ seq: 16_384, timeMs: NaN, kind: EventKind.TERMINAL_OUTPUT, data: bytes(128, 3) }),
      ev({ seq: 2 ** 21, kind: EventKind.TERMINAL_SNAPSHOT, data: bytes(70_000, 11), actor: "a" }),
      ev({ seq: 2 ** 28, timeMs: -0, data: bytes(2 ** 21 + 5, 13), json: "x".repeat(300) }),
    ],
  },
];

test("a ServerFrame of events is byte for byte what toBinary writes, and reads back", () => {
  for (const b of batches) {
    const want = toBinary(
      ServerFrameSchema,
      create(ServerFrameSchema, {
        frame: { case: "events", value: { ...b, events: [...b.events] } },
      }),
    );
    const got = encodeEventsFrame(b);
    expect(got).toEqual(want);
    const back = fromBinary(ServerFrameSchema, got).frame;
    expect(back.case).toBe("events");
    if (back.case !== "events") continue;
    expect(back.value.streamId).toBe(b.streamId);
    expect(back.value.events.map((e) => e.seq)).toEqual(b.events.map((e) => e.seq));
    expect(back.value.events.map((e) => e.data)).toEqual(b.events.map((e) => e.data));
  }
});

test("an EventBatch alone is byte for byte what toBinary writes", () => {
  for (const b of batches) {
    const want = toBinary(
      EventBatchSchema,
      create(EventBatchSchema, { ...b, events: [...b.events] }),
    );
    expect(encodeEventBatch(b)).toEqual(want);
  }
});

test("a data field that is a view into a bigger buffer is written as the view", () => {
  const big = bytes(1000, 5);
  const view = big.subarray(100, 400);
  const frame = encodeEventsFrame({ streamId: "s", events: [ev({ seq: 3, data: view })] });
  const back = fromBinary(ServerFrameSchema, frame).frame;
  expect(back.case === "events" && back.value.events[0]!.data).toEqual(big.slice(100, 400));
});

test("a seq that is not a uint32 is refused, as toBinary refuses it", () => {
  expect(() => encodeEventsFrame({ streamId: "s", events: [ev({ seq: -1 })] })).toThrow();
  expect(() => encodeEventsFrame({ streamId: "s", events: [], headSeq: 2 ** 32 })).toThrow();
});
