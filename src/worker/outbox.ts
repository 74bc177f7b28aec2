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
 * Acknowledged rows are deleted this long after the first ack since the last delete, all in one
 * transaction: one DELETE per ack (a terminal flood has one every 64 KiB) was the worker's largest
 * cost in bench:pty. Rows acked but not deleted yet are never sent again (the acked seq, kept in
 * memory, says where sending starts); after a crash the hub ignores what it has already.
 */
export const TRIM_DELAY_MS = 100;

interface StreamState {
  last: number;
  acked: number;
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

  /** Opens the outbox on the worker's database (see worker-db.ts). */
  constructor(readonly db: Database) {
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
      this.streams.set(r.id, { last: r.last, acked: r.acked });
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

  /** Unacknowledged events of a stream after `afterSeq`, oldest first, at most `limit`. */
  unacked(streamId: string, afterSeq: number, limit: number): Event[] {
    const rows = this.db
      .query(
        `SELECT ${EVENT_COLUMNS} FROM outbox WHERE stream_id = ? AND seq > ? ORDER BY seq LIMIT ?`,
      )
      .all(streamId, afterSeq, limit) as EventRow[];
    return rows.map(eventFromRow);
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
    if (!s) this.streams.set(id, (s = { last: 0, acked: 0 }));
    return s;
  }
}
