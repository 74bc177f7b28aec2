/**
 * The LiveClient against a hand-driven socket and clock: cursors, gaps, repeats, resets,
 * reconnecting with backoff and on page lifecycle events, pings, and the hub's other frames.
 */
import { expect, test } from "bun:test";
import { create, toBinary, type MessageInitShape } from "@bufbuild/protobuf";
import { EventKind, EventSchema, type Event } from "@gen/switchboard/v1/common_pb.ts";
import { EventBatchSchema } from "@gen/switchboard/v1/live_pb.ts";
import { FakeClock, FakeDocument, FakeSocket } from "../testing/fake-socket.ts";
import { BACKOFF_MAX_MS, BACKOFF_MIN_MS, backoffDelay } from "./backoff.ts";
import {
  CLOSE_BAD_FRAME,
  CLOSE_DEAD,
  LiveClient,
  MAX_INFLATED_BYTES,
  PING_EVERY_MS,
  PONG_TIMEOUT_MS,
  type LiveState,
  type StreamBatch,
} from "./live-client.ts";

const ev = (seq: number, init: { kind?: EventKind } = {}): Event =>
  create(EventSchema, { seq, kind: init.kind ?? EventKind.SESSION_UPDATE, json: "{}" });

function setup(opts: { random?: () => number } = {}) {
  const clock = new FakeClock();
  const win = new EventTarget();
  const doc = new FakeDocument();
  const sockets: FakeSocket[] = [];
  const live = new LiveClient({
    url: "ws://hub/live",
    createSocket: (url) => {
      const s = new FakeSocket(url);
      sockets.push(s);
      return s;
    },
    window: win,
    document: doc,
    clock,
    random: opts.random ?? (() => 0.5),
  });
  const states: LiveState[] = [];
  live.onState((s) => states.push(s));
  const batches: StreamBatch[] = [];
  const socket = () => sockets.at(-1)!;
  return { live, clock, win, doc, sockets, socket, states, batches };
}

const seqs = (batches: StreamBatch[]) => batches.flatMap((b) => b.events.map((e) => e.seq));

test("subscribes with its cursor once open and hands over events in order", () => {
  const t = setup();
  const sub = t.live.subscribe("s1", 3, { onBatch: (b) => t.batches.push(b) });
  t.live.start();
  expect(t.states).toEqual(["connecting"]);
  expect(t.socket().url).toBe("ws://hub/live");
  expect(t.socket().binaryType).toBe("arraybuffer");
  t.socket().open();
  expect(t.live.state).toBe("open");
  expect(t.socket().frames("subscribe")).toEqual([
    expect.objectContaining({ streamId: "s1", afterSeq: 3 }),
  ]);
  t.socket().receive({
    case: "events",
    value: { streamId: "s1", events: [ev(4), ev(5)], live: true, headSeq: 5 },
  });
  expect(seqs(t.batches)).toEqual([4, 5]);
  expect(t.batches[0]).toMatchObject({ live: true, headSeq: 5, reset: false });
  expect(sub.cursor).toBe(5);
});

test("a batch that does not follow the cursor is dropped and the stream resubscribed once", () => {
  const t = setup();
  t.live.start();
  t.socket().open();
  const sub = t.live.subscribe("s1", 2, { onBatch: (b) => t.batches.push(b) });
  t.socket().receive({ case: "events", value: { streamId: "s1", events: [ev(4), ev(5)] } });
  t.socket().receive({ case: "events", value: { streamId: "s1", events: [ev(6)] } });
  expect(t.batches).toHaveLength(0);
  expect(
    t
      .socket()
      .frames("subscribe")
      .map((s) => s.afterSeq),
  ).toEqual([2, 2]);
  // The hub's answer to the resubscribe fills the hole; what follows is accepted again.
  t.socket().receive({
    case: "events",
    value: { streamId: "s1", events: [ev(3), ev(4), ev(5), ev(6)], live: true, headSeq: 6 },
  });
  t.socket().receive({ case: "events", value: { streamId: "s1", events: [ev(7)], live: true } });
  expect(seqs(t.batches)).toEqual([3, 4, 5, 6, 7]);
  expect(sub.cursor).toBe(7);
});

test("a hole inside a batch: what follows the cursor is kept, the rest asked for again", () => {
  const t = setup();
  t.live.start();
  t.socket().open();
  t.live.subscribe("s1", 2, { onBatch: (b) => t.batches.push(b) });
  t.socket().receive({ case: "events", value: { streamId: "s1", events: [ev(3), ev(5)] } });
  expect(seqs(t.batches)).toEqual([3]);
  expect(
    t
      .socket()
      .frames("subscribe")
      .map((s) => s.afterSeq),
  ).toEqual([2, 3]);
});

test("events the cursor already holds are skipped (a resubscribe crossing a live batch)", () => {
  const t = setup();
  t.live.start();
  t.socket().open();
  t.live.subscribe("s1", 0, { onBatch: (b) => t.batches.push(b) });
  t.socket().receive({ case: "events", value: { streamId: "s1", events: [ev(1), ev(2)] } });
  t.socket().receive({
    case: "events",
    value: { streamId: "s1", events: [ev(1), ev(2), ev(3)], live: true },
  });
  t.socket().receive({ case: "events", value: { streamId: "s1", events: [ev(3)], live: true } });
  expect(seqs(t.batches)).toEqual([1, 2, 3]);
  // A batch of repeats that says "live" still tells the subscriber it is caught up.
  expect(t.batches.at(-1)).toMatchObject({ events: [], live: true });
});

test("a reset batch replaces the cursor, whatever it was", () => {
  const t = setup();
  t.live.start();
  t.socket().open();
  const sub = t.live.subscribe("term", 2, { onBatch: (b) => t.batches.push(b) });
  t.socket().receive({
    case: "events",
    value: {
      streamId: "term",
      reset: true,
      events: [ev(40, { kind: EventKind.TERMINAL_SNAPSHOT }), ev(41)],
      live: true,
      headSeq: 41,
    },
  });
  expect(t.batches).toHaveLength(1);
  expect(t.batches[0]!.reset).toBe(true);
  expect(sub.cursor).toBe(41);
});

test("a closed socket is replaced after a jittered backoff, and every stream resumes from its cursor", () => {
  const t = setup();
  t.live.start();
  t.socket().open();
  t.live.subscribe("a", 0, { onBatch: (b) => t.batches.push(b) });
  t.live.subscribe("b", 7, { onBatch: () => {} });
  t.socket().receive({ case: "events", value: { streamId: "a", events: [ev(1), ev(2)] } });
  const closes: { wasOpen: boolean }[] = [];
  t.live.onClose((c) => closes.push(c));
  t.socket().drop(1006);
  expect(t.live.state).toBe("waiting");
  expect(closes).toEqual([expect.objectContaining({ wasOpen: true, code: 1006 })]);
  t.clock.advance(backoffDelay(0, () => 0.5) - 1);
  expect(t.sockets).toHaveLength(1);
  t.clock.advance(1);
  expect(t.sockets).toHaveLength(2);
  t.socket().open();
  expect(
    t
      .socket()
      .frames("subscribe")
      .map((s) => [s.streamId, s.afterSeq]),
  ).toEqual([
    ["a", 2],
    ["b", 7],
  ]);
  expect(t.states).toEqual(["connecting", "open", "waiting", "connecting", "open"]);
});

test("failed attempts back off exponentially up to the ceiling, and an open resets it", () => {
  expect(backoffDelay(0, () => 0.999)).toBeLessThan(BACKOFF_MIN_MS);
  expect(backoffDelay(30, () => 0.999)).toBeLessThan(BACKOFF_MAX_MS);
  expect(backoffDelay(30, () => 0.999)).toBeGreaterThan(BACKOFF_MAX_MS * 0.99);
  expect(backoffDelay(5, () => 0)).toBe(0);

  const t = setup({ random: () => 1 });
  t.live.start();
  const delays: number[] = [];
  for (let i = 0; i < 8; i++) {
    t.socket().drop(1006); // refused before opening
    const before = t.clock.now();
    const n = t.sockets.length;
    while (t.sockets.length === n) t.clock.advance(1);
    delays.push(t.clock.now() - before);
  }
  expect(delays).toEqual([250, 500, 1000, 2000, 4000, 8000, 15000, 15000]);
  t.socket().open();
  t.socket().drop(1006);
  const before = t.clock.now();
  const n = t.sockets.length;
  while (t.sockets.length === n) t.clock.advance(1);
  expect(t.clock.now() - before).toBe(250);
});

test("online, pageshow and the page becoming visible retry at once instead of waiting", () => {
  const t = setup({ random: () => 1 });
  t.live.start();
  for (let i = 0; i < 6; i++) {
    t.socket().drop();
    t.clock.advance(BACKOFF_MAX_MS);
  }
  t.socket().drop();
  expect(t.live.state).toBe("waiting");
  const n = t.sockets.length;
  t.win.dispatchEvent(new Event("online"));
  expect(t.sockets.length).toBe(n + 1);
  t.socket().drop();
  t.win.dispatchEvent(new Event("pageshow"));
  expect(t.sockets.length).toBe(n + 2);
  t.socket().drop();
  t.doc.show("hidden");
  expect(t.sockets.length).toBe(n + 2);
  t.doc.show("visible");
  expect(t.sockets.length).toBe(n + 3);
  // While a socket is being opened, another wake-up does not open a second one.
  t.win.dispatchEvent(new Event("online"));
  expect(t.sockets.length).toBe(n + 3);
});

test("an open socket is pinged every 20 s and given up on when it stops answering", () => {
  const t = setup();
  t.live.start();
  t.socket().open();
  t.clock.advance(PING_EVERY_MS);
  expect(t.socket().frames("ping")).toHaveLength(1);
  const nonce = t.socket().frames("ping")[0]!.nonce;
  t.socket().receive({ case: "pong", value: { nonce } });
  t.clock.advance(PONG_TIMEOUT_MS + 1);
  expect(t.live.state).toBe("open");
  t.clock.advance(PING_EVERY_MS - PONG_TIMEOUT_MS - 1);
  expect(t.socket().frames("ping")).toHaveLength(2);
  // No answer this time: the socket is closed as dead and a new one follows.
  t.clock.advance(PONG_TIMEOUT_MS);
  expect(t.sockets[0]!.closedWith).toEqual({ code: CLOSE_DEAD, reason: "no answer to ping" });
  expect(t.live.state).toBe("waiting");
  t.clock.advance(BACKOFF_MAX_MS);
  expect(t.sockets).toHaveLength(2);
});

test("waking up with an open socket checks it with a ping", () => {
  const t = setup();
  t.live.start();
  t.socket().open();
  t.doc.show("hidden");
  t.doc.show("visible");
  expect(t.socket().frames("ping")).toHaveLength(1);
  t.clock.advance(PONG_TIMEOUT_MS);
  expect(t.live.state).toBe("waiting");
});

test("changed and closing frames reach their listeners; stream errors reach the subscriber", () => {
  const t = setup();
  const changed: string[] = [];
  const closing: string[] = [];
  const errors: string[] = [];
  t.live.onChanged((c) => changed.push(`${c.what}:${c.workspaceId}`));
  t.live.onClosing((r) => closing.push(r));
  t.live.subscribe("s1", 0, { onBatch: () => {}, onError: (e) => errors.push(e.code) });
  t.live.start();
  t.socket().open();
  t.socket().receive({ case: "changed", value: { what: "agents", workspaceId: "w1" } });
  t.socket().receive({ case: "closing", value: { reason: "your rights changed" } });
  t.socket().receive({
    case: "error",
    value: { streamId: "s1", code: "not_found", message: "no such stream" },
  });
  expect(changed).toEqual(["agents:w1"]);
  expect(closing).toEqual(["your rights changed"]);
  expect(errors).toEqual(["not_found"]);
});

test("unsubscribing tells the hub and ignores what was still in flight", () => {
  const t = setup();
  t.live.start();
  t.socket().open();
  const sub = t.live.subscribe("s1", 0, { onBatch: (b) => t.batches.push(b) });
  sub.unsubscribe();
  expect(t.socket().frames("unsubscribe")).toEqual([expect.objectContaining({ streamId: "s1" })]);
  t.socket().receive({ case: "events", value: { streamId: "s1", events: [ev(1)] } });
  expect(t.batches).toHaveLength(0);
  t.socket().drop();
  t.clock.advance(BACKOFF_MAX_MS);
  t.socket().open();
  expect(t.socket().frames("subscribe")).toHaveLength(0);
});

test("stop closes the socket, cancels retries and stops listening to the page", () => {
  const t = setup();
  t.live.start();
  t.socket().open();
  t.live.stop();
  expect(t.sockets[0]!.closedWith?.code).toBe(1000);
  expect(t.live.state).toBe("stopped");
  expect(t.clock.pending()).toBe(0);
  t.win.dispatchEvent(new Event("online"));
  t.doc.show("visible");
  expect(t.sockets).toHaveLength(1);
  // Started again, it opens a new socket.
  t.live.start();
  expect(t.sockets).toHaveLength(2);
});

test("the streams the page shows are told on change, on visibility and after a reconnect", () => {
  const t = setup();
  t.live.start();
  t.socket().open();
  const shown = () =>
    t
      .socket()
      .frames("viewing")
      .map((v) => [[v.streamId, ...v.streamIds].filter(Boolean), v.visible]);
  const leaveS1 = t.live.view("s1");
  t.doc.show("hidden");
  expect(shown()).toEqual([
    [["s1"], true],
    [["s1"], false],
  ]);
  t.doc.show("visible");
  t.socket().drop();
  t.clock.advance(BACKOFF_MAX_MS);
  t.socket().open();
  expect(shown()).toEqual([[["s1"], true]]);
  // Two panes: s1 twice and s2. Closing one s1 pane keeps s1 shown.
  const leaveS1Again = t.live.view("s1");
  const leaveS2 = t.live.view("s2");
  expect(shown().at(-1)).toEqual([["s1", "s2"], true]);
  leaveS1Again();
  leaveS1Again(); // a second call changes nothing
  expect(shown().at(-1)).toEqual([["s1", "s2"], true]);
  leaveS1();
  expect(shown().at(-1)).toEqual([["s2"], true]);
  leaveS2();
  expect(shown().at(-1)).toEqual([[], true]);
});

test("terminal input and resizes go out only on an open socket", () => {
  const t = setup();
  expect(t.live.sendInput("t", new Uint8Array([104]))).toBe(false);
  t.live.start();
  t.socket().open();
  expect(t.live.sendInput("t", new Uint8Array([104]))).toBe(true);
  expect(t.live.sendResize("t", 80, 24)).toBe(true);
  expect(t.socket().frames("input")[0]!.data).toEqual(new Uint8Array([104]));
  expect(t.socket().frames("resize")[0]).toMatchObject({ cols: 80, rows: 24 });
});

/** A batch as the hub deflates it for many viewers: encoded, then raw DEFLATE. */
const deflated = (batch: MessageInitShape<typeof EventBatchSchema>) => ({
  case: "deflatedEvents" as const,
  value: Bun.deflateSync(toBinary(EventBatchSchema, create(EventBatchSchema, batch))),
});

/** Waits (in real time: inflating is the runtime's own work) until `pred` holds. */
async function settle(pred: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !pred(); i++) await Bun.sleep(2);
  expect(pred()).toBe(true);
}

test("deflated batches and plain frames behind them are handed over in arrival order", async () => {
  const t = setup();
  t.live.start();
  t.socket().open();
  const sub = t.live.subscribe("s1", 3, { onBatch: (b) => t.batches.push(b) });
  const changed: string[] = [];
  t.live.onChanged((c) => changed.push(c.what));
  t.socket().receive(deflated({ streamId: "s1", events: [ev(4), ev(5)], live: true, headSeq: 5 }));
  t.socket().receive({ case: "events", value: { streamId: "s1", events: [ev(6)], live: true } });
  t.socket().receive({ case: "changed", value: { what: "agents" } });
  t.socket().receive(deflated({ streamId: "s1", events: [ev(7), ev(8)], live: true }));
  t.socket().receive({ case: "events", value: { streamId: "s1", events: [ev(9)], live: true } });
  // The plain frames wait for the inflate before them.
  expect(t.batches).toHaveLength(0);
  expect(changed).toEqual([]);
  await settle(() => t.batches.length === 4);
  expect(t.batches.map((b) => b.events.map((e) => e.seq))).toEqual([[4, 5], [6], [7, 8], [9]]);
  expect(t.batches[0]).toMatchObject({ live: true, headSeq: 5, reset: false });
  expect(changed).toEqual(["agents"]);
  expect(sub.cursor).toBe(9);
  // In order, so no hole was seen and nothing was asked for again.
  expect(t.socket().frames("subscribe")).toHaveLength(1);
  // With nothing left to inflate, a plain frame is handled at once again.
  t.socket().receive({ case: "events", value: { streamId: "s1", events: [ev(10)], live: true } });
  expect(sub.cursor).toBe(10);
});

test("a deflated frame that does not inflate to a batch drops the socket; streams resume from their cursors", async () => {
  const bad = [
    new Uint8Array([0xde, 0xad, 0xbe, 0xef, 0x01]), // not DEFLATE
    Bun.deflateSync(new Uint8Array([0xff, 0xff, 0xff, 0xff])), // inflates, not an EventBatch
    Bun.deflateSync(new Uint8Array(MAX_INFLATED_BYTES + 1)), // inflates past the limit
  ];
  for (const value of bad) {
    const t = setup();
    t.live.start();
    t.socket().open();
    const sub = t.live.subscribe("s1", 0, { onBatch: (b) => t.batches.push(b) });
    t.socket().receive({ case: "events", value: { streamId: "s1", events: [ev(1)], live: true } });
    t.socket().receive({ case: "deflatedEvents", value });
    t.socket().receive({ case: "events", value: { streamId: "s1", events: [ev(3)], live: true } });
    await settle(() => t.live.state === "waiting");
    expect(t.sockets[0]!.closedWith?.code).toBe(CLOSE_BAD_FRAME);
    expect(t.sockets[0]!.closedWith?.reason).toStartWith("unreadable deflated frame");
    // What came after the broken frame was not handed over: the cursor stays before it.
    expect(seqs(t.batches)).toEqual([1]);
    expect(sub.cursor).toBe(1);
    t.clock.advance(BACKOFF_MAX_MS);
    expect(t.sockets).toHaveLength(2);
    t.socket().open();
    expect(t.socket().frames("subscribe")).toEqual([
      expect.objectContaining({ streamId: "s1", afterSeq: 1 }),
    ]);
    // The new socket's frames are handled at once: nothing of the old one's queue is left.
    t.socket().receive({ case: "events", value: { streamId: "s1", events: [ev(2)], live: true } });
    expect(seqs(t.batches)).toEqual([1, 2]);
  }
});

test("frames queued behind an inflate are not handed over once the socket is replaced", async () => {
  const t = setup();
  t.live.start();
  t.socket().open();
  t.live.subscribe("s1", 0, { onBatch: (b) => t.batches.push(b) });
  t.socket().receive(deflated({ streamId: "s1", events: [ev(1)], live: true }));
  t.socket().receive({ case: "events", value: { streamId: "s1", events: [ev(2)], live: true } });
  t.socket().drop();
  t.clock.advance(BACKOFF_MAX_MS);
  t.socket().open();
  t.socket().receive({ case: "events", value: { streamId: "s1", events: [ev(1)], live: true } });
  expect(seqs(t.batches)).toEqual([1]);
  await Bun.sleep(20);
  // The old socket's inflate finished meanwhile and was thrown away, with the frame behind it.
  expect(seqs(t.batches)).toEqual([1]);
  expect(t.batches).toHaveLength(1);
});
