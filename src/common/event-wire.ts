/**
 * A hand-written protobuf writer for the hot frames that carry events: ServerFrame.events (the
 * live socket) and EventBatch. It sizes the whole frame first and writes every byte once, where
 * the generic writer (toBinary) grows its buffer by doubling, moves each nested message to
 * widen its length prefix and copies the result again: for a terminal flood's 64 KiB events
 * that was several copies of every byte (bench:pty). The output is byte for byte what toBinary
 * writes (event-wire.test.ts checks it), so readers see no difference.
 */
import type { Event } from "../gen/switchboard/v1/common_pb.ts";

/** An EventBatch's fields (live.proto). */
export interface EventBatchFields {
  streamId: string;
  events: readonly Event[];
  reset?: boolean;
  live?: boolean;
  headSeq?: number;
}

// Tags: field number << 3 | wire type (0 varint, 1 fixed64, 2 length-delimited).
const EVENT_SEQ = 0x08;
const EVENT_TIME = 0x11;
const EVENT_KIND = 0x18;
const EVENT_JSON = 0x22;
const EVENT_DATA = 0x2a;
const EVENT_ACTOR = 0x32;
const BATCH_STREAM = 0x0a;
const BATCH_EVENT = 0x12;
const BATCH_RESET = 0x18;
const BATCH_LIVE = 0x20;
const BATCH_HEAD = 0x28;
const FRAME_EVENTS = 0x0a;

const utf8 = new TextEncoder();
const EMPTY = new Uint8Array(0);

/** ServerFrame { events: batch }, encoded. */
export function encodeEventsFrame(batch: EventBatchFields): Uint8Array<ArrayBuffer> {
  const plan = planBatch(batch);
  const out = new Writer(1 + varintSize(plan.size) + plan.size);
  out.byte(FRAME_EVENTS);
  out.varint(plan.size);
  writeBatch(out, batch, plan);
  return out.buf;
}

/** An EventBatch, encoded. */
export function encodeEventBatch(batch: EventBatchFields): Uint8Array<ArrayBuffer> {
  const plan = planBatch(batch);
  const out = new Writer(plan.size);
  writeBatch(out, batch, plan);
  return out.buf;
}

/** The encoded strings and sizes of a batch, computed once for sizing and writing. */
interface BatchPlan {
  size: number;
  stream: Uint8Array;
  events: EventPlan[];
}

interface EventPlan {
  size: number;
  json: Uint8Array;
  actor: Uint8Array;
}

function planBatch(b: EventBatchFields): BatchPlan {
  const stream = text(b.streamId);
  let size = field(stream.length);
  const events: EventPlan[] = [];
  for (const e of b.events) {
    const p = planEvent(e);
    events.push(p);
    size += 1 + varintSize(p.size) + p.size;
  }
  if (b.reset) size += 2;
  if (b.live) size += 2;
  if (b.headSeq) size += 1 + varintSize(b.headSeq);
  return { size, stream, events };
}

function planEvent(e: Event): EventPlan {
  // (A time of -0 is written, as toBinary writes it: only +0 is proto3's default.)
  const json = text(e.json);
  const actor = text(e.actor);
  let size = 0;
  if (e.seq !== 0) size += 1 + varintSize(e.seq);
  if (!Object.is(e.timeMs, 0)) size += 9;
  if (e.kind !== 0) size += 1 + varintSize(e.kind);
  size += field(json.length) + field(e.data.length) + field(actor.length);
  return { size, json, actor };
}

function writeBatch(out: Writer, b: EventBatchFields, plan: BatchPlan): void {
  out.bytesField(BATCH_STREAM, plan.stream);
  for (let i = 0; i < b.events.length; i++) {
    const e = b.events[i]!;
    const p = plan.events[i]!;
    out.byte(BATCH_EVENT);
    out.varint(p.size);
    if (e.seq !== 0) {
      out.byte(EVENT_SEQ);
      out.varint(e.seq);
    }
    if (!Object.is(e.timeMs, 0)) {
      out.byte(EVENT_TIME);
      out.double(e.timeMs);
    }
    if (e.kind !== 0) {
      out.byte(EVENT_KIND);
      out.varint(e.kind);
    }
    out.bytesField(EVENT_JSON, p.json);
    out.bytesField(EVENT_DATA, e.data);
    out.bytesField(EVENT_ACTOR, p.actor);
  }
  if (b.reset) out.pair(BATCH_RESET, 1);
  if (b.live) out.pair(BATCH_LIVE, 1);
  if (b.headSeq) {
    out.byte(BATCH_HEAD);
    out.varint(b.headSeq);
  }
}

/** A length-delimited field's size, or 0 when it is empty (proto3 leaves it out). */
function field(len: number): number {
  return len === 0 ? 0 : 1 + varintSize(len) + len;
}

function text(s: string): Uint8Array {
  return s === "" ? EMPTY : utf8.encode(s);
}

function varintSize(n: number): number {
  if (n < 0 || n > 0xffffffff || !Number.isInteger(n)) throw new Error(`not a uint32: ${n}`);
  return n < 0x80 ? 1 : n < 0x4000 ? 2 : n < 0x200000 ? 3 : n < 0x10000000 ? 4 : 5;
}

/** Writes into a buffer sized exactly beforehand. */
class Writer {
  readonly buf: Uint8Array<ArrayBuffer>;
  private readonly view: DataView;
  private pos = 0;

  constructor(size: number) {
    this.buf = new Uint8Array(size);
    this.view = new DataView(this.buf.buffer);
  }

  byte(b: number): void {
    this.buf[this.pos++] = b;
  }

  pair(tag: number, value: number): void {
    this.buf[this.pos++] = tag;
    this.buf[this.pos++] = value;
  }

  varint(n: number): void {
    while (n > 0x7f) {
      this.buf[this.pos++] = (n & 0x7f) | 0x80;
      n >>>= 7;
    }
    this.buf[this.pos++] = n;
  }

  double(x: number): void {
    this.view.setFloat64(this.pos, x, true);
    this.pos += 8;
  }

  bytesField(tag: number, bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.buf[this.pos++] = tag;
    this.varint(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
  }
}
