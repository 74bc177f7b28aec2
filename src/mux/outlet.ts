/**
 * A buffered, bounded writer for one frontend.
 *
 * Everything sent in one turn of the event loop leaves in one write, so fanning out a burst of
 * updates costs one syscall per frontend, not one per update. A reader that stops reading is
 * buffered up to a bound and then dropped, so it never slows or grows the others.
 */

/** Far above any burst a live reader falls behind by, below what 100 stalled readers could hoard. */
export const MAX_QUEUED_BYTES = 32 * 1024 * 1024;
/**
 * A reader over that bound is dropped once it has taken nothing for this long: a slow reader
 * working through a 64 MiB image line is behind, not stalled.
 */
export const STALL_MS = 3_000;
/** Queued pieces up to this size in all are joined into one write (one syscall, not many). */
const COALESCE_BYTES = 16 * 1024;
/** Written chunks are trimmed off the queue's front now and then, not on every write. */
const COMPACT_AFTER = 1024;
/** Past this, no patience: two image-sized lines and change. */
export const HARD_MAX_QUEUED_BYTES = 256 * 1024 * 1024;

/** The byte sink under an outlet: a socket, a pipe, or an in-process consumer. */
export interface Sink {
  /** Writes what it can now and returns how many bytes it took (0 when congested). */
  write(data: Uint8Array): number;
  /** Flushes what it holds and closes. */
  end(): void;
  /** Closes at once, dropping what it holds (default: `end`). */
  destroy?(): void;
}

export class Outlet {
  private queue: Uint8Array[] = [];
  /** Index of the first unwritten chunk in `queue`. */
  private head = 0;
  private queued = 0;
  private scheduled = false;
  private closing = false;
  private closed = false;
  private lastProgress = performance.now();
  private stallTimer: ReturnType<typeof setTimeout> | null = null;

  /**
   * @param onOverflow called once when the reader fell too far behind; the outlet is closed.
   */
  constructor(
    private readonly sink: Sink,
    private readonly onOverflow: (queuedBytes: number) => void,
    private readonly maxQueued = MAX_QUEUED_BYTES,
    private readonly stallMs = STALL_MS,
    private readonly hardMaxQueued = Math.max(HARD_MAX_QUEUED_BYTES, maxQueued),
  ) {}

  get isClosed(): boolean {
    return this.closed || this.closing;
  }

  get queuedBytes(): number {
    return this.queued;
  }

  send(data: Uint8Array): void {
    if (this.closed || this.closing || data.length === 0) return;
    if (this.queued > 0 && this.queued + data.length > this.hardMaxQueued) return this.overflow();
    this.queue.push(data);
    this.queued += data.length;
    if (this.queued > this.maxQueued) this.watchStall();
    if (!this.scheduled) {
      this.scheduled = true;
      queueMicrotask(() => {
        this.scheduled = false;
        this.flush();
      });
    }
  }

  private watchStall(): void {
    if (this.stallTimer) return;
    this.stallTimer = setTimeout(() => {
      this.stallTimer = null;
      if (this.closed || this.queued <= this.maxQueued) return;
      if (performance.now() - this.lastProgress >= this.stallMs) return this.overflow();
      this.watchStall();
    }, this.stallMs);
  }

  private overflow(): void {
    // The owner hears why first: closing the sink may report a plain disconnect synchronously.
    this.onOverflow(this.queued);
    this.abort();
  }

  /** Writes what is queued; call again when the sink drains. */
  flush(): void {
    if (this.closed) return;
    while (this.queued > 0) {
      // Small pieces are joined into one write; large ones go as they are, because they are
      // shared with every other frontend and a copy per frontend would multiply memory.
      const pending = this.queue.length - this.head;
      const join = pending > 1 && this.queued <= COALESCE_BYTES;
      const chunk = join
        ? Buffer.concat(this.queue.slice(this.head), this.queued)
        : this.queue[this.head]!;
      const covers = join ? pending : 1;
      let took: number;
      try {
        took = Math.max(this.sink.write(chunk), 0);
      } catch {
        // A sink that throws has gone away; the owner learns it from its close event.
        took = chunk.length;
      }
      if (took > 0) this.lastProgress = performance.now();
      this.queued -= Math.min(took, chunk.length);
      if (took >= chunk.length) {
        this.head += covers;
        if (this.head === this.queue.length) {
          this.queue = [];
          this.head = 0;
        }
        continue;
      }
      const rest = chunk.subarray(took);
      if (covers === 1) this.queue[this.head] = rest;
      else {
        this.queue = [rest, ...this.queue.slice(this.head + covers)];
        this.head = 0;
      }
      break;
    }
    if (this.head > COMPACT_AFTER) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    if (this.closing && this.queued === 0) this.finish();
  }

  /** Closes after what is queued has been written. */
  end(): void {
    if (this.closed || this.closing) return;
    this.closing = true;
    this.flush();
  }

  /** Closes now, dropping what is queued. */
  abort(): void {
    if (this.stallTimer) clearTimeout(this.stallTimer);
    this.stallTimer = null;
    if (this.closed) return;
    this.queue = [];
    this.head = 0;
    this.queued = 0;
    this.finish(true);
  }

  private finish(now = false): void {
    this.closed = true;
    try {
      if (now && this.sink.destroy) this.sink.destroy();
      else this.sink.end();
    } catch {
      // Ending a sink whose peer already left throws on some transports; nothing is lost.
    }
  }
}
