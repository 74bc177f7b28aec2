/**
 * The browser's live WebSocket (/live). A client subscribes to a stream with its cursor (the
 * last seq it holds); the hub sends every stored event after it, page by page as the socket
 * drains, and then, in the same synchronous step as the last read, joins the stream's topic,
 * so no event falls between replay and live and none comes twice. Live events go out with
 * Bun's native publish: one encoding, every subscriber; to many subscribers a batch goes deflated
 * by the hub itself, once (ServerFrame.deflated_events), instead of by each socket.
 */
import type { Database } from "bun:sqlite";
import { create, fromBinary, toBinary, type MessageInitShape } from "@bufbuild/protobuf";
import {
  encodeEventBatch,
  encodeEventsFrame,
  type EventBatchFields,
} from "../common/event-wire.ts";
import type { ServerWebSocket } from "bun";
import type { Event } from "../gen/switchboard/v1/common_pb.ts";
import { ClientFrameSchema, ServerFrameSchema } from "../gen/switchboard/v1/live_pb.ts";
import type { CommandSchema } from "../gen/switchboard/v1/link_pb.ts";
import { EventKind, Role } from "../gen/switchboard/v1/common_pb.ts";
import type { Caller } from "./caller.ts";
import { roleOf, usersOfWorkspace, workspaceOfStream } from "./rights.ts";
import type { EventLog } from "./store/events.ts";

/** The largest frame a browser may send (subscriptions and pings are tiny). */
export const MAX_CLIENT_FRAME_BYTES = 64 * 1024;
/** Streams one socket may follow at once. */
export const MAX_SUBSCRIPTIONS = 256;
/**
 * A live subscriber with this much still queued is behind: it catches up from the log instead
 * of being sent more (well below the sockets' hard limit, SOCKET_BACKPRESSURE_BYTES in hub.ts).
 */
export const LIVE_BEHIND_BYTES = 4 * 1024 * 1024;
/**
 * The same for terminal output, whose events are up to 64 KiB: 4 MiB is 64 of them, a burst of
 * link frames published in one turn while the client waits for a core, and replaying from the
 * log then cost the hub more than sending (bench:pty). Still a quarter of the hard limit.
 */
export const LIVE_BEHIND_TERMINAL_BYTES = 16 * 1024 * 1024;
/**
 * Bun deflates a publish once per subscriber, not once for all: with 1,000 subscribers that
 * took the hub's thread 10 times longer than sending (bench:hub). Past this many live
 * subscribers a stream's batches are deflated by the hub, once, as ServerFrame.deflated_events.
 */
export const COMPRESS_MAX_SUBSCRIBERS = 16;
/**
 * The smallest encoded batch worth deflating once for many: a flood's batch of 4 events (919
 * bytes) shrinks 3.3 times, one event (262 bytes) only 1.2 times, and in a browser every
 * deflated frame waits for an asynchronous inflate, so small live batches are better plain.
 */
export const DEFLATE_MIN_BYTES = 1024;
/**
 * The most a deflated_events frame inflates to (live.proto promises it; clients refuse more).
 * A bigger batch (the worker's link frames go up to 64 MiB) is published plain.
 */
export const MAX_INFLATED_BYTES = 64 * 1024 * 1024;

/**
 * Session batches go out deflated (permessage-deflate, negotiated by the browser): session
 * updates are repetitive JSON that shrinks several times, which is what a phone on a mobile
 * network wants. Terminal output is not: deflating a flood
 * cost more CPU than the whole rest of its path (bench:pty).
 */
function compressible(events: Event[]): boolean {
  // (Terminal kinds are numbered from TERMINAL_OUTPUT up; session kinds below.)
  return events[0]!.kind < EventKind.TERMINAL_OUTPUT;
}
/** A terminal client this far behind a snapshot gets the snapshot and the tail instead. */
export const SNAPSHOT_AFTER_BYTES = 256 * 1024;

export interface LiveData {
  kind: "live";
  caller: Caller;
  subs: Map<string, { live: boolean; generation: number }>;
  /** The streams this socket's page shows while visible (its last Viewing frame), else unset. */
  viewing?: ReadonlySet<string>;
}

export type LiveSocket = ServerWebSocket<LiveData>;

type CommandBody = MessageInitShape<typeof CommandSchema>["body"];

const topicOf = (streamId: string) => `s:${streamId}`;
const userTopic = (userId: string) => `u:${userId}`;

export function encodeServerFrame(
  frame: MessageInitShape<typeof ServerFrameSchema>["frame"],
): Uint8Array {
  return toBinary(ServerFrameSchema, create(ServerFrameSchema, { frame }));
}

/** Panes a page may show at once, for Viewing (the desktop tiles up to four). */
const MAX_VIEWED_STREAMS = 8;

export class LiveHub {
  private server: { publish(topic: string, data: Uint8Array, compress?: boolean): number } | null =
    null;
  private readonly sockets = new Set<LiveSocket>();
  private readonly drainWaiters = new Map<LiveSocket, (() => void)[]>();
  /** The sockets following each stream live (also subscribed to its topic). */
  private readonly liveSubs = new Map<string, Set<LiveSocket>>();
  private link: {
    command(workerId: string, actor: string, body: CommandBody): Promise<string>;
  } | null = null;

  constructor(
    private readonly db: Database,
    private readonly events: EventLog,
  ) {}

  bind(server: { publish(topic: string, data: Uint8Array, compress?: boolean): number }): void {
    this.server = server;
  }

  /** Where terminal input and resizes go: the stream's worker, through the link. */
  forwardTo(link: {
    command(workerId: string, actor: string, body: CommandBody): Promise<string>;
  }) {
    this.link = link;
  }

  open(ws: LiveSocket): void {
    this.sockets.add(ws);
    ws.subscribe(userTopic(ws.data.caller.userId));
  }

  close(ws: LiveSocket): void {
    this.sockets.delete(ws);
    for (const streamId of ws.data.subs.keys()) this.leaveLive(ws, streamId);
    this.drain(ws);
  }

  drain(ws: LiveSocket): void {
    const list = this.drainWaiters.get(ws);
    this.drainWaiters.delete(ws);
    for (const w of list ?? []) w();
  }

  message(ws: LiveSocket, raw: string | Buffer): void {
    if (typeof raw === "string") return void ws.close(1003, "binary protobuf frames only");
    if (raw.length > MAX_CLIENT_FRAME_BYTES) return void ws.close(1009, "frame too large");
    let frame;
    try {
      frame = fromBinary(ClientFrameSchema, raw).frame;
    } catch {
      return void ws.close(1007, "not a ClientFrame");
    }
    switch (frame.case) {
      case "subscribe":
        void this.subscribe(ws, frame.value.streamId, frame.value.afterSeq);
        return;
      case "unsubscribe":
        ws.data.subs.delete(frame.value.streamId);
        this.leaveLive(ws, frame.value.streamId);
        return;
      case "ping":
        ws.send(encodeServerFrame({ case: "pong", value: { nonce: frame.value.nonce } }));
        return;
      case "input":
        return this.steer(ws, frame.value.streamId, { case: "terminalInput", value: frame.value });
      case "resize":
        return this.steer(ws, frame.value.streamId, { case: "terminalResize", value: frame.value });
      case "viewing":
        // Only ever spares this device a notification, so no rights check is needed.
        ws.data.viewing = frame.value.visible ? viewedStreams(frame.value) : undefined;
        return;
      default:
        return void ws.close(1007, "unknown frame");
    }
  }

  /**
   * Stored events were appended to a stream: send them to its live subscribers, in one
   * native publish (deflated by the hub once when they are many, see COMPRESS_MAX_SUBSCRIBERS;
   * by each socket's permessage-deflate when they are few). A subscriber with LIVE_BEHIND_BYTES
   * already queued is not given more (Bun would drop what passes its limit, silently): it goes
   * back to replaying from the log, page by page as it drains, and is live again once it has
   * caught up. Nothing is lost either way.
   */
  published(streamId: string, events: Event[], head: number): void {
    if (events.length === 0 || !this.server) return;
    const before = events[0]!.seq - 1;
    // Behind ones leave the topic before the publish and replay after it (the replay reads
    // this batch from the log; starting it first would let it rejoin and get the batch twice).
    const behind: LiveSocket[] = [];
    const limit = compressible(events) ? LIVE_BEHIND_BYTES : LIVE_BEHIND_TERMINAL_BYTES;
    for (const ws of this.liveSubs.get(streamId) ?? []) {
      if (ws.getBufferedAmount() > limit) {
        this.leaveLive(ws, streamId);
        behind.push(ws);
      }
    }
    const batch = { streamId, events, live: true, headSeq: head };
    const many = (this.liveSubs.get(streamId)?.size ?? 0) > COMPRESS_MAX_SUBSCRIBERS;
    const deflated = many && compressible(events) ? deflateBatch(batch) : null;
    if (deflated) {
      this.server.publish(
        topicOf(streamId),
        encodeServerFrame({ case: "deflatedEvents", value: deflated }),
        false,
      );
    } else {
      this.server.publish(
        topicOf(streamId),
        encodeEventsFrame(batch),
        !many && compressible(events),
      );
    }
    for (const ws of behind) void this.replay(ws, streamId, before, false);
  }

  /** Tells every user with a role on the workspace (or the given users) to refetch `what`. */
  changed(what: string, workspaceId: string, users?: string[]): void {
    if (!this.server) return;
    const frame = encodeServerFrame({ case: "changed", value: { what, workspaceId } });
    for (const u of users ?? usersOfWorkspace(this.db, workspaceId)) {
      this.server.publish(userTopic(u), frame);
    }
  }

  /** Whether the device has a socket whose visible page shows the stream (see Viewing). */
  isViewing(deviceId: string, streamId: string): boolean {
    if (streamId === "") return false;
    for (const ws of this.sockets) {
      if (ws.data.caller.deviceId === deviceId && ws.data.viewing?.has(streamId)) return true;
    }
    return false;
  }

  /** Closes the sockets matching `pred` (a revoked device, a user whose rights changed). */
  disconnect(pred: (c: Caller) => boolean, reason: string): void {
    for (const ws of this.sockets) {
      if (!pred(ws.data.caller)) continue;
      ws.send(encodeServerFrame({ case: "closing", value: { reason } }));
      ws.close(4001, reason.slice(0, 120));
    }
  }

  /**
   * Terminal input or a resize from a viewer: needs the operator role on the stream's
   * workspace, checked on every frame (rights may change while the socket is open).
   */
  private steer(ws: LiveSocket, streamId: string, body: CommandBody): void {
    const err = (code: string, message: string) =>
      ws.send(encodeServerFrame({ case: "error", value: { streamId, code, message } }));
    const row = this.db
      .query(
        "SELECT s.workspace_id AS workspaceId, w.worker_id AS workerId FROM streams s JOIN workspaces w ON w.id = s.workspace_id WHERE s.id = ?",
      )
      .get(streamId) as { workspaceId: string; workerId: string } | null;
    const role = row ? roleOf(this.db, ws.data.caller.userId, row.workspaceId) : Role.UNSPECIFIED;
    if (!row || role === Role.UNSPECIFIED) return void err("not_found", "no such stream");
    if (role < Role.OPERATOR) {
      return void err("permission_denied", "your role in this workspace does not let you type");
    }
    if (!this.link) return void err("unavailable", "no worker link");
    this.link
      .command(row.workerId, ws.data.caller.userName, body)
      .catch((e: Error) => err("unavailable", e.message));
  }

  private subscribe(ws: LiveSocket, streamId: string, afterSeq: number): void {
    const err = (code: string, message: string) =>
      ws.send(encodeServerFrame({ case: "error", value: { streamId, code, message } }));
    const workspaceId = workspaceOfStream(this.db, streamId);
    if (!workspaceId || roleOf(this.db, ws.data.caller.userId, workspaceId) < Role.VIEWER) {
      return void err("not_found", "no such stream");
    }
    if (!ws.data.subs.has(streamId) && ws.data.subs.size >= MAX_SUBSCRIPTIONS) {
      return void err("resource_exhausted", `at most ${MAX_SUBSCRIPTIONS} streams per socket`);
    }
    let cursor = Math.max(0, Math.floor(afterSeq));
    let reset = false;
    const h = this.events.head(streamId);
    if (h && h.snapshot > cursor) {
      const behind = this.events.bytesBetween(streamId, cursor, h.snapshot);
      if (behind > SNAPSHOT_AFTER_BYTES) {
        cursor = h.snapshot - 1;
        reset = true;
      }
    }
    // A cursor past the head (a client that saw a database since restored) waits for new events.
    if (h && cursor > h.head) cursor = h.head;
    void this.replay(ws, streamId, cursor, reset);
  }

  /**
   * Sends a socket every stored event of a stream after `cursor`, page by page as it drains,
   * then makes it live. A new call for the same socket and stream replaces a running one.
   */
  private async replay(ws: LiveSocket, streamId: string, cursor: number, reset: boolean) {
    const generation = (ws.data.subs.get(streamId)?.generation ?? 0) + 1;
    this.leaveLive(ws, streamId);
    ws.data.subs.set(streamId, { live: false, generation });
    const current = () =>
      ws.readyState === 1 && ws.data.subs.get(streamId)?.generation === generation;
    for (;;) {
      if (!current()) return;
      const page = this.events.read(streamId, cursor);
      const head = this.events.head(streamId)?.head ?? 0;
      const last = page.at(-1)?.seq ?? cursor;
      const caughtUp = last >= head;
      if (caughtUp) {
        // Same synchronous step as the read: nothing can be appended in between.
        ws.subscribe(topicOf(streamId));
        ws.data.subs.set(streamId, { live: true, generation });
        let set = this.liveSubs.get(streamId);
        if (!set) this.liveSubs.set(streamId, (set = new Set()));
        set.add(ws);
      }
      const sent = ws.send(
        encodeEventsFrame({ streamId, events: page, reset, live: caughtUp, headSeq: head }),
        page.length > 0 && compressible(page),
      );
      reset = false;
      cursor = last;
      if (caughtUp || sent === 0) return; // live, or closed
      if (ws.getBufferedAmount() > LIVE_BEHIND_BYTES) await this.drained(ws);
    }
  }

  private leaveLive(ws: LiveSocket, streamId: string): void {
    ws.unsubscribe(topicOf(streamId));
    const set = this.liveSubs.get(streamId);
    set?.delete(ws);
    if (set?.size === 0) this.liveSubs.delete(streamId);
  }

  private drained(ws: LiveSocket): Promise<void> {
    return new Promise((resolve) => {
      let list = this.drainWaiters.get(ws);
      if (!list) this.drainWaiters.set(ws, (list = []));
      list.push(resolve);
    });
  }
}

/**
 * A batch protobuf-encoded and compressed with raw DEFLATE, once for every subscriber; null
 * when that would not pay (a small batch, one that does not shrink) or not fit the limit.
 */
function deflateBatch(batch: EventBatchFields): Uint8Array | null {
  const encoded = encodeEventBatch(batch);
  if (encoded.length < DEFLATE_MIN_BYTES || encoded.length > MAX_INFLATED_BYTES) return null;
  // Bun.deflateSync writes raw DEFLATE (RFC 1951), what live.proto names; default level 6: on
  // a flood's batches it gives 14 times against level 1's 11, for 0.4 µs an event, and with
  // many subscribers every byte saved is saved once per socket.
  const deflated = Bun.deflateSync(encoded);
  return deflated.length < encoded.length ? deflated : null;
}

/** The streams a Viewing frame names, bounded: a few panes' worth of ids of sane length. */
function viewedStreams(v: { streamId: string; streamIds: string[] }): ReadonlySet<string> {
  const ids = new Set<string>();
  for (const id of [v.streamId, ...v.streamIds]) {
    if (ids.size >= MAX_VIEWED_STREAMS) break;
    if (id !== "" && id.length <= 100) ids.add(id);
  }
  return ids;
}
