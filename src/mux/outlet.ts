/**
 * A buffered, bounded writer for one frontend.
 *
 * Everything sent in one turn of the event loop leaves in one write, so fanning out a burst of
 * updates costs one syscall per frontend, not one per update. A reader that stops reading is
 * buffered up to a bound and then dropped, so it never slows or grows the others.
 */

/** Far above any burst a live reader falls behind by, below what 100 stalled readers could hoard. */
export const MAX_QUEUED_BYTES = 32 * 1024 * 1024;

/** The byte sink under an outlet: a socket, a pipe, or an in-process consumer. */
export interface Sink {
  /** Writes what it can now and returns how many bytes it took (0 when congested). */
  write(data: Uint8Array): number;
  /** Flushes what it holds and closes. */
  end(): void;
}

export class Outlet {
  private queue: Uint8Array[] = [];
  private queued = 0;
  private scheduled = false;
  private closing = false;
  private closed = false;

  /**
   * @param onOverflow called once when the reader fell too far behind; the outlet is closed.
   */
  constructor(
    private readonly sink: Sink,
    private readonly onOverflow: (queuedBytes: number) => void,
    private readonly maxQueued = MAX_QUEUED_BYTES,
  ) {}

  get isClosed(): boolean {
    return this.closed || this.closing;
  }

  get queuedBytes(): number {
    return this.queued;
  }

  send(data: Uint8Array): void {
    if (this.closed || this.closing || data.length === 0) return;
    // One message larger than the bound still passes when nothing is waiting before it.
    if (this.queued > 0 && this.queued + data.length > this.maxQueued) {
      const queued = this.queued;
      this.abort();
      this.onOverflow(queued);
      return;
    }
    this.queue.push(data);
    this.queued += data.length;
    if (!this.scheduled) {
      this.scheduled = true;
      queueMicrotask(() => {
        this.scheduled = false;
        this.flush();
      });
    }
  }

  /** Writes what is queued; call again when the sink drains. */
  flush(): void {
    if (this.closed) return;
    while (this.queued > 0) {
      const head =
        this.queue.length === 1 ? this.queue[0]! : Buffer.concat(this.queue, this.queued);
      let took: number;
      try {
        took = this.sink.write(head);
      } catch {
        // A sink that throws has gone away; the owner learns it from its close event.
        took = head.length;
      }
      if (took >= head.length) {
        this.queue = [];
        this.queued = 0;
      } else {
        this.queue = [took > 0 ? head.subarray(took) : head];
        this.queued = head.length - Math.max(took, 0);
        break;
      }
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
    if (this.closed) return;
    this.queue = [];
    this.queued = 0;
    this.finish();
  }

  private finish(): void {
    this.closed = true;
    try {
      this.sink.end();
    } catch {
      // Ending a sink whose peer already left throws on some transports; nothing is lost.
    }
  }
}
