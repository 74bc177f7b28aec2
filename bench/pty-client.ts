/**
 * One measurement of bench/pty.ts, in a process of its own: `bun bench/pty-client.ts '<json>'`
 * where the JSON is a PtyJob. The process prints `{"op":"ready"}` on stdout once it is set up
 * (socket subscribed and live, program waiting), waits for a line on stdin (the driver samples
 * CPU counters in between), runs the timed part, and prints `{"op":"result", …}`.
 *
 * Throughput jobs run `sh -c 'read x; cat FILE; echo MARKER; read y'` in a terminal (the hub's, WeTTY's,
 * or a PTY of this process) and type "\r" to start it: the time is from that keystroke to the
 * marker's arrival, the bytes are every terminal output byte in between.
 * Echo jobs run `sh -c 'stty raw -echo; exec cat'` and send single-byte keystrokes, spaced
 * `gapMinMs`..`gapMaxMs` apart, timing each until its byte comes back (bytes come back in order,
 * so the k-th byte received answers the k-th keystroke; each must match).
 * Stage jobs run parts of the worker's pipeline in this process (TerminalAgent, its outbox) to
 * tell where the time goes; `emulator` feeds a file's terminal output to @xterm/headless alone.
 *
 * Hub frames are read by a small protobuf walker (field numbers from proto/switchboard/v1/
 * live.proto and common.proto) that takes seq, time_ms, kind and the data's bounds; WeTTY's
 * socket.io (Engine.IO 4, Socket.IO 5) text frames are handled by hand, with the flow control
 * acknowledgements WeTTY's own client sends (a `commit` of 262,144 per 262,144 characters).
 */
import { create, toBinary } from "@bufbuild/protobuf";
import { Terminal } from "@xterm/headless";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { EventKind } from "../src/gen/switchboard/v1/common_pb.ts";
import { WorkerFrameSchema } from "../src/gen/switchboard/v1/link_pb.ts";
import { ClientFrameSchema } from "../src/gen/switchboard/v1/live_pb.ts";
import { Outbox } from "../src/worker/outbox.ts";
import { TerminalAgent } from "../src/worker/terminal-agent.ts";
import { openWorkerDb } from "../src/worker/worker-db.ts";
import { LatencyHist, wallNow, type SparseHist } from "./scan.ts";
import { within } from "./report.ts";

export const MARKER = "__PTY_BENCH_DONE__";
export const COLS = 80;
export const ROWS = 24;

/**
 * The throughput program. It waits for a keystroke, and after the marker for another: a program
 * that exits at once can lose the tail of its output in WeTTY (node-pty reports the exit before
 * the last reads; seen here with 100 MB), so every path keeps it open until the client is done.
 */
export const catCommand = (file: string) => [
  "sh",
  "-c",
  `read x; cat '${file}'; echo ${MARKER}; read y`,
];
export const ECHO_COMMAND = ["sh", "-c", "stty raw -echo; exec cat"];

interface HubTarget {
  url: string;
  cookie: string;
  origin: string;
  streamId: string;
}

interface EchoParams {
  n: number;
  warmup: number;
  gapMinMs: number;
  gapMaxMs: number;
}

export type PtyJob =
  | { mode: "direct-cat"; file: string }
  | ({ mode: "hub-cat" } & HubTarget)
  | { mode: "wetty-cat"; port: number }
  | ({ mode: "direct-echo" } & EchoParams)
  | ({ mode: "hub-echo" } & HubTarget & EchoParams)
  | ({ mode: "wetty-echo"; port: number } & EchoParams)
  | { mode: "stage"; stage: "agent" | "agent+outbox"; file: string }
  | { mode: "emulator"; file: string }
  | { mode: "ws-send"; file: string; deflate: boolean };

export interface CatResult {
  kind: "cat";
  /** Terminal output bytes from the keystroke to the marker, inclusive. */
  bytes: number;
  ms: number;
  /** Wall-clock stamps (ms) of the keystroke and of the marker's arrival. */
  t0: number;
  t1: number;
  /** This process's CPU during the timed part. */
  cpuMs: number;
  /** Messages received, and their bytes as received (protobuf or socket.io text). */
  frames: number;
  wireBytes: number;
  /** Hub only: events, snapshots among them, their bytes, and problems with the seqs. */
  events?: number;
  snapshots?: number;
  snapshotBytes?: number;
  seqProblems?: string | null;
  /** Hub only: the live socket's negotiated extensions (permessage-deflate or none). */
  extensions?: string;
  /** Hub only: events delivered again (skipped, not counted), and the first such. */
  repeats?: number;
  firstRepeat?: string;
  /** Hub only: the worker's stamp (time_ms) of the first and of the marker's event. */
  firstWorkerStamp?: number;
  lastWorkerStamp?: number;
  /** Hub only: receive time minus each event's time_ms. */
  lag?: SparseHist;
  /** Direct only: the CPU of `cat` (the shell's reaped children). */
  catCpuMs?: number;
  /** Stage jobs: TERMINAL_OUTPUT events emitted. */
  outputEvents?: number;
}

export interface EchoResult {
  kind: "echo";
  /** Hub only: events delivered again (skipped). */
  repeats?: number;
  /** Round trips in ms, in keystroke order (warm-up excluded). */
  rtts: number[];
  ms: number;
  cpuMs: number;
}

export interface EmulatorResult {
  kind: "emulator";
  bytes: number;
  parseMs: number;
  /** One serialisation of the screen and 5,000 lines of scrollback, as a snapshot does. */
  serializeMs: number;
  snapshotBytes: number;
}

export interface WsSendResult {
  kind: "ws-send";
  /** What the client negotiated ("" or permessage-deflate…). */
  extensions: string;
  bytes: number;
  ms: number;
  cpuMs: number;
}

export type PtyResult = CatResult | EchoResult | EmulatorResult | WsSendResult;

// ------------------------------------------------------------------------------ plumbing

const enc = new TextEncoder();

function out(obj: unknown): void {
  process.stdout.write(JSON.stringify(obj) + "\n");
}

function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/**
 * CPU ms of the reaped children of `pid` (cutime + cstime): for the shell of a throughput job,
 * its `cat`, once cat has exited (the shell then waits in its second `read`).
 */
export function childrenCpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return ((Number(f[13]) + Number(f[14])) * 1000) / 100;
  } catch {
    return NaN;
  }
}

/** Says "ready", then waits for the driver's line on stdin. */
async function readyAndGo(): Promise<void> {
  out({ op: "ready" });
  const reader = Bun.stdin.stream().getReader();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) throw new Error("the driver went away");
    if (value.includes(10)) break;
  }
  reader.releaseLock();
}

/** Watches a byte stream for the marker across chunk boundaries. */
class MarkerWatch {
  private tail = "";
  found = false;
  push(chunk: Uint8Array | string): boolean {
    if (this.found) return true;
    const text =
      typeof chunk === "string"
        ? chunk.slice(-64)
        : String.fromCharCode(...chunk.subarray(Math.max(0, chunk.length - 64)));
    this.tail = (this.tail + text).slice(-64);
    if (this.tail.includes(MARKER)) this.found = true;
    return this.found;
  }
}

function deferred<T = void>() {
  return Promise.withResolvers<T>();
}

const TIMEOUT_MS = 180_000;
/** Time for the program to reach its `read` (or `stty`) before the first keystroke. */
const SETTLE_MS = 300;

// ------------------------------------------------------------------------------ hub socket

interface HubEvent {
  seq: number;
  timeMs: number;
  kind: number;
  /** Bounds of the data bytes in the frame. */
  a: number;
  b: number;
}

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

/** Walks a ServerFrame: the events of an EventBatch, its live flag; errors are thrown. */
function walkServerFrame(b: Uint8Array, dv: DataView, onEvent: (e: HubEvent) => void): boolean {
  let live = false;
  p = 0;
  while (p < b.length) {
    const tag = varint(b);
    if (tag >>> 3 === 2 && (tag & 7) === 2) throw new Error("the hub sent a StreamError");
    if (tag >>> 3 !== 1 || (tag & 7) !== 2) {
      skip(b, tag & 7);
      continue;
    }
    const batchLen = varint(b);
    const end = p + batchLen;
    while (p < end) {
      const t = varint(b);
      const field = t >>> 3;
      if (field === 2 && (t & 7) === 2) {
        const evLen = varint(b);
        const evEnd = p + evLen;
        const e: HubEvent = { seq: 0, timeMs: 0, kind: 0, a: 0, b: 0 };
        while (p < evEnd) {
          const u = varint(b);
          const f = u >>> 3;
          const w = u & 7;
          if (f === 1 && w === 0) e.seq = varint(b);
          else if (f === 2 && w === 1) {
            e.timeMs = dv.getFloat64(p, true);
            p += 8;
          } else if (f === 3 && w === 0) e.kind = varint(b);
          else if (f === 5 && w === 2) {
            const n = varint(b);
            e.a = p;
            e.b = p + n;
            p += n;
          } else skip(b, w);
        }
        p = evEnd;
        onEvent(e);
      } else if (field === 4 && (t & 7) === 0) live = varint(b) !== 0;
      else skip(b, t & 7);
    }
    p = end;
  }
  return live;
}

/** A live socket subscribed to a terminal stream from its start; resolves once it is live. */
async function hubSocket(t: HubTarget, onEvent: (e: HubEvent, b: Uint8Array, n: number) => void) {
  const ws = new WebSocket(`${t.url.replace(/^http/, "ws")}/live`, {
    headers: { cookie: t.cookie, origin: t.origin },
  } as unknown as string[]);
  ws.binaryType = "arraybuffer";
  const live = deferred();
  const stats = {
    frames: 0,
    wireBytes: 0,
    lastSeq: 0,
    /** A gap (events missing), or anything else that makes the count wrong. */
    problem: null as string | null,
    /** Events that came again (seq at or below one already had): skipped, not counted. */
    repeats: 0,
    firstRepeat: "",
  };
  ws.onmessage = (m) => {
    const now = wallNow();
    const data = m.data as ArrayBuffer;
    const b = new Uint8Array(data);
    stats.frames++;
    stats.wireBytes += b.length;
    try {
      const isLive = walkServerFrame(b, new DataView(data), (e) => {
        if (e.seq <= stats.lastSeq) {
          stats.repeats++;
          stats.firstRepeat ||= `seq ${e.seq} after ${stats.lastSeq}`;
          return;
        }
        if (e.seq !== stats.lastSeq + 1)
          stats.problem ??= `a gap: seq ${e.seq} after ${stats.lastSeq}`;
        stats.lastSeq = e.seq;
        onEvent(e, b, now);
      });
      if (isLive) live.resolve();
    } catch (e) {
      live.reject(e as Error);
      stats.problem ??= (e as Error).message;
    }
  };
  ws.onclose = (e) => live.reject(new Error(`live socket closed (${e.code} ${e.reason})`));
  await within(
    new Promise<void>((resolve, reject) => {
      ws.onopen = () => resolve();
      ws.onerror = () => reject(new Error("live socket refused"));
    }),
    10_000,
    "live socket open",
  );
  ws.send(
    toBinary(
      ClientFrameSchema,
      create(ClientFrameSchema, {
        frame: { case: "subscribe", value: { streamId: t.streamId, afterSeq: 0 } },
      }),
    ),
  );
  await within(live.promise, 10_000, "the subscription live");
  const input = (data: Uint8Array) =>
    ws.send(
      toBinary(
        ClientFrameSchema,
        create(ClientFrameSchema, {
          frame: { case: "input", value: { streamId: t.streamId, data } },
        }),
      ),
    );
  return { ws, stats, input };
}

// ------------------------------------------------------------------------------ WeTTY socket

/** A socket.io connection to WeTTY (Engine.IO 4 over a WebSocket, namespace "/"). */
async function wettySocket(port: number, onData: (text: string, now: number) => void) {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/socket.io/?EIO=4&transport=websocket`);
  const login = deferred();
  const stats = { frames: 0, wireBytes: 0 };
  let uncommitted = 0;
  const emit = (name: string, arg: unknown) => ws.send(`42${JSON.stringify([name, arg])}`);
  ws.onmessage = (m) => {
    const now = wallNow();
    const s = m.data as string;
    stats.frames++;
    stats.wireBytes += s.length;
    const type = s.charCodeAt(0);
    if (type === 0x32 /* "2": ping */) return ws.send("3");
    if (type === 0x30 /* "0": open */) return ws.send("40");
    if (type !== 0x34 /* "4": message */) return;
    if (s.charCodeAt(1) !== 0x32 /* "2": event */) return;
    const [name, arg] = JSON.parse(s.slice(2)) as [string, unknown];
    if (name === "data") {
      const text = arg as string;
      onData(text, now);
      // As WeTTY's client does (it commits after xterm.js has parsed; nothing renders here).
      uncommitted += text.length;
      while (uncommitted >= 262_144) {
        uncommitted -= 262_144;
        emit("commit", 262_144);
      }
    } else if (name === "login") login.resolve();
    else if (name === "logout") login.reject(new Error("WeTTY: the program ended"));
  };
  ws.onclose = (e) => login.reject(new Error(`WeTTY socket closed (${e.code} ${e.reason})`));
  ws.onerror = () => login.reject(new Error("WeTTY socket error"));
  await within(login.promise, 20_000, "WeTTY's login event");
  return { ws, stats, input: (text: string) => emit("input", text) };
}

// ------------------------------------------------------------------------------ jobs

async function directCat(file: string): Promise<CatResult> {
  const done = deferred();
  const watch = new MarkerWatch();
  let bytes = 0;
  let frames = 0;
  let t1 = 0;
  const proc = Bun.spawn(catCommand(file), {
    terminal: {
      cols: COLS,
      rows: ROWS,
      name: "xterm-256color",
      data(_t, d) {
        bytes += d.length;
        frames++;
        if (watch.push(d) && t1 === 0) {
          t1 = wallNow();
          done.resolve();
        }
      },
    },
  });
  await Bun.sleep(SETTLE_MS);
  await readyAndGo();
  bytes = 0;
  frames = 0;
  const c0 = cpuMs();
  const t0 = wallNow();
  proc.terminal!.write("\r");
  await within(done.promise, TIMEOUT_MS, "the marker");
  const cpu = cpuMs() - c0;
  const catCpuMs = childrenCpuMs(proc.pid);
  proc.kill("SIGKILL");
  return {
    kind: "cat",
    bytes,
    ms: t1 - t0,
    t0,
    t1,
    cpuMs: cpu,
    frames,
    wireBytes: bytes,
    catCpuMs,
  };
}

async function hubCat(t: HubTarget): Promise<CatResult> {
  const done = deferred();
  const watch = new MarkerWatch();
  const lag = new LatencyHist();
  let armed = false;
  let bytes = 0;
  let events = 0;
  let snapshots = 0;
  let snapshotBytes = 0;
  let firstWorkerStamp = 0;
  let lastWorkerStamp = 0;
  let t1 = 0;
  const sock = await hubSocket(t, (e, b, now) => {
    if (!armed) return;
    events++;
    lag.add(now - e.timeMs);
    if (e.kind === EventKind.TERMINAL_SNAPSHOT) {
      snapshots++;
      snapshotBytes += e.b - e.a;
      return;
    }
    if (e.kind !== EventKind.TERMINAL_OUTPUT) return;
    if (firstWorkerStamp === 0) firstWorkerStamp = e.timeMs;
    bytes += e.b - e.a;
    if (t1 === 0 && watch.push(b.subarray(e.a, e.b))) {
      t1 = now;
      lastWorkerStamp = e.timeMs;
      done.resolve();
    }
  });
  await Bun.sleep(SETTLE_MS);
  await readyAndGo();
  const f0 = sock.stats.frames;
  const w0 = sock.stats.wireBytes;
  armed = true;
  const c0 = cpuMs();
  const t0 = wallNow();
  sock.input(enc.encode("\r"));
  await within(done.promise, TIMEOUT_MS, "the marker");
  const cpu = cpuMs() - c0;
  sock.ws.close();
  return {
    kind: "cat",
    bytes,
    ms: t1 - t0,
    t0,
    t1,
    cpuMs: cpu,
    frames: sock.stats.frames - f0,
    wireBytes: sock.stats.wireBytes - w0,
    events,
    snapshots,
    snapshotBytes,
    seqProblems: sock.stats.problem,
    repeats: sock.stats.repeats,
    firstRepeat: sock.stats.firstRepeat,
    extensions: sock.ws.extensions,
    firstWorkerStamp,
    lastWorkerStamp,
    lag: lag.toJSON(),
  };
}

async function wettyCat(port: number): Promise<CatResult> {
  const done = deferred();
  const watch = new MarkerWatch();
  let armed = false;
  let bytes = 0;
  let t1 = 0;
  const sock = await wettySocket(port, (text, now) => {
    if (!armed) return;
    // The file is ASCII: one character is one byte.
    bytes += text.length;
    if (t1 === 0 && watch.push(text)) {
      t1 = now;
      done.resolve();
    }
  });
  await Bun.sleep(SETTLE_MS);
  await readyAndGo();
  const f0 = sock.stats.frames;
  const w0 = sock.stats.wireBytes;
  armed = true;
  const c0 = cpuMs();
  const t0 = wallNow();
  sock.input("\r");
  await within(done.promise, TIMEOUT_MS, "the marker");
  const cpu = cpuMs() - c0;
  // The socket stays open until this process exits: WeTTY ends the program when it closes, and
  // the driver reads cat's CPU from the shell first.
  return {
    kind: "cat",
    bytes,
    ms: t1 - t0,
    t0,
    t1,
    cpuMs: cpu,
    frames: sock.stats.frames - f0,
    wireBytes: sock.stats.wireBytes - w0,
  };
}

/**
 * Keystrokes: byte k is 'a' + k % 26, sent gapMin..gapMax ms after the previous one; `received`
 * feeds back what the terminal printed.
 */
async function keystrokes(
  params: EchoParams,
  send: (byte: number) => void,
): Promise<{ received: (bytes: Uint8Array | string) => void; run: () => Promise<EchoResult> }> {
  const total = params.warmup + params.n;
  const sentAt = new Float64Array(total);
  const rtts: number[] = [];
  let got = 0;
  let failure: Error | null = null;
  const done = deferred();
  const byteOf = (k: number) => 0x61 + (k % 26);
  const received = (bytes: Uint8Array | string) => {
    const now = performance.now();
    for (let i = 0; i < bytes.length; i++) {
      const c = typeof bytes === "string" ? bytes.charCodeAt(i) : bytes[i]!;
      if (got >= total) continue;
      if (c !== byteOf(got)) {
        failure ??= new Error(`keystroke ${got}: got byte ${c}, expected ${byteOf(got)}`);
        done.reject(failure);
        return;
      }
      if (got >= params.warmup) rtts.push(now - sentAt[got]!);
      if (++got === total) done.resolve();
    }
  };
  const run = async (): Promise<EchoResult> => {
    const c0 = cpuMs();
    const t0 = performance.now();
    for (let k = 0; k < total; k++) {
      if (failure) break;
      sentAt[k] = performance.now();
      send(byteOf(k));
      const gap = params.gapMinMs + Math.random() * (params.gapMaxMs - params.gapMinMs);
      await Bun.sleep(gap);
    }
    await within(done.promise, 30_000, `the echo of ${total} keystrokes (${got} back)`);
    return { kind: "echo", rtts, ms: performance.now() - t0, cpuMs: cpuMs() - c0 };
  };
  return { received, run };
}

async function directEcho(params: EchoParams): Promise<EchoResult> {
  let feed: (b: Uint8Array) => void = () => {};
  const proc = Bun.spawn(ECHO_COMMAND, {
    terminal: { cols: COLS, rows: ROWS, name: "xterm-256color", data: (_t, d) => feed(d) },
  });
  const k = await keystrokes(params, (byte) => proc.terminal!.write(new Uint8Array([byte])));
  await Bun.sleep(SETTLE_MS);
  feed = k.received;
  await readyAndGo();
  const r = await k.run();
  proc.kill("SIGKILL");
  return r;
}

async function hubEcho(t: HubTarget & EchoParams): Promise<EchoResult> {
  let feed: (b: Uint8Array) => void = () => {};
  const sock = await hubSocket(t, (e, b) => {
    if (e.kind === EventKind.TERMINAL_OUTPUT) feed(b.subarray(e.a, e.b));
  });
  const k = await keystrokes(t, (byte) => sock.input(new Uint8Array([byte])));
  await Bun.sleep(SETTLE_MS);
  feed = k.received;
  await readyAndGo();
  const r = await k.run();
  sock.ws.close();
  if (sock.stats.problem) throw new Error(`hub stream: ${sock.stats.problem}`);
  return { ...r, repeats: sock.stats.repeats };
}

async function wettyEcho(port: number, params: EchoParams): Promise<EchoResult> {
  let feed: (s: string) => void = () => {};
  const sock = await wettySocket(port, (text) => feed(text));
  const k = await keystrokes(params, (byte) => sock.input(String.fromCharCode(byte)));
  await Bun.sleep(SETTLE_MS);
  feed = k.received;
  await readyAndGo();
  const r = await k.run();
  sock.ws.close();
  return r;
}

/**
 * The worker's side of the hub path in this process: a TerminalAgent (PTY, batching, emulator,
 * snapshots), and with `agent+outbox` also its outbox on a fresh worker database, each stored
 * batch encoded as the link's WorkerFrame and acknowledged at once (as the hub would).
 */
async function stage(which: "agent" | "agent+outbox", file: string): Promise<CatResult> {
  const dir = mkdtempSync(join(os.tmpdir(), "switchboard-bench-pty-stage-"));
  const db = which === "agent+outbox" ? openWorkerDb(join(dir, "worker.db")) : null;
  const outbox = db ? new Outbox(db) : null;
  const done = deferred();
  const watch = new MarkerWatch();
  let armed = false;
  let bytes = 0;
  let outputEvents = 0;
  let snapshots = 0;
  let snapshotBytes = 0;
  let wireBytes = 0;
  let t1 = 0;
  const agentId = "bench";
  outbox?.onStored((streamId, events) => {
    const frame = toBinary(
      WorkerFrameSchema,
      create(WorkerFrameSchema, { frame: { case: "events", value: { streamId, events } } }),
    );
    wireBytes += frame.length;
    outbox.ack(streamId, events.at(-1)!.seq);
  });
  const count = (kind: EventKind, data: Uint8Array | undefined) => {
    if (!armed) return;
    if (kind === EventKind.TERMINAL_SNAPSHOT) {
      snapshots++;
      snapshotBytes += data?.length ?? 0;
    }
    if (kind !== EventKind.TERMINAL_OUTPUT || !data) return;
    outputEvents++;
    bytes += data.length;
    if (t1 === 0 && watch.push(data)) {
      t1 = wallNow();
      // With the outbox, done once the batch is stored and encoded (the next macrotask).
      if (outbox) setImmediate(() => setImmediate(() => done.resolve()));
      else done.resolve();
    }
  };
  const agent = new TerminalAgent({
    agentId,
    cwd: dir,
    command: catCommand(file),
    cols: COLS,
    rows: ROWS,
    emit: (kind, payload) => {
      count(kind, payload.data);
      outbox?.append(agentId, kind, payload);
    },
  });
  await agent.start();
  await Bun.sleep(SETTLE_MS);
  await readyAndGo();
  armed = true;
  const c0 = cpuMs();
  const t0 = wallNow();
  agent.input(enc.encode("\r"), "bench");
  await within(done.promise, TIMEOUT_MS, "the marker");
  const end = outbox ? wallNow() : t1;
  const cpu = cpuMs() - c0;
  // The shell reaps cat before it prints the marker.
  const catCpuMs = agent.pid ? childrenCpuMs(agent.pid) : NaN;
  await agent.stop();
  outbox?.close();
  db?.close();
  rmSync(dir, { recursive: true, force: true });
  return {
    kind: "cat",
    bytes,
    ms: end - t0,
    t0,
    t1: end,
    cpuMs: cpu,
    frames: outputEvents,
    wireBytes,
    snapshots,
    snapshotBytes,
    outputEvents,
    catCpuMs,
  };
}

/**
 * The cat's terminal output sent over a loopback WebSocket in 64 KiB binary messages, client and
 * server (Bun.serve) in this process as the hub and its own worker are, with or without
 * permessage-deflate offered by the server (Bun's client then deflates every message it sends).
 */
async function wsSend(file: string, deflate: boolean): Promise<WsSendResult> {
  const data = Buffer.from(readFileSync(file, "latin1").replaceAll("\n", "\r\n"), "latin1");
  let got = 0;
  const all = deferred();
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    fetch: (req, srv) => (srv.upgrade(req) ? undefined : new Response("no", { status: 400 })),
    websocket: {
      perMessageDeflate: deflate ? { compress: "shared", decompress: "shared" } : false,
      message(_ws, m) {
        got += typeof m === "string" ? m.length : m.length;
        if (got >= data.length) all.resolve();
      },
    },
  });
  const ws = new WebSocket(`ws://127.0.0.1:${server.port}/`);
  ws.binaryType = "arraybuffer";
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = () => reject(new Error("ws-send: no connection"));
  });
  await readyAndGo();
  const c0 = cpuMs();
  const t0 = performance.now();
  for (let at = 0; at < data.length; at += 65_536) {
    ws.send(data.subarray(at, at + 65_536));
    // As the worker's link does: wait while more than 8 MiB is queued.
    while (ws.bufferedAmount > 8 * 1024 * 1024) await Bun.sleep(1);
  }
  await within(all.promise, TIMEOUT_MS, "the server to receive everything");
  const r: WsSendResult = {
    kind: "ws-send",
    extensions: ws.extensions,
    bytes: data.length,
    ms: performance.now() - t0,
    cpuMs: cpuMs() - c0,
  };
  ws.close();
  await server.stop(true);
  return r;
}

/** @xterm/headless alone on the cat's terminal output (LF as CR LF), in 64 KiB writes. */
async function emulator(file: string): Promise<EmulatorResult> {
  const text = readFileSync(file, "latin1").replaceAll("\n", "\r\n");
  const data = Buffer.from(text, "latin1");
  const { SerializeAddon } = await import("@xterm/addon-serialize");
  const term = new Terminal({
    cols: COLS,
    rows: ROWS,
    scrollback: 5_000,
    allowProposedApi: true,
    logLevel: "off",
  });
  const ser = new SerializeAddon();
  term.loadAddon(ser);
  const core = (term as unknown as { _core: { writeSync(d: Uint8Array): void } })._core;
  await readyAndGo();
  const t0 = performance.now();
  for (let at = 0; at < data.length; at += 65_536) core.writeSync(data.subarray(at, at + 65_536));
  const parseMs = performance.now() - t0;
  const s0 = performance.now();
  const snap = ser.serialize({ scrollback: 5_000 });
  const serializeMs = performance.now() - s0;
  return {
    kind: "emulator",
    bytes: data.length,
    parseMs,
    serializeMs,
    snapshotBytes: enc.encode(snap).length,
  };
}

async function main(): Promise<void> {
  const job = JSON.parse(process.argv[2] ?? "{}") as PtyJob;
  let r: PtyResult;
  switch (job.mode) {
    case "direct-cat":
      r = await directCat(job.file);
      break;
    case "hub-cat":
      r = await hubCat(job);
      break;
    case "wetty-cat":
      r = await wettyCat(job.port);
      break;
    case "direct-echo":
      r = await directEcho(job);
      break;
    case "hub-echo":
      r = await hubEcho(job);
      break;
    case "wetty-echo":
      r = await wettyEcho(job.port, job);
      break;
    case "stage":
      r = await stage(job.stage, job.file);
      break;
    case "emulator":
      r = await emulator(job.file);
      break;
    case "ws-send":
      r = await wsSend(job.file, job.deflate);
      break;
    default:
      throw new Error(`unknown job ${JSON.stringify(job)}`);
  }
  out({ op: "result", result: r });
  process.exit(0);
}

if (import.meta.main) {
  main().catch((e: unknown) => {
    process.stderr.write(`pty-client: ${(e as Error).stack ?? e}\n`);
    process.exit(1);
  });
}
