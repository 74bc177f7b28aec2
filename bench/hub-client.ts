/**
 * A benchmark client process for bench/hub.ts: holds many live WebSockets (/live) of a hub, as
 * the web app opens them, and checks and times what each receives.
 *
 * Driven over stdin/stdout, one JSON command or event per line. `open` connects `conns` sockets
 * with the given session cookie and subscribes each to one stream after `afterSeq`; `ready`
 * follows once every socket had its first live batch. From then on each socket checks that seqs
 * come exactly once, in order, with no gap, counts events and SESSION_UPDATEs, and records, per
 * frame, the receive time minus each event's `time_ms` (the worker's stamp) into one histogram.
 * `finish` names the stream's final seq: `result` follows once every socket has it, or once no
 * socket made progress for `stallMs` (then the sockets short of it are reported as such).
 *
 * Frames are read by a hand-written protobuf walker that takes only seq, time_ms and kind from
 * each Event (field numbers from proto/switchboard/v1/live.proto and common.proto) and skips
 * the JSON; `decode: "full"` uses the generated fromBinary instead (bench/hub.ts measures both).
 * A deflated_events frame the hub sent to many sockets reaches every socket of this process with
 * the same bytes: the sockets share one inflate of it (a cache of the last few, compared byte
 * for byte), and each still walks and checks its own events. A browser inflates its own copy on
 * its own device; here one machine plays all of them, and 1,000 inflates of each frame would
 * measure the machine, not the hub (bench/hub.ts reports the per-socket cost on its own).
 * BENCH_HUB_INFLATE_EACH=1 makes every socket inflate for itself.
 * The process exits when its stdin ends, so a driver that dies takes its clients with it.
 */
import { fromBinary } from "@bufbuild/protobuf";
import { inflateRawSync } from "node:zlib";
import { EventBatchSchema, ServerFrameSchema } from "../src/gen/switchboard/v1/live_pb.ts";
import { MAX_INFLATED_BYTES } from "../src/hub/live.ts";
import { LatencyHist, wallNow, type SparseHist } from "./scan.ts";
import { readCommands } from "./report.ts";

export type ClientCommand =
  | {
      op: "open";
      tag: string;
      /** ws://host:port/live */
      url: string;
      cookie: string;
      origin: string;
      streamId: string;
      afterSeq: number;
      conns: number;
      /** How many of this group's sockets also read the agent's own send stamp from the JSON. */
      stampSockets: number;
      decode: "walk" | "full";
    }
  | { op: "finish"; tag: string; seq: number; stallMs: number }
  | { op: "close"; tag: string };

export interface SocketResult {
  /** Events received (in order and not repeated). */
  events: number;
  /** SESSION_UPDATE events among them. */
  updates: number;
  /** The last seq in order. */
  lastSeq: number;
  /** Receive time of the first and of the last event. */
  firstAt: number;
  lastAt: number;
  frames: number;
  /** Bytes received (as sent: deflated frames count deflated). */
  bytes: number;
  /** Frames that came as deflated_events. */
  deflated: number;
  /** Seqs skipped (sum over gaps), events repeated or out of order, reset batches. */
  missing: number;
  gaps: number;
  repeats: number;
  resets: number;
  /** The first thing that went wrong, if anything. */
  problem: string | null;
}

export type ClientEvent =
  | { op: "ready"; tag: string }
  | {
      op: "result";
      tag: string;
      sockets: SocketResult[];
      /** Receive time minus the worker's time_ms, every event of every socket. */
      hist: SparseHist;
      /** Receive time minus the agent's own stamp ("t=<ms>" in the text), stamp sockets only. */
      agentHist: SparseHist;
      /** The worker's time_ms minus the agent's stamp, stamp sockets only. */
      agentToWorker: SparseHist;
      /** WebSocket extensions the hub accepted (the first socket's), e.g. permessage-deflate. */
      extensions: string;
      /** CPU ms of this process since the `open`. */
      cpuMs: number;
    }
  | { op: "progress"; tag: string; minSeq: number; maxSeq: number }
  | { op: "closed"; tag: string }
  | { op: "error"; tag: string; message: string };

const SESSION_UPDATE = 1;

interface Sock {
  ws: WebSocket;
  live: boolean;
  stamps: boolean;
  r: SocketResult;
  closing: boolean;
}

interface Group {
  cmd: Extract<ClientCommand, { op: "open" }>;
  socks: Sock[];
  hist: LatencyHist;
  agentHist: LatencyHist;
  agentToWorker: LatencyHist;
  ready: number;
  readySent: boolean;
  failed: boolean;
  cpu0: number;
  finish: { seq: number; stallMs: number } | null;
  lastProgressAt: number;
  lastSum: number;
  timer: ReturnType<typeof setInterval> | null;
}

const groups = new Map<string, Group>();

/** A group with no sockets yet and empty histograms. */
function newGroup(
  cmd: Extract<ClientCommand, { op: "open" }>,
  readySent: boolean,
  cpu0: number,
): Group {
  return {
    cmd,
    socks: [],
    hist: new LatencyHist(),
    agentHist: new LatencyHist(),
    agentToWorker: new LatencyHist(),
    ready: 0,
    readySent,
    failed: false,
    cpu0,
    finish: null,
    lastProgressAt: 0,
    lastSum: 0,
    timer: null,
  };
}

function emit(ev: ClientEvent): void {
  process.stdout.write(JSON.stringify(ev) + "\n");
}

function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

function fail(g: Group, message: string): void {
  if (g.failed) return;
  g.failed = true;
  emit({ op: "error", tag: g.cmd.tag, message });
}

// ------------------------------------------------------------------------- protobuf walking

let p = 0;

function varint(b: Uint8Array): number {
  let c = b[p++]!;
  if (c < 0x80) return c;
  let x = c & 0x7f;
  let mul = 0x80;
  for (;;) {
    c = b[p++]!;
    x += (c & 0x7f) * mul;
    if (c < 0x80) return x;
    mul *= 0x80;
    if (mul > 2 ** 63) throw new Error("bad varint");
  }
}

function skip(b: Uint8Array, wire: number): void {
  if (wire === 0) varint(b);
  else if (wire === 1) p += 8;
  else if (wire === 2) {
    const n = varint(b);
    p += n;
  } else if (wire === 5) p += 4;
  else throw new Error(`wire type ${wire}`);
}

const T_EQ = [0x20, 0x74, 0x3d]; // " t="

/** The agent's "t=<ms>" stamp in an event's JSON bytes [a, end), or NaN. */
function agentStamp(b: Uint8Array, a: number, end: number): number {
  for (let i = a; i + 3 < end; i++) {
    if (b[i] !== T_EQ[0] || b[i + 1] !== T_EQ[1] || b[i + 2] !== T_EQ[2]) continue;
    let j = i + 3;
    let whole = 0;
    let digits = 0;
    for (; j < end && b[j]! >= 48 && b[j]! <= 57; j++, digits++) whole = whole * 10 + b[j]! - 48;
    if (digits === 0) return NaN;
    let frac = 0;
    let scale = 1;
    if (b[j] === 46) {
      for (j++; j < end && b[j]! >= 48 && b[j]! <= 57; j++) {
        frac = frac * 10 + b[j]! - 48;
        scale *= 10;
      }
    }
    return whole + frac / scale;
  }
  return NaN;
}

/** One event, checked against the socket's cursor. */
function onEvent(g: Group, s: Sock, seq: number, timeMs: number, kind: number, now: number): void {
  const r = s.r;
  const want = r.lastSeq + 1;
  if (seq !== want) {
    if (seq > want) {
      r.gaps++;
      r.missing += seq - want;
      r.problem ??= `gap: seq ${seq} after ${r.lastSeq}`;
    } else {
      r.repeats++;
      r.problem ??= `repeat or reorder: seq ${seq} after ${r.lastSeq}`;
      return;
    }
  }
  r.lastSeq = seq;
  r.events++;
  if (kind === SESSION_UPDATE) r.updates++;
  if (r.firstAt === 0) r.firstAt = now;
  r.lastAt = now;
  g.hist.add(now - timeMs);
}

/**
 * DEFLATE cannot grow anything more than 1,032 times (a 258-byte match in two 1-bit codes), so
 * a frame up to this size cannot inflate past MAX_INFLATED_BYTES: it can skip the bounded (and
 * slower) inflate.
 */
const UNBOUNDED_INFLATE_BYTES = Math.floor(MAX_INFLATED_BYTES / 1032);

/** Whether sockets share the inflate of byte-identical frames (see the top of the file). */
let shareInflates = process.env.BENCH_HUB_INFLATE_EACH !== "1";
/** The last frames inflated: deflated copy → inflated, newest last. */
const inflated: { deflated: Uint8Array; raw: Uint8Array }[] = [];
/** Frames of one publish reach a process's sockets interleaved with the next one's. */
const INFLATED_KEPT = 8;

/** A deflated_events payload inflated (or the same bytes' inflate, when shared). */
function inflateShared(deflated: Uint8Array): Uint8Array {
  if (!shareInflates) return inflate(deflated);
  for (let i = inflated.length - 1; i >= 0; i--) {
    const c = inflated[i]!;
    if (c.deflated.length === deflated.length && Buffer.compare(c.deflated, deflated) === 0) {
      return c.raw;
    }
  }
  const raw = inflate(deflated);
  inflated.push({ deflated: deflated.slice(), raw });
  if (inflated.length > INFLATED_KEPT) inflated.shift();
  return raw;
}

/** A deflated_events payload inflated, refusing more than MAX_INFLATED_BYTES. */
function inflate(deflated: Uint8Array): Uint8Array {
  if (deflated.length <= UNBOUNDED_INFLATE_BYTES)
    return Bun.inflateSync(deflated as Uint8Array<ArrayBuffer>);
  return inflateRawSync(deflated, { maxOutputLength: MAX_INFLATED_BYTES });
}

function walkFrame(g: Group, s: Sock, b: Uint8Array, dv: DataView, now: number): void {
  p = 0;
  while (p < b.length) {
    const tag = varint(b);
    const field = tag >>> 3;
    const wire = tag & 7;
    if (field === 1 && wire === 2) {
      const len = varint(b);
      const end = p + len;
      walkBatch(g, s, b, dv, end, now);
      p = end;
    } else if (field === 6 && wire === 2) {
      const len = varint(b);
      const end = p + len;
      const raw = inflateShared(b.subarray(p, end));
      s.r.deflated++;
      p = 0;
      walkBatch(
        g,
        s,
        raw,
        new DataView(raw.buffer, raw.byteOffset, raw.byteLength),
        raw.length,
        now,
      );
      p = end;
    } else if (field === 2 && wire === 2) {
      // StreamError: rare; the generated decoder says what it is.
      const f = fromBinary(ServerFrameSchema, b).frame;
      if (f.case === "error") fail(g, `stream error ${f.value.code}: ${f.value.message}`);
      return;
    } else skip(b, wire);
  }
}

function walkBatch(g: Group, s: Sock, b: Uint8Array, dv: DataView, end: number, now: number) {
  let live = false;
  while (p < end) {
    const tag = varint(b);
    const field = tag >>> 3;
    const wire = tag & 7;
    if (field === 2 && wire === 2) {
      const len = varint(b);
      const evEnd = p + len;
      let seq = 0;
      let timeMs = 0;
      let kind = 0;
      let jsonA = -1;
      let jsonB = -1;
      while (p < evEnd) {
        const t = varint(b);
        const f = t >>> 3;
        const w = t & 7;
        if (f === 1 && w === 0) seq = varint(b);
        else if (f === 2 && w === 1) {
          timeMs = dv.getFloat64(p, true);
          p += 8;
        } else if (f === 3 && w === 0) kind = varint(b);
        else if (f === 4 && w === 2) {
          const n = varint(b);
          jsonA = p;
          jsonB = p + n;
          p += n;
        } else skip(b, w);
      }
      p = evEnd;
      onEvent(g, s, seq, timeMs, kind, now);
      if (s.stamps && kind === SESSION_UPDATE && jsonA >= 0) {
        const t = agentStamp(b, jsonA, jsonB);
        if (!Number.isNaN(t)) {
          g.agentHist.add(now - t);
          g.agentToWorker.add(timeMs - t);
        }
      }
    } else if (field === 3 && wire === 0) {
      if (varint(b) !== 0) {
        s.r.resets++;
        s.r.problem ??= "a reset batch";
      }
    } else if (field === 4 && wire === 0) live = varint(b) !== 0;
    else skip(b, wire);
  }
  if (live) markLive(g, s);
}

function fullFrame(g: Group, s: Sock, b: Uint8Array, now: number): void {
  const f = fromBinary(ServerFrameSchema, b).frame;
  if (f.case === "error") return fail(g, `stream error ${f.value.code}: ${f.value.message}`);
  if (f.case === "deflatedEvents") s.r.deflated++;
  const batch =
    f.case === "events"
      ? f.value
      : f.case === "deflatedEvents"
        ? fromBinary(EventBatchSchema, inflateShared(f.value))
        : null;
  if (!batch) return;
  if (batch.reset) {
    s.r.resets++;
    s.r.problem ??= "a reset batch";
  }
  for (const e of batch.events) {
    onEvent(g, s, e.seq, e.timeMs, e.kind, now);
    if (s.stamps && e.kind === SESSION_UPDATE) {
      const i = e.json.indexOf(" t=");
      const t = i === -1 ? NaN : parseFloat(e.json.slice(i + 3));
      if (!Number.isNaN(t)) {
        g.agentHist.add(now - t);
        g.agentToWorker.add(e.timeMs - t);
      }
    }
  }
  if (batch.live) markLive(g, s);
}

function markLive(g: Group, s: Sock): void {
  if (s.live) return;
  s.live = true;
  if (++g.ready === g.socks.length && !g.readySent) {
    g.readySent = true;
    emit({ op: "ready", tag: g.cmd.tag });
  }
}

// ------------------------------------------------------------------------- groups

function newResult(afterSeq: number): SocketResult {
  return {
    events: 0,
    updates: 0,
    lastSeq: afterSeq,
    firstAt: 0,
    lastAt: 0,
    frames: 0,
    bytes: 0,
    deflated: 0,
    missing: 0,
    gaps: 0,
    repeats: 0,
    resets: 0,
    problem: null,
  };
}

/** ClientFrame{subscribe{stream_id, after_seq}}, encoded by hand (field 1, then 1 and 2). */
function subscribeFrame(streamId: string, afterSeq: number): Uint8Array {
  const id = new TextEncoder().encode(streamId);
  const inner: number[] = [0x0a, id.length, ...id];
  if (afterSeq > 0) {
    inner.push(0x10);
    let v = afterSeq;
    while (v >= 0x80) {
      inner.push((v & 0x7f) | 0x80);
      v >>>= 7;
    }
    inner.push(v);
  }
  if (id.length > 127 || inner.length > 127) throw new Error("stream id too long");
  return new Uint8Array([0x0a, inner.length, ...inner]);
}

function open(cmd: Extract<ClientCommand, { op: "open" }>): void {
  const g = newGroup(cmd, false, cpuMs());
  groups.set(cmd.tag, g);
  const sub = subscribeFrame(cmd.streamId, cmd.afterSeq);
  for (let i = 0; i < cmd.conns; i++) {
    const ws = new WebSocket(cmd.url, {
      headers: { cookie: cmd.cookie, origin: cmd.origin },
    } as unknown as string[]);
    ws.binaryType = "arraybuffer";
    const s: Sock = {
      ws,
      live: false,
      stamps: i < cmd.stampSockets,
      r: newResult(cmd.afterSeq),
      closing: false,
    };
    g.socks.push(s);
    ws.onopen = () => ws.send(sub);
    ws.onmessage = (m) => {
      const now = wallNow();
      const data = m.data as ArrayBuffer;
      const b = new Uint8Array(data);
      s.r.frames++;
      s.r.bytes += b.length;
      try {
        if (cmd.decode === "full") fullFrame(g, s, b, now);
        else walkFrame(g, s, b, new DataView(data), now);
      } catch (e) {
        fail(g, `socket ${i}: undecodable frame: ${(e as Error).message}`);
      }
    };
    ws.onclose = (e) => {
      if (s.closing) return;
      s.r.problem ??= `closed by the hub (${e.code} ${e.reason})`;
      if (!s.live) fail(g, `socket ${i} closed before it was live (${e.code} ${e.reason})`);
    };
    ws.onerror = () => {
      if (!s.closing && !s.live) fail(g, `socket ${i}: WebSocket error`);
    };
  }
}

function finish(cmd: Extract<ClientCommand, { op: "finish" }>): void {
  const g = groups.get(cmd.tag);
  if (!g) return emit({ op: "error", tag: cmd.tag, message: "no such group" });
  g.finish = { seq: cmd.seq, stallMs: cmd.stallMs };
  g.lastProgressAt = Date.now();
  g.lastSum = -1;
  check(g);
  if (groups.get(cmd.tag) === g) g.timer = setInterval(() => check(g), 20);
}

function check(g: Group): void {
  if (!g.finish || !groups.has(g.cmd.tag)) return;
  let sum = 0;
  let done = 0;
  for (const s of g.socks) {
    sum += s.r.lastSeq + s.r.repeats;
    if (s.r.lastSeq >= g.finish.seq) done++;
  }
  const now = Date.now();
  if (sum !== g.lastSum) {
    g.lastSum = sum;
    g.lastProgressAt = now;
  }
  if (done < g.socks.length && now - g.lastProgressAt < g.finish.stallMs) return;
  if (g.timer) clearInterval(g.timer);
  g.finish = null;
  emit({
    op: "result",
    tag: g.cmd.tag,
    sockets: g.socks.map((s) => s.r),
    hist: g.hist.toJSON(),
    agentHist: g.agentHist.toJSON(),
    agentToWorker: g.agentToWorker.toJSON(),
    extensions: g.socks[0]?.ws.extensions ?? "",
    cpuMs: cpuMs() - g.cpu0,
  });
}

function close(tag: string): void {
  const g = groups.get(tag);
  groups.delete(tag);
  if (g) {
    if (g.timer) clearInterval(g.timer);
    for (const s of g.socks) {
      s.closing = true;
      s.ws.close();
    }
  }
  emit({ op: "closed", tag });
}

// Progress for the driver's log, every 2 s while a group is open.
setInterval(() => {
  for (const g of groups.values()) {
    if (!g.readySent) continue;
    let min = Infinity;
    let max = 0;
    for (const s of g.socks) {
      min = Math.min(min, s.r.lastSeq);
      max = Math.max(max, s.r.lastSeq);
    }
    emit({ op: "progress", tag: g.cmd.tag, minSeq: min, maxSeq: max });
  }
}, 2_000).unref();

async function main(): Promise<void> {
  await readCommands<ClientCommand>((cmd) => {
    if (cmd.op === "open") open(cmd);
    else if (cmd.op === "finish") finish(cmd);
    else close(cmd.tag);
  });
  process.exit(0);
}

if (import.meta.main) void main();

/**
 * Decoding cost, for the driver's report: decodes `frame` (an EventBatch of consecutive events
 * from `firstSeq`) `reps` times as one socket would, and returns nanoseconds per event.
 */
export function decodeCost(
  frame: Uint8Array,
  firstSeq: number,
  mode: "walk" | "full",
  reps: number,
): number {
  const cmd = { tag: "cost", decode: mode } as Extract<ClientCommand, { op: "open" }>;
  const g = newGroup(cmd, true, 0);
  const s: Sock = {
    ws: null as unknown as WebSocket,
    live: true,
    stamps: false,
    r: newResult(0),
    closing: false,
  };
  const dv = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  let events = 0;
  // What one socket pays: a deflated frame is inflated every time.
  const sharing = shareInflates;
  shareInflates = false;
  try {
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) {
      s.r = newResult(firstSeq - 1);
      const now = wallNow();
      if (mode === "full") fullFrame(g, s, frame, now);
      else walkFrame(g, s, frame, dv, now);
      events += s.r.events;
      if (s.r.problem) throw new Error(s.r.problem);
    }
    return ((performance.now() - t0) * 1e6) / events;
  } finally {
    shareInflates = sharing;
  }
}
