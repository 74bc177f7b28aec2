/**
 * Feeds a terminal stream's events to a screen (xterm) incrementally: each event is written
 * once, in order. A fresh screen starts at the newest TERMINAL_SNAPSHOT (it stands for every
 * event before it); later snapshots in a live stream repeat what was already written and are
 * skipped. When the stream is reset (the streams store replaced its events with a snapshot and
 * the tail) the screen is cleared and rebuilt from that snapshot.
 */
import { EventKind, type Event } from "@gen/switchboard/v1/common_pb.ts";

/** The part of an xterm Terminal the writer drives (a fake in tests). */
export interface TerminalSink {
  write(data: Uint8Array | string): void;
  reset(): void;
  resize(cols: number, rows: number): void;
}

/** A size from an event's json, or null when it carries none that is usable. */
export function sizeOf(json: string): { cols: number; rows: number } | null {
  try {
    const v = JSON.parse(json) as { cols?: unknown; rows?: unknown };
    const { cols, rows } = v ?? {};
    if (Number.isInteger(cols) && Number.isInteger(rows) && Number(cols) > 0 && Number(rows) > 0)
      return { cols: Number(cols), rows: Number(rows) };
  } catch {
    // Not JSON: the event is written without a size change.
  }
  return null;
}

/** The line shown when the program ended: its exit code or signal. */
export function exitLine(json: string): string {
  let what = "";
  try {
    const v = JSON.parse(json) as { exitCode?: unknown; signal?: unknown };
    if (typeof v.signal === "string" && v.signal) what = ` (${v.signal})`;
    else if (typeof v.exitCode === "number") what = ` with code ${v.exitCode}`;
  } catch {
    // A malformed payload still ends the program; the line just says less.
  }
  // Dim, on a line of its own, so it cannot be taken for the program's output.
  return `\r\n\x1b[2m[process exited${what}]\x1b[0m\r\n`;
}

export class TerminalWriter {
  /** The first event of the array last written from: another one there means a reset. */
  private first: Event | null = null;
  /** The seq of the last event written (0 before any). */
  private lastSeq = 0;

  constructor(private readonly sink: TerminalSink) {}

  /** The seq written up to. */
  get seq(): number {
    return this.lastSeq;
  }

  /** Writes what `events` (a stream's events, in seq order) holds past what was written. */
  sync(events: readonly Event[]): void {
    if (events.length === 0) return; // a reset in progress, or nothing yet
    const head = events[0]!;
    if (this.first !== head || events.at(-1)!.seq < this.lastSeq) {
      // A new array or one replaced from its start: rebuild from its newest snapshot.
      if (this.first !== null) this.sink.reset();
      this.first = head;
      this.lastSeq = 0;
      let from = 0;
      for (let i = events.length - 1; i >= 0; i--) {
        if (events[i]!.kind === EventKind.TERMINAL_SNAPSHOT) {
          from = i;
          break;
        }
      }
      for (let i = from; i < events.length; i++) this.apply(events[i]!, i === from);
      return;
    }
    for (let i = this.indexAfter(events); i < events.length; i++) this.apply(events[i]!, false);
  }

  /** Forgets the screen: the next sync writes from the newest snapshot again. */
  restart(): void {
    if (this.first !== null) this.sink.reset();
    this.first = null;
    this.lastSeq = 0;
  }

  /** The index of the first event after lastSeq (seqs run without holes after the first). */
  private indexAfter(events: readonly Event[]): number {
    const guess = this.lastSeq - events[0]!.seq + 1;
    if (
      guess >= 0 &&
      guess <= events.length &&
      (guess === 0 || events[guess - 1]!.seq === this.lastSeq)
    )
      return guess;
    const i = events.findIndex((e) => e.seq > this.lastSeq);
    return i < 0 ? events.length : i;
  }

  private apply(e: Event, starting: boolean): void {
    if (e.seq <= this.lastSeq) return;
    this.lastSeq = e.seq;
    switch (e.kind) {
      case EventKind.TERMINAL_OUTPUT:
        if (e.data.length > 0) this.sink.write(e.data);
        return;
      case EventKind.TERMINAL_SNAPSHOT: {
        // Only where the screen starts: later ones repeat what is already on it.
        if (!starting) return;
        const size = sizeOf(e.json);
        if (size) this.sink.resize(size.cols, size.rows);
        if (e.data.length > 0) this.sink.write(e.data);
        return;
      }
      case EventKind.TERMINAL_RESIZE: {
        const size = sizeOf(e.json);
        if (size) this.sink.resize(size.cols, size.rows);
        return;
      }
      case EventKind.TERMINAL_EXIT:
        this.sink.write(exitLine(e.json));
        return;
    }
  }
}
