/**
 * The durable event log: one ordered stream per session or terminal, numbered by the worker
 * (seq 1, 2, 3 … with no holes). An event is stored before anyone is sent it; a repeat (same
 * stream and seq, after a resend) is ignored, and a hole is refused.
 */
import type { Database, Statement } from "bun:sqlite";
import { EVENT_COLUMNS, eventFromRow, type EventRow } from "../../common/event-row.ts";
import { EventKind, type Event } from "../../gen/switchboard/v1/common_pb.ts";

/** A replay page: enough to fill a socket write, small enough to stay responsive. */
export const REPLAY_PAGE_EVENTS = 2_000;
export const REPLAY_PAGE_BYTES = 1024 * 1024;

export class StreamGapError extends Error {}

export class EventLog {
  private readonly insert: Statement;
  private readonly setHead: Statement;
  private readonly setSnapshot: Statement;
  private readonly getHead: Statement;
  private readonly page: Statement;

  constructor(private readonly db: Database) {
    this.insert = db.query(
      "INSERT OR IGNORE INTO events (stream_id, seq, time, kind, json, data, actor) VALUES (?, ?, ?, ?, ?, ?, ?)",
    );
    this.setHead = db.query("UPDATE streams SET head_seq = ? WHERE id = ?");
    this.setSnapshot = db.query("UPDATE streams SET snapshot_seq = ? WHERE id = ?");
    this.getHead = db.query(
      "SELECT head_seq AS head, snapshot_seq AS snapshot FROM streams WHERE id = ?",
    );
    this.page = db.query(
      `SELECT ${EVENT_COLUMNS} FROM events WHERE stream_id = ? AND seq > ? ORDER BY seq LIMIT ?`,
    );
  }

  createStream(id: string, workspaceId: string, agentId: string | null): void {
    this.db
      .query("INSERT OR IGNORE INTO streams (id, workspace_id, agent_id) VALUES (?, ?, ?)")
      .run(id, workspaceId, agentId);
  }

  /** The stream's last stored seq and newest snapshot, or null when there is no such stream. */
  head(streamId: string): { head: number; snapshot: number } | null {
    return this.getHead.get(streamId) as { head: number; snapshot: number } | null;
  }

  /**
   * Stores the events that follow the stream's head, in one transaction, and returns them
   * (repeats left out). Throws StreamGapError when an event would leave a hole.
   */
  append(streamId: string, events: Event[]): Event[] {
    return this.db.transaction(() => {
      const h = this.head(streamId);
      if (!h) throw new StreamGapError(`no stream ${streamId}`);
      let head = h.head;
      let snapshot = h.snapshot;
      const stored: Event[] = [];
      for (const e of events) {
        if (e.seq <= head) continue;
        if (e.seq !== head + 1) {
          throw new StreamGapError(`stream ${streamId}: got seq ${e.seq} after ${head}`);
        }
        this.insert.run(
          streamId,
          e.seq,
          Math.round(e.timeMs),
          e.kind,
          e.json,
          e.data.length > 0 ? e.data : null,
          e.actor,
        );
        head = e.seq;
        if (e.kind === EventKind.TERMINAL_SNAPSHOT) snapshot = e.seq;
        stored.push(e);
      }
      if (stored.length > 0) this.setHead.run(head, streamId);
      if (snapshot !== h.snapshot) this.setSnapshot.run(snapshot, streamId);
      return stored;
    })();
  }

  /** Events after `afterSeq`, in order, at most a page. */
  read(streamId: string, afterSeq: number, maxEvents = REPLAY_PAGE_EVENTS): Event[] {
    const rows = this.page.all(streamId, afterSeq, maxEvents) as EventRow[];
    const out: Event[] = [];
    let bytes = 0;
    for (const r of rows) {
      out.push(eventFromRow(r));
      bytes += r.json.length + (r.data?.length ?? 0);
      if (bytes >= REPLAY_PAGE_BYTES) break;
    }
    return out;
  }

  /** Bytes of terminal data stored after `afterSeq` up to `uptoSeq`. */
  bytesBetween(streamId: string, afterSeq: number, uptoSeq: number): number {
    const r = this.db
      .query(
        "SELECT coalesce(sum(length(data)), 0) AS n FROM events WHERE stream_id = ? AND seq > ? AND seq <= ?",
      )
      .get(streamId, afterSeq, uptoSeq) as { n: number };
    return r.n;
  }

  /** Heads of every stream in the worker's workspaces. */
  headsOfWorker(workerId: string): { streamId: string; seq: number }[] {
    return this.db
      .query(
        `SELECT s.id AS streamId, s.head_seq AS seq FROM streams s
         JOIN workspaces w ON w.id = s.workspace_id WHERE w.worker_id = ?`,
      )
      .all(workerId) as { streamId: string; seq: number }[];
  }
}
