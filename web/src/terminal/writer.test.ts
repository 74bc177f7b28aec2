import { expect, test } from "bun:test";
import { create } from "@bufbuild/protobuf";
import { EventKind, EventSchema, type Event } from "@gen/switchboard/v1/common_pb.ts";
import { exitLine, sizeOf, TerminalWriter, type TerminalSink } from "./writer.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Records what the writer did, as readable lines. */
class FakeTerminal implements TerminalSink {
  log: string[] = [];
  write(data: Uint8Array | string) {
    this.log.push(`write ${typeof data === "string" ? data : dec.decode(data)}`);
  }
  reset() {
    this.log.push("reset");
  }
  resize(cols: number, rows: number) {
    this.log.push(`resize ${cols}x${rows}`);
  }
}

const out = (seq: number, text: string): Event =>
  create(EventSchema, { seq, kind: EventKind.TERMINAL_OUTPUT, data: enc.encode(text) });
const snap = (seq: number, text: string, cols = 80, rows = 24): Event =>
  create(EventSchema, {
    seq,
    kind: EventKind.TERMINAL_SNAPSHOT,
    data: enc.encode(text),
    json: JSON.stringify({ cols, rows }),
  });
const resize = (seq: number, cols: number, rows: number): Event =>
  create(EventSchema, {
    seq,
    kind: EventKind.TERMINAL_RESIZE,
    json: JSON.stringify({ cols, rows }),
  });

test("a fresh screen starts at the newest snapshot, then the tail", () => {
  const t = new FakeTerminal();
  const w = new TerminalWriter(t);
  w.sync([out(1, "a"), snap(2, "S1"), out(3, "b"), snap(4, "S2", 100, 30), out(5, "c")]);
  expect(t.log).toEqual(["resize 100x30", "write S2", "write c"]);
  expect(w.seq).toBe(5);
});

test("without a snapshot every event is written from the first", () => {
  const t = new FakeTerminal();
  new TerminalWriter(t).sync([out(1, "a"), resize(2, 40, 10), out(3, "b")]);
  expect(t.log).toEqual(["write a", "resize 40x10", "write b"]);
});

test("each new event is written once; later snapshots in the live tail are skipped", () => {
  const t = new FakeTerminal();
  const w = new TerminalWriter(t);
  const events = [out(1, "a")];
  w.sync(events);
  w.sync(events); // nothing new
  events.push(out(2, "b"), snap(3, "whole screen"), out(4, "c"));
  w.sync(events);
  w.sync(events);
  events.push(out(5, "d"));
  w.sync(events);
  expect(t.log).toEqual(["write a", "write b", "write c", "write d"]);
  expect(w.seq).toBe(5);
});

test("a reset (events replaced from the start) clears the screen and rebuilds it", () => {
  const t = new FakeTerminal();
  const w = new TerminalWriter(t);
  const events = [out(1, "a"), out(2, "b")];
  w.sync(events);
  // The streams store empties the array, then pushes the snapshot and the tail.
  events.splice(0);
  w.sync(events);
  events.push(snap(40, "S"), out(41, "x"));
  w.sync(events);
  events.push(out(42, "y"));
  w.sync(events);
  expect(t.log).toEqual([
    "write a",
    "write b",
    "reset",
    "resize 80x24",
    "write S",
    "write x",
    "write y",
  ]);
});

test("restart forgets the screen and the next sync writes from the snapshot again", () => {
  const t = new FakeTerminal();
  const w = new TerminalWriter(t);
  const events = [snap(1, "S"), out(2, "a")];
  w.sync(events);
  w.restart();
  w.sync(events);
  expect(t.log).toEqual([
    "resize 80x24",
    "write S",
    "write a",
    "reset",
    "resize 80x24",
    "write S",
    "write a",
  ]);
});

test("an exit is shown on a line of its own; bad payloads are not fatal", () => {
  const t = new FakeTerminal();
  const exit = create(EventSchema, {
    seq: 2,
    kind: EventKind.TERMINAL_EXIT,
    json: JSON.stringify({ exitCode: 3 }),
  });
  new TerminalWriter(t).sync([out(1, "a"), exit, resize(3, 0, 5)]);
  expect(t.log).toEqual(["write a", `write ${exitLine('{"exitCode":3}')}`]);
  expect(exitLine('{"exitCode":3}')).toContain("code 3");
  expect(exitLine('{"exitCode":null,"signal":"SIGTERM"}')).toContain("SIGTERM");
  expect(exitLine("nope")).toContain("exited");
  expect(sizeOf('{"cols":2.5,"rows":3}')).toBeNull();
  expect(sizeOf("{")).toBeNull();
  expect(sizeOf('{"cols":10,"rows":3}')).toEqual({ cols: 10, rows: 3 });
});
