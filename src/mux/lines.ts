/**
 * Newline framing for ACP's one-message-per-line wire, on bytes.
 *
 * Lines are handed out as views of the incoming chunks (no copy) so the multiplexer can forward
 * an agent's line to every frontend byte for byte. A line longer than the limit is reported and
 * skipped up to its newline; the stream goes on.
 */

/** Image prompts arrive as base64 in one line; 64 MiB must pass, with room to spare. */
export const MAX_LINE_BYTES = 128 * 1024 * 1024;

const NEWLINE = 0x0a;
const CR = 0x0d;

export interface LineHandlers {
  /** One complete line, without its newline. Valid only until the handler returns. */
  line(bytes: Uint8Array): void;
  /** A line exceeded the limit and was dropped. */
  oversize(bytes: number): void;
  /** Every line of the chunk was handed out: a good moment to flush batched output. */
  chunkEnd?(): void;
}

export class LineSplitter {
  private parts: Uint8Array[] = [];
  private partBytes = 0;
  /** Bytes of an oversize line still being skipped; -1 when not skipping. */
  private skipped = -1;

  constructor(
    private readonly on: LineHandlers,
    private readonly maxBytes = MAX_LINE_BYTES,
  ) {}

  push(chunk: Uint8Array): void {
    let start = 0;
    while (start < chunk.length) {
      const nl = chunk.indexOf(NEWLINE, start);
      if (nl === -1) {
        this.keep(chunk.subarray(start));
        break;
      }
      const piece = chunk.subarray(start, nl);
      start = nl + 1;
      if (this.skipped >= 0) {
        this.on.oversize(this.skipped + piece.length);
        this.skipped = -1;
        continue;
      }
      let line = piece;
      if (this.parts.length > 0) {
        if (this.partBytes + piece.length > this.maxBytes) {
          this.on.oversize(this.partBytes + piece.length);
          this.reset();
          continue;
        }
        this.parts.push(piece);
        line = Buffer.concat(this.parts, this.partBytes + piece.length);
        this.reset();
      }
      if (line.length > this.maxBytes) {
        this.on.oversize(line.length);
        continue;
      }
      if (line.length > 0 && line[line.length - 1] === CR) line = line.subarray(0, -1);
      if (line.length > 0) this.on.line(line);
    }
    this.on.chunkEnd?.();
  }

  /** Bytes held for an unfinished line (for tests and diagnostics). */
  get pending(): number {
    return this.partBytes;
  }

  private keep(rest: Uint8Array): void {
    if (this.skipped >= 0) {
      this.skipped += rest.length;
      return;
    }
    if (this.partBytes + rest.length > this.maxBytes) {
      this.skipped = this.partBytes + rest.length;
      this.reset();
      return;
    }
    // Copy: the producer may reuse its chunk once we return.
    this.parts.push(Uint8Array.from(rest));
    this.partBytes += rest.length;
  }

  private reset(): void {
    this.parts = [];
    this.partBytes = 0;
  }
}
