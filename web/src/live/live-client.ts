/**
 * The app's one WebSocket to the hub's /live: binary protobuf frames (live.proto), one
 * subscription per stream, each with the cursor it holds (the last seq it was given).
 *
 * Contract with a subscriber: its `onBatch` gets the stream's events in order with no gap and
 * no repeat, except a batch marked `reset`, whose first event (a terminal snapshot) replaces
 * everything before it. The client checks this itself: a batch that does not follow the cursor
 * (seq must be cursor + 1) is dropped and the stream is subscribed again from the cursor, and
 * events the cursor already covers are skipped (they come after a resubscribe crosses a live
 * batch in flight).
 *
 * Phones kill sockets in the background without telling anyone, so the socket is checked with
 * a ping every PING_EVERY_MS, and on `online`, `pageshow` and the page becoming visible; a
 * dead or closed socket is replaced with backoff and jitter, and every stream resubscribes
 * from its cursor, so nothing is missed and nothing comes twice.
 *
 * A stream with many live viewers gets its batches deflated by the hub (deflated_events in
 * live.proto). Inflating is asynchronous in a browser (DecompressionStream), so while one is
 * inflated the frames after it wait in a queue and are handled after it, in arrival order;
 * with nothing being inflated a frame is handled at once, as it arrives. A deflated frame that
 * does not inflate to an EventBatch within MAX_INFLATED_BYTES breaks the socket: it is dropped
 * (CLOSE_BAD_FRAME) and replaced, and every stream resubscribes from its cursor.
 */
import { create, fromBinary, toBinary, type MessageInitShape } from "@bufbuild/protobuf";
import type { Event } from "@gen/switchboard/v1/common_pb.ts";
import {
  ClientFrameSchema,
  EventBatchSchema,
  ServerFrameSchema,
  type Changed,
  type EventBatch,
  type StreamError,
} from "@gen/switchboard/v1/live_pb.ts";
import { backoffDelay } from "./backoff.ts";

/** How often an open socket is pinged: under the idle timeouts of proxies and the hub (2 min). */
export const PING_EVERY_MS = 20_000;
/** A socket that has said nothing this long after a ping is taken for dead. */
export const PONG_TIMEOUT_MS = 10_000;
/** Close code the client uses when it gives up on a socket that stopped answering. */
export const CLOSE_DEAD = 4000;
/**
 * Close code for a socket that sent a deflated frame the client cannot read (1007, invalid
 * payload, is reserved to the browser itself: pages may only close with 1000 or 3000-4999).
 */
export const CLOSE_BAD_FRAME = 4007;
/** The most a deflated_events frame may inflate to, as live.proto promises. */
export const MAX_INFLATED_BYTES = 64 * 1024 * 1024;

/**
 * connecting: a socket is being opened; open: subscriptions flow; waiting: closed, a retry is
 * scheduled; stopped: not started, or stopped (signed out).
 */
export type LiveState = "connecting" | "open" | "waiting" | "stopped";

export interface StreamBatch {
  streamId: string;
  /** In order and following the previous batch (or, with `reset`, replacing it). */
  events: Event[];
  reset: boolean;
  /** The subscriber has everything stored; later batches are live. */
  live: boolean;
  /** The last stored seq of the stream, as the hub knows it. */
  headSeq: number;
}

export interface StreamSubscriber {
  onBatch(batch: StreamBatch): void;
  /** The hub refused the stream (code is a Connect code name: "not_found", …). */
  onError?(error: { code: string; message: string }): void;
}

export interface Subscription {
  readonly streamId: string;
  /** The last seq given to the subscriber. */
  readonly cursor: number;
  unsubscribe(): void;
}

/** The part of a WebSocket the client uses (a browser's, Bun's, or a test's fake). */
export interface WebSocketLike {
  binaryType: string;
  readonly readyState: number;
  send(data: Uint8Array): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
}

export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface LiveClientOptions {
  /** ws(s)://host/live */
  url: string;
  createSocket?: (url: string) => WebSocketLike;
  /** Where `online` and `pageshow` are heard (window); null to listen to nothing. */
  window?: EventTarget | null;
  /** Where `visibilitychange` is heard (document), with its visibilityState. */
  document?: (EventTarget & { visibilityState: string }) | null;
  clock?: Clock;
  random?: () => number;
}

export interface CloseInfo {
  code: number;
  reason: string;
  /** False when the socket never opened (refused: the hub down, or signed out). */
  wasOpen: boolean;
}

interface Sub {
  streamId: string;
  cursor: number;
  subscriber: StreamSubscriber;
  /** A resubscribe is on its way; batches that do not follow are dropped meanwhile. */
  resyncing: boolean;
}

const OPEN = 1;

const realClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

/** The /live URL of the page's own origin. */
export function liveUrl(loc: { protocol: string; host: string } = location): string {
  return `${loc.protocol === "https:" ? "wss" : "ws"}://${loc.host}/live`;
}

export class LiveClient {
  private socket: WebSocketLike | null = null;
  private _state: LiveState = "stopped";
  private attempt = 0;
  private retryTimer: unknown = null;
  private pingTimer: unknown = null;
  private pongTimer: unknown = null;
  private nonce = 0;
  /**
   * While a deflated frame of the current socket is inflated: the frames that came after it,
   * to handle after it in arrival order. Null otherwise (frames are handled as they arrive).
   */
  private queue: unknown[] | null = null;
  /** The streams the page shows (see view), with how many panes show each. */
  private readonly viewing = new Map<string, number>();
  private readonly subs = new Map<string, Sub>();
  private readonly stateListeners = new Set<(s: LiveState) => void>();
  private readonly changedListeners = new Set<(c: Changed) => void>();
  private readonly closingListeners = new Set<(reason: string) => void>();
  private readonly closeListeners = new Set<(info: CloseInfo) => void>();
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly createSocket: (url: string) => WebSocketLike;

  constructor(private readonly opts: LiveClientOptions) {
    this.clock = opts.clock ?? realClock;
    this.random = opts.random ?? Math.random;
    this.createSocket =
      opts.createSocket ?? ((url) => new WebSocket(url) as unknown as WebSocketLike);
  }

  get state(): LiveState {
    return this._state;
  }

  /** Opens the socket and starts listening to the page's lifecycle. Idempotent. */
  start(): void {
    if (this._state !== "stopped") return;
    this.opts.window?.addEventListener("online", this.onWake);
    this.opts.window?.addEventListener("pageshow", this.onWake);
    this.opts.document?.addEventListener("visibilitychange", this.onVisibility);
    this.attempt = 0;
    this.connect();
  }

  /** Closes the socket and stops retrying (subscriptions are kept for a later start). */
  stop(): void {
    if (this._state === "stopped") return;
    this.opts.window?.removeEventListener("online", this.onWake);
    this.opts.window?.removeEventListener("pageshow", this.onWake);
    this.opts.document?.removeEventListener("visibilitychange", this.onVisibility);
    this.clearTimers();
    const s = this.socket;
    this.socket = null;
    if (s) {
      this.detach(s);
      s.close(1000, "stopped");
    }
    this.setState("stopped");
  }

  /**
   * Follows a stream from `afterSeq` (0 for its start). One subscriber per stream: subscribing
   * again replaces the previous one and restarts from the new cursor.
   */
  subscribe(streamId: string, afterSeq: number, subscriber: StreamSubscriber): Subscription {
    const sub: Sub = { streamId, cursor: afterSeq, subscriber, resyncing: false };
    this.subs.set(streamId, sub);
    this.sendSubscribe(sub);
    const subs = this.subs;
    return {
      streamId,
      get cursor() {
        return sub.cursor;
      },
      unsubscribe: () => {
        if (subs.get(streamId) !== sub) return;
        subs.delete(streamId);
        this.send({ case: "unsubscribe", value: { streamId } });
      },
    };
  }

  /**
   * A pane shows this stream until the returned function is called. The hub spares this device
   * push notifications for every stream shown while the page is visible; the set is sent on
   * each change, (re)connect and visibility change. Several panes may show one stream.
   */
  view(streamId: string): () => void {
    if (streamId === "") return () => {};
    this.viewing.set(streamId, (this.viewing.get(streamId) ?? 0) + 1);
    this.sendViewing();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const n = (this.viewing.get(streamId) ?? 1) - 1;
      if (n > 0) this.viewing.set(streamId, n);
      else this.viewing.delete(streamId);
      this.sendViewing();
    };
  }

  /** Keystrokes for a terminal stream; false when the socket is not open. */
  sendInput(streamId: string, data: Uint8Array): boolean {
    return this.send({ case: "input", value: { streamId, data } });
  }

  /** This viewer's terminal size; false when the socket is not open. */
  sendResize(streamId: string, cols: number, rows: number): boolean {
    return this.send({ case: "resize", value: { streamId, cols, rows } });
  }

  onState(fn: (s: LiveState) => void): () => void {
    return listen(this.stateListeners, fn);
  }

  /** Something listed by the RPC API changed: refetch it. */
  onChanged(fn: (c: Changed) => void): () => void {
    return listen(this.changedListeners, fn);
  }

  /** The hub is closing the socket on purpose (signed out, rights changed), with its reason. */
  onClosing(fn: (reason: string) => void): () => void {
    return listen(this.closingListeners, fn);
  }

  /** The socket closed (a retry follows unless stopped). */
  onClose(fn: (info: CloseInfo) => void): () => void {
    return listen(this.closeListeners, fn);
  }

  /** Retries at once, forgetting the backoff (the network came back, the page woke up). */
  reconnectNow(): void {
    if (this._state === "stopped") return;
    if (this._state === "open") return this.check();
    if (this._state === "connecting") return;
    this.attempt = 0;
    this.connect();
  }

  /** Makes sure an open socket still answers: a ping now, dropped without an answer. */
  check(): void {
    if (this._state !== "open") return;
    this.ping();
  }

  private readonly onWake = () => this.reconnectNow();

  private readonly onVisibility = () => {
    this.sendViewing();
    if (this.opts.document?.visibilityState === "visible") this.reconnectNow();
  };

  private sendViewing(): void {
    const visible = (this.opts.document?.visibilityState ?? "visible") === "visible";
    const [first = "", ...rest] = this.viewing.keys();
    this.send({ case: "viewing", value: { streamId: first, streamIds: rest, visible } });
  }

  private connect(): void {
    this.clearTimers();
    this.setState("connecting");
    let socket: WebSocketLike;
    try {
      socket = this.createSocket(this.opts.url);
    } catch {
      // A malformed URL or a blocked socket: counted as a failed attempt, retried later.
      this.scheduleRetry({ code: 1006, reason: "could not open", wasOpen: false });
      return;
    }
    this.socket = socket;
    this.queue = null; // what an old socket still had to inflate is not this socket's
    socket.binaryType = "arraybuffer";
    let opened = false;
    socket.onopen = () => {
      if (this.socket !== socket) return;
      opened = true;
      this.attempt = 0;
      this.setState("open");
      for (const sub of this.subs.values()) this.sendSubscribe(sub);
      if (this.viewing.size > 0) this.sendViewing();
      this.schedulePing();
    };
    socket.onmessage = (m) => {
      if (this.socket !== socket) return;
      this.heard();
      if (this.queue) this.queue.push(m.data);
      else this.receive(m.data);
    };
    socket.onclose = (e) => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.scheduleRetry({ code: e.code, reason: e.reason, wasOpen: opened });
    };
    // An error is followed by close, which does the work.
    socket.onerror = () => {};
  }

  private scheduleRetry(info: CloseInfo): void {
    this.clearTimers();
    this.setState("waiting");
    for (const fn of this.closeListeners) fn(info);
    if (this._state !== "waiting") return; // a listener stopped or restarted us
    const delay = backoffDelay(this.attempt++, this.random);
    this.retryTimer = this.clock.setTimeout(() => {
      this.retryTimer = null;
      if (this._state === "waiting") this.connect();
    }, delay);
  }

  /** Gives up on a socket (it stopped answering, or sent what cannot be read) and retries. */
  private drop(reason: string, code = CLOSE_DEAD): void {
    const s = this.socket;
    if (!s) return;
    this.socket = null;
    this.queue = null;
    this.detach(s);
    s.close(code, reason);
    this.scheduleRetry({ code, reason, wasOpen: true });
  }

  private receive(data: unknown): void {
    if (!(data instanceof ArrayBuffer) && !ArrayBuffer.isView(data)) return;
    const bytes =
      data instanceof ArrayBuffer
        ? new Uint8Array(data)
        : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    let frame;
    try {
      frame = fromBinary(ServerFrameSchema, bytes).frame;
    } catch {
      // Not a ServerFrame: a hub of another version. Nothing in it can be used; skip it.
      return;
    }
    switch (frame.case) {
      case "events":
        return this.batch(frame.value);
      case "deflatedEvents":
        return this.inflate(frame.value);
      case "error":
        return this.streamError(frame.value);
      case "changed":
        for (const fn of this.changedListeners) fn(frame.value);
        return;
      case "closing":
        for (const fn of this.closingListeners) fn(frame.value.reason);
        return;
      case "pong":
        return; // heard() already counted it
    }
  }

  /**
   * Inflates a deflated_events frame, then handles it and the frames queued behind it meanwhile,
   * in order, until the next deflated one (which queues the rest again).
   */
  private inflate(deflated: Uint8Array): void {
    const socket = this.socket;
    const queue: unknown[] = [];
    this.queue = queue;
    const current = () => this.queue === queue && this.socket === socket;
    inflateRaw(deflated, MAX_INFLATED_BYTES)
      .then((bytes) => fromBinary(EventBatchSchema, bytes))
      .then(
        (batch) => {
          if (!current()) return; // the socket was dropped or replaced meanwhile
          this.queue = null;
          // A subscriber that throws loses its own frame, as on the synchronous path, not
          // the frames queued behind it.
          rethrowLater(() => this.batch(batch));
          for (let i = 0; i < queue.length; i++) {
            if (this.socket !== socket) return; // a subscriber stopped the client
            // A frame handled here may itself have been deflated: the rest waits behind it.
            const next = this.queue as unknown[] | null;
            if (next) {
              next.push(...queue.slice(i));
              return;
            }
            rethrowLater(() => this.receive(queue[i]));
          }
        },
        (e: Error) => {
          if (current()) this.drop(`unreadable deflated frame: ${e.message}`, CLOSE_BAD_FRAME);
        },
      );
  }

  private batch(b: EventBatch): void {
    const sub = this.subs.get(b.streamId);
    if (!sub) return; // unsubscribed while it was in flight
    let events = b.events;
    if (!b.reset) {
      events = events.filter((e) => e.seq > sub.cursor);
      let expected = sub.cursor + 1;
      let n = 0;
      while (n < events.length && events[n]!.seq === expected) (n++, expected++);
      if (n < events.length) {
        // A hole: deliver what follows the cursor, then ask again from there.
        this.deliver(sub, events.slice(0, n), b, false);
        if (!sub.resyncing) {
          sub.resyncing = true;
          this.sendSubscribe(sub);
        }
        return;
      }
    }
    sub.resyncing = false;
    this.deliver(sub, events, b, b.live);
  }

  private deliver(
    sub: Sub,
    events: Event[],
    b: { streamId: string; reset: boolean; headSeq: number },
    live: boolean,
  ): void {
    if (events.length === 0 && !live && !b.reset) return;
    const last = events.at(-1);
    if (last) sub.cursor = last.seq;
    sub.subscriber.onBatch({
      streamId: b.streamId,
      events,
      reset: b.reset,
      live,
      headSeq: Math.max(b.headSeq, sub.cursor),
    });
  }

  private streamError(e: StreamError): void {
    const sub = this.subs.get(e.streamId);
    sub?.subscriber.onError?.({ code: e.code, message: e.message });
  }

  private sendSubscribe(sub: Sub): void {
    this.send({ case: "subscribe", value: { streamId: sub.streamId, afterSeq: sub.cursor } });
  }

  private send(frame: MessageInitShape<typeof ClientFrameSchema>["frame"]): boolean {
    const s = this.socket;
    if (!s || this._state !== "open" || s.readyState !== OPEN) return false;
    s.send(toBinary(ClientFrameSchema, create(ClientFrameSchema, { frame })));
    return true;
  }

  private schedulePing(): void {
    this.clock.clearTimeout(this.pingTimer);
    this.pingTimer = this.clock.setTimeout(() => {
      this.pingTimer = null;
      this.ping();
    }, PING_EVERY_MS);
  }

  private ping(): void {
    this.nonce = (this.nonce + 1) >>> 0;
    if (!this.send({ case: "ping", value: { nonce: this.nonce } })) return;
    if (this.pongTimer === null) {
      this.pongTimer = this.clock.setTimeout(() => {
        this.pongTimer = null;
        this.drop("no answer to ping");
      }, PONG_TIMEOUT_MS);
    }
    this.schedulePing();
  }

  /** Any frame shows the socket is alive. */
  private heard(): void {
    if (this.pongTimer !== null) {
      this.clock.clearTimeout(this.pongTimer);
      this.pongTimer = null;
    }
  }

  private detach(s: WebSocketLike): void {
    s.onopen = s.onmessage = s.onclose = s.onerror = null;
  }

  private clearTimers(): void {
    for (const t of [this.retryTimer, this.pingTimer, this.pongTimer]) {
      if (t !== null) this.clock.clearTimeout(t);
    }
    this.retryTimer = this.pingTimer = this.pongTimer = null;
  }

  private setState(s: LiveState): void {
    if (s === this._state) return;
    this._state = s;
    for (const fn of this.stateListeners) fn(s);
  }
}

/** Runs `fn`; what it throws is thrown again in a task of its own, so the caller goes on. */
function rethrowLater(fn: () => void): void {
  try {
    fn();
  } catch (e) {
    setTimeout(() => {
      throw e;
    });
  }
}

/** Raw DEFLATE (RFC 1951) inflated; rejects past `max` bytes or on a malformed stream. */
async function inflateRaw(deflated: Uint8Array, max: number): Promise<Uint8Array> {
  const ds = new DecompressionStream("deflate-raw");
  const writer = ds.writable.getWriter();
  // A malformed stream rejects these too; the reader below reports it.
  writer.write(deflated as Uint8Array<ArrayBuffer>).catch(() => {});
  writer.close().catch(() => {});
  const reader = ds.readable.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      size += value.length;
      if (size > max) throw new Error(`inflates past ${max} bytes`);
      chunks.push(value);
    }
  } finally {
    // Stops the inflater when it was given up on; after the end this does nothing.
    reader.cancel().catch(() => {});
  }
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) (out.set(c, at), (at += c.length));
  return out;
}

function listen<T>(set: Set<T>, fn: T): () => void {
  set.add(fn);
  return () => void set.delete(fn);
}
