/**
 * The outbox's window of unacknowledged events: full past it while the link is up, drained at
 * the low-water mark, never full while the link is down.
 */
import { expect, test } from "bun:test";
import { EventKind } from "../gen/switchboard/v1/common_pb.ts";
import { LOW_WATER, Outbox } from "./outbox.ts";
import { openWorkerDb } from "./worker-db.ts";

function outbox(windowEvents: number, windowBytes = 1 << 30) {
  const box = new Outbox(openWorkerDb(":memory:"), { windowEvents, windowBytes });
  const changes: boolean[] = [];
  const p = box.pressure("s");
  p.onChange((full) => changes.push(full));
  const add = (n: number, text = "x") => {
    for (let i = 0; i < n; i++) box.append("s", EventKind.SESSION_UPDATE, { json: { text } });
  };
  return { box, p, changes, add };
}

test("past the window with the link up the stream is full; acks under the low-water mark drain it", () => {
  const { box, p, changes, add } = outbox(16);
  const low = 16 * LOW_WATER;
  box.setLinkUp(true);
  add(16);
  expect(p.full).toBe(false);
  add(1);
  expect(p.full).toBe(true);
  add(7);
  box.flush();
  // 24 unacked; acks leave one above the low-water mark, then one at it.
  box.ack("s", 24 - Math.floor(low) - 1);
  expect(p.full).toBe(true);
  box.ack("s", 24 - Math.floor(low));
  expect(p.full).toBe(false);
  expect(changes).toEqual([true, false]);
  expect(box.unackedSize("s").events).toBe(Math.floor(low));
});

test("the window counts bytes too, and acks give them back", () => {
  const { box, p, add } = outbox(1_000, 1_000);
  box.setLinkUp(true);
  const text = "y".repeat(90); // about 100 bytes of JSON each
  add(9, text);
  expect(p.full).toBe(false);
  add(2, text);
  expect(p.full).toBe(true);
  const before = box.unackedSize("s").bytes;
  expect(before).toBeGreaterThan(1_000);
  box.flush();
  box.ack("s", 7);
  expect(box.unackedSize("s").bytes).toBe(before - (before / 11) * 7);
  expect(p.full).toBe(false);
  box.ack("s", 11);
  expect(box.unackedSize("s")).toEqual({ events: 0, bytes: 0 });
});

test("with the link down nothing is held; the link's return holds what is past the window", () => {
  const { box, p, changes, add } = outbox(10);
  add(50);
  expect(p.full).toBe(false);
  box.setLinkUp(true);
  expect(p.full).toBe(true);
  // The link drops again: released at once, though nothing was acked.
  box.setLinkUp(false);
  expect(p.full).toBe(false);
  add(50);
  expect(p.full).toBe(false);
  box.setLinkUp(true);
  box.flush();
  box.ack("s", 100);
  expect(p.full).toBe(false);
  expect(changes).toEqual([true, false, true, false]);
});

test("an adopted head past what the worker numbered counts nothing as unacked", () => {
  const { box, p, add } = outbox(10);
  box.setLinkUp(true);
  add(20);
  expect(p.full).toBe(true);
  box.flush();
  box.adoptHead("s", 30);
  expect(p.full).toBe(false);
  expect(box.unackedSize("s")).toEqual({ events: 0, bytes: 0 });
});

test("a resend page stops at its byte bound, but always holds at least one event", () => {
  const box = new Outbox(openWorkerDb(":memory:"));
  const mib = new Uint8Array(1024 * 1024);
  for (let i = 0; i < 10; i++) box.append("t", EventKind.TERMINAL_OUTPUT, { data: mib });
  box.flush();
  const page = box.unacked("t", 0, 1_000, 3.5 * 1024 * 1024);
  expect(page.map((e) => e.seq)).toEqual([1, 2, 3]);
  // The next page starts where that one stopped.
  expect(box.unacked("t", 3, 1_000, 3.5 * 1024 * 1024).map((e) => e.seq)).toEqual([4, 5, 6]);
  // An event larger than the bound still goes, alone.
  expect(box.unacked("t", 6, 1_000, 1024).map((e) => e.seq)).toEqual([7]);
  // Without a bound, the count limits.
  expect(box.unacked("t", 0, 4).map((e) => e.seq)).toEqual([1, 2, 3, 4]);
});
