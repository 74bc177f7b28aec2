/**
 * The worker's outbox: every event of every stream is numbered here (seq 1, 2, 3 … per
 * stream) and written to the worker's own bun:sqlite file before it is sent, and kept until
 * the hub acknowledges it. After a reconnect, what is still here is sent again; the hub
 * ignores what it already has, so a resend never duplicates.
 */
import type { Database, Statement } from "bun:sqlite";
import { create } from "@bufbuild/protobuf";
import { EVENT_COLUMNS, eventFromRow, type EventRow } from "../common/event-row.ts";
import { EventSchema, type Event, type EventKind } from "../gen/switchboard/v1/common_pb.ts";

export interface EventInput {
  json?: unknown;
  data?: Uint8Array;
  actor?: string;
}

/**
 * The window of a stream's unacknowledged events: past either bound, while the link is up, the
 * stream is full and its agent waits (it is no longer read; its pipe holds the rest); once acks
 * bring it under both low-water marks it is drained. Chosen by measurement (bench:hub, one
 * client, full-speed flood): 2,048 events keep the rate of an unbounded queue when reading
 * resumes at 7/8 of it (resuming at half cost about 15 %, and 4,096 or 8,192 did not win it
 * back), while the queue behind the hub stays a few tens of ms long. 2 MiB bounds large events.
 */
export const WINDOW_EVENTS = 2_048;
export const WINDOW_BYTES = 2 * 1024 * 1024;
/** Drained again at this share of the window: read on in short runs, the hub never runs dry. */
export const LOW_WATER = 0.875;

export interface OutboxOptions {
  /** The window, by count and bytes (tests narrow it). */
  windowEvents?: number;
  windowBytes?: number;
}

/** Whether a stream's window is full; the agent's driver holds its agent while it is. */
export interface StreamPressure {
  readonly full: boolean;
  /** `fn` hears every change; returns its removal. */
  onChange(fn: (full: boolean) => void): () => void;
}

/**
 * Acknowledged rows are deleted this long after the first ack since the last delete, all in one
 * transaction: one DELETE per ack (a terminal flood has one every 64 KiB) was the worker's largest
 * cost in bench:pty. Rows acked but not deleted yet are never sent again (the acked seq, kept in
 * memory, says where sending starts); after a crash the hub ignores what it has already.
 */
export const TRIM_DELAY_MS = 100;

interface StreamState {
  last: number;
  acked: number;
  /**
   * Sizes of the events numbered since this process opened the outbox and not yet acked, as
   * seq, bytes pairs in order from `head` (what an earlier run left counts by number only).
   */
  sizes: number[];
  head: number;
  bytes: number;
  full: boolean;
  watchers: Set<(full: boolean) => void>;
}

export class Outbox {
  private readonly streams = new Map<string, StreamState>();
  private pending: { streamId: string; event: Event }[] = [];
  private scheduled = false;
  /** Streams with acked rows still stored, and the timer that deletes them. */
  private readonly trimDue = new Set<string>();
  private trimTimer: ReturnType<typeof setTimeout> | null = null;
  private readonly insert: Statement;
  private readonly upsertStream: Statement;
  private readonly deleteAcked: Statement;
  private readonly listeners = new Set<(streamId: string, events: Event[]) => void>();

  /** The link is up (welcomed): only then can a full window be acked, so only then it holds. */
  private linkUp = false;
  private readonly windowEvents: number;
  private readonly windowBytes: number;

  /** Opens the outbox on the worker's database (see worker-db.ts). */
  constructor(
    readonly db: Database,
    opts: OutboxOptions = {},
  ) {
    this.windowEvents = opts.windowEvents ?? WINDOW_EVENTS;
    this.windowBytes = opts.windowBytes ?? WINDOW_BYTES;
    this.insert = this.db.query(
      "INSERT OR REPLACE INTO outbox (stream_id, seq, time, kind, json, data, actor) VALUES (?, ?, ?, ?, ?, ?, ?)",
    );
    this.upsertStream = this.db.query(
      `INSERT INTO streams (stream_id, last_seq, acked_seq) VALUES (?1, ?2, ?3)
       ON CONFLICT DO UPDATE SET last_seq = max(last_seq, ?2), acked_seq = max(acked_seq, ?3)`,
    );
    this.deleteAcked = this.db.query("DELETE FROM outbox WHERE stream_id = ? AND seq <= ?");
    // Rows acked before a crash but not deleted yet (see TRIM_DELAY_MS).
    this.db.run(
      `DELETE FROM outbox WHERE seq <= (SELECT acked_seq FROM streams s WHERE s.stream_id = outbox.stream_id)`,
    );
    for (const r of this.db
      .query("SELECT stream_id AS id, last_seq AS last, acked_seq AS acked FROM streams")
      .all() as {
      id: string;
      last: number;
      acked: number;
    }[]) {
      this.streams.set(r.id, newState(r.last, r.acked));
    }
  }

  /** Called with each stored batch, in order (the link sends it). */
  onStored(fn: (streamId: string, events: Event[]) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /**
   * Numbers an event and queues it; it is written (with the others of this turn of the event
   * loop, in one transaction) and handed to the listeners right after.
   */
  append(streamId: string, kind: EventKind, input: EventInput): Event {
    const s = this.stream(streamId);
    s.last += 1;
    const event = create(EventSchema, {
      seq: s.last,
      timeMs: Date.now(),
      kind,
      json: input.json === undefined ? "" : JSON.stringify(input.json),
      data: input.data ?? new Uint8Array(0),
      actor: input.actor ?? "",
    });
    this.pending.push({ streamId, event });
    const size = event.json.length + event.data.length;
    s.sizes.push(event.seq, size);
    s.bytes += size;
    if (!s.full && this.linkUp && this.over(s, 1)) this.setFull(s, true);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
    return event;
  }

  /** Writes what is queued now (tests and shutdown call it directly). */
  flush(): void {
    this.scheduled = false;
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    this.db.transaction(() => {
      for (const { streamId, event: e } of batch) {
        this.insert.run(
          streamId,
          e.seq,
          e.timeMs,
          e.kind,
          e.json,
          e.data.length ? e.data : null,
          e.actor,
        );
      }
      const touched = new Set(batch.map((b) => b.streamId));
      for (const id of touched) {
        const s = this.streams.get(id)!;
        this.upsertStream.run(id, s.last, s.acked);
      }
    })();
    // Group by stream, keeping order within each.
    const byStream = new Map<string, Event[]>();
    for (const { streamId, event } of batch) {
      let list = byStream.get(streamId);
      if (!list) byStream.set(streamId, (list = []));
      list.push(event);
    }
    for (const [id, events] of byStream) for (const fn of this.listeners) fn(id, events);
  }

  /** The hub has stored everything up to `seq`: forget it here. */
  ack(streamId: string, seq: number): void {
    const s = this.stream(streamId);
    if (seq <= s.acked) return;
    s.acked = Math.min(seq, s.last);
    this.trimDue.add(streamId);
    if (!this.trimTimer) {
      this.trimTimer = setTimeout(() => this.trim(), TRIM_DELAY_MS);
      this.trimTimer.unref();
    }
    forgetSizes(s);
    if (s.full && !this.over(s, LOW_WATER)) this.setFull(s, false);
  }

  /**
   * The link says whether it is up. While it is down nothing can be acked, so no stream is held
   * on this account: the agents go on and their events wait here, on disk, for the link (a hub
   * restart must not freeze every agent). Once it is up again a stream past its window is full
   * until the resend is acked.
   */
  setLinkUp(up: boolean): void {
    if (this.linkUp === up) return;
    this.linkUp = up;
    for (const s of this.streams.values()) {
      const full = up && this.over(s, 1);
      if (s.full !== full) this.setFull(s, full);
    }
  }

  /** A stream's window, for its agent's driver. */
  pressure(streamId: string): StreamPressure {
    const s = this.stream(streamId);
    return {
      get full() {
        return s.full;
      },
      onChange(fn) {
        s.watchers.add(fn);
        return () => void s.watchers.delete(fn);
      },
    };
  }

  /** Unacknowledged events and bytes of a stream (bytes: of those numbered by this process). */
  unackedSize(streamId: string): { events: number; bytes: number } {
    const s = this.streams.get(streamId);
    return s ? { events: s.last - s.acked, bytes: s.bytes } : { events: 0, bytes: 0 };
  }

  /** Past the window scaled by `scale` (1: the high mark; LOW_WATER: the low one). */
  private over(s: StreamState, scale: number): boolean {
    return s.last - s.acked > this.windowEvents * scale || s.bytes > this.windowBytes * scale;
  }

  private setFull(s: StreamState, full: boolean): void {
    s.full = full;
    for (const fn of [...s.watchers]) {
      try {
        fn(full);
      } catch {
        // A watcher's failure is its own; the window's state stands.
      }
    }
  }

  /**
   * What the hub says it holds. A stream the worker numbered less far than the hub (its data
   * folder was lost) continues after the hub's head, so numbers never repeat.
   */
  adoptHead(streamId: string, hubHead: number): void {
    const s = this.stream(streamId);
    if (s.last < hubHead) {
      s.last = hubHead;
      this.upsertStream.run(streamId, s.last, s.acked);
    }
    this.ack(streamId, hubHead);
  }

  /**
   * Unacknowledged events of a stream after `afterSeq`, oldest first: at most `limit` events
   * and, past the first, at most `maxBytes` of payload (json and data), so a page of large
   * terminal events stays far below the hub's frame limit.
   */
  unacked(streamId: string, afterSeq: number, limit: number, maxBytes = Infinity): Event[] {
    const rows = this.db
      .query(
        `SELECT ${EVENT_COLUMNS} FROM outbox WHERE stream_id = ? AND seq > ? ORDER BY seq LIMIT ?`,
      )
      .iterate(streamId, afterSeq, limit) as IterableIterator<EventRow>;
    const events: Event[] = [];
    let bytes = 0;
    for (const row of rows) {
      const e = eventFromRow(row);
      const size = e.json.length + e.data.length;
      if (events.length > 0 && bytes + size > maxBytes) break;
      events.push(e);
      bytes += size;
    }
    return events;
  }

  /** Streams with events the hub has not acknowledged, with the last acknowledged seq. */
  backlog(): { streamId: string; acked: number; last: number }[] {
    return [...this.streams]
      .filter(([, s]) => s.last > s.acked)
      .map(([streamId, s]) => ({ streamId, acked: s.acked, last: s.last }));
  }

  ackedSeq(streamId: string): number {
    return this.streams.get(streamId)?.acked ?? 0;
  }

  lastSeq(streamId: string): number {
    return this.streams.get(streamId)?.last ?? 0;
  }

  /** Writes what is queued; the database's owner closes it. */
  close(): void {
    this.flush();
    this.trim();
  }

  /** Deletes the acked rows of the streams acked since the last call, in one transaction. */
  trim(): void {
    if (this.trimTimer) clearTimeout(this.trimTimer);
    this.trimTimer = null;
    if (this.trimDue.size === 0) return;
    const due = [...this.trimDue];
    this.trimDue.clear();
    try {
      this.db.transaction(() => {
        for (const id of due) {
          const s = this.streams.get(id)!;
          this.deleteAcked.run(id, s.acked);
          this.upsertStream.run(id, s.last, s.acked);
        }
      })();
    } catch (e) {
      // The database was closed without close() (bun:sqlite throws a RangeError): the rows go
      // when it is opened again, like after a crash.
      if (!(e instanceof RangeError)) throw e;
    }
  }

  private stream(id: string): StreamState {
    let s = this.streams.get(id);
    if (!s) this.streams.set(id, (s = newState(0, 0)));
    return s;
  }
}

function newState(last: number, acked: number): StreamState {
  return { last, acked, sizes: [], head: 0, bytes: 0, full: false, watchers: new Set() };
}

/** Drops the sizes of the events acked now. */
function forgetSizes(s: StreamState): void {
  const { sizes } = s;
  let i = s.head;
  while (i < sizes.length && sizes[i]! <= s.acked) {
    s.bytes -= sizes[i + 1]!;
    i += 2;
  }
  if (i === sizes.length) {
    s.sizes = [];
    s.head = 0;
    s.bytes = 0;
  } else if (i > 4096) {
    s.sizes = sizes.slice(i);
    s.head = 0;
  } else s.head = i;
}
