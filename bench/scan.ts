/**
 * Shared by the benchmark driver and its reader processes: a cheap counter of `flood` updates in
 * an ndjson byte stream, and a latency histogram that merges across processes.
 *
 * A flood line is recognised without JSON.parse: it must hold `"method":"session/update"`,
 * `"sessionUpdate":"agent_message_chunk"` and `"text":"m<i> t=<ms>"`. Every other line goes to
 * `other` whole (responses, extension notifications). Indexes must arrive 0, 1, 2, … n-1 in
 * order; anything else is an error that stops the count.
 */

/** Wall-clock milliseconds with sub-ms precision, comparable across processes on one machine. */
export function wallNow(): number {
  return performance.timeOrigin + performance.now();
}

const METHOD_MARK = '"method":"session/update"';
const KIND_MARK = '"sessionUpdate":"agent_message_chunk"';
const TEXT_MARK = '"text":"m';
const EXT_MARK = '"method":"_switchboard/';

export interface ScanHandlers {
  /** A line that is not a flood update (never an extension notification). */
  other(line: string): void;
  /** All n indexes arrived, in order. */
  done(): void;
  /** An index out of order, a duplicate or an extra one. Counting stops. */
  error(message: string): void;
}

export class FloodScanner {
  /** The next index expected; equals n when done. */
  next = 0;
  /** Receive time of the last flood update. */
  lastAt = 0;
  /** Receive time of the first flood update. */
  firstAt = 0;
  /** The agent's send stamp of the last flood update. */
  lastStamp = 0;
  failed: string | null = null;
  private rest = "";

  constructor(
    readonly name: string,
    readonly n: number,
    private readonly hist: LatencyHist | null,
    private readonly on: ScanHandlers,
  ) {}

  get done(): boolean {
    return this.next >= this.n && this.failed === null;
  }

  /** A chunk of the stream (latin1-decoded: only ASCII matters here), received at `now`. */
  push(chunk: string, now: number): void {
    const buf = this.rest.length > 0 ? this.rest + chunk : chunk;
    let pos = 0;
    for (;;) {
      const nl = buf.indexOf("\n", pos);
      if (nl === -1) break;
      if (nl > pos) this.line(buf, pos, nl, now);
      pos = nl + 1;
    }
    this.rest = pos < buf.length ? buf.slice(pos) : "";
  }

  private line(buf: string, a: number, b: number, now: number): void {
    const ti = buf.indexOf(TEXT_MARK, a);
    if (ti !== -1 && ti < b) {
      const mi = buf.indexOf(METHOD_MARK, a);
      const ki = buf.indexOf(KIND_MARK, a);
      if (
        mi !== -1 &&
        mi < b &&
        ki !== -1 &&
        ki < b &&
        this.flood(buf, ti + TEXT_MARK.length, b, now)
      )
        return;
    }
    const ei = buf.indexOf(EXT_MARK, a);
    if (ei !== -1 && ei < b) return;
    this.on.other(buf.slice(a, b));
  }

  /** Parses `<i> t=<ms>"` at p; false when the text does not have that shape. */
  private flood(buf: string, p: number, b: number, now: number): boolean {
    let idx = 0;
    const start = p;
    for (let c = buf.charCodeAt(p); c >= 48 && c <= 57 && p < b; c = buf.charCodeAt(++p)) {
      idx = idx * 10 + (c - 48);
    }
    if (p === start || !buf.startsWith(" t=", p)) return false;
    p += 3;
    let whole = 0;
    const wholeStart = p;
    for (let c = buf.charCodeAt(p); c >= 48 && c <= 57 && p < b; c = buf.charCodeAt(++p)) {
      whole = whole * 10 + (c - 48);
    }
    if (p === wholeStart) return false;
    let frac = 0;
    let scale = 1;
    if (buf.charCodeAt(p) === 46) {
      p++;
      for (let c = buf.charCodeAt(p); c >= 48 && c <= 57 && p < b; c = buf.charCodeAt(++p)) {
        frac = frac * 10 + (c - 48);
        scale *= 10;
      }
    }
    if (buf.charCodeAt(p) !== 34) return false;
    if (this.failed !== null) return true;
    if (this.next >= this.n || idx !== this.next) {
      this.failed =
        this.next >= this.n
          ? `${this.name}: got m${idx} after all ${this.n} updates (duplicate or extra)`
          : `${this.name}: expected m${this.next}, got m${idx} (lost, duplicated or reordered)`;
      this.on.error(this.failed);
      return true;
    }
    if (this.next === 0) this.firstAt = now;
    this.next++;
    this.lastAt = now;
    this.lastStamp = whole + frac / scale;
    this.hist?.add(now - this.lastStamp);
    if (this.next === this.n) this.on.done();
    return true;
  }
}

/**
 * Latency in ms: 1 µs bins below 10 ms, 100 µs bins to 1 s, 10 ms bins to 200 s. Negative
 * values (clock noise between processes) count in the first bin and are reported apart.
 */
export class LatencyHist {
  static readonly BINS = 10_000 + 9_900 + 19_900;
  readonly counts = new Uint32Array(LatencyHist.BINS);
  total = 0;
  negative = 0;
  max = 0;
  min = Infinity;

  add(ms: number): void {
    this.total++;
    if (ms < 0) this.negative++;
    if (ms < this.min) this.min = ms;
    if (ms > this.max) this.max = ms;
    this.counts[binOf(ms)]!++;
  }

  merge(other: LatencyHist): void {
    for (let i = 0; i < LatencyHist.BINS; i++) this.counts[i]! += other.counts[i]!;
    this.total += other.total;
    this.negative += other.negative;
    this.max = Math.max(this.max, other.max);
    this.min = Math.min(this.min, other.min);
  }

  /** The q-quantile (0..1) in ms, at bin resolution (bin midpoint). */
  quantile(q: number): number {
    if (this.total === 0) return NaN;
    const want = Math.max(1, Math.ceil(q * this.total));
    let seen = 0;
    for (let i = 0; i < LatencyHist.BINS; i++) {
      seen += this.counts[i]!;
      if (seen >= want) return midOf(i);
    }
    return this.max;
  }

  /** Sparse, JSON-friendly form: [bin, count, bin, count, …] plus the totals. */
  toJSON(): SparseHist {
    const bins: number[] = [];
    for (let i = 0; i < LatencyHist.BINS; i++) if (this.counts[i]) bins.push(i, this.counts[i]!);
    return { bins, total: this.total, negative: this.negative, max: this.max, min: this.min };
  }

  static from(s: SparseHist): LatencyHist {
    const h = new LatencyHist();
    for (let i = 0; i < s.bins.length; i += 2) h.counts[s.bins[i]!] = s.bins[i + 1]!;
    h.total = s.total;
    h.negative = s.negative;
    h.max = s.max;
    h.min = s.min ?? Infinity;
    return h;
  }
}

export interface SparseHist {
  bins: number[];
  total: number;
  negative: number;
  max: number;
  /** Infinity (null in JSON) when empty. */
  min: number | null;
}

function binOf(ms: number): number {
  if (ms < 10) return Math.max(0, Math.floor(ms * 1000));
  if (ms < 1000) return 10_000 + Math.floor((ms - 10) * 10);
  return Math.min(LatencyHist.BINS - 1, 19_900 + Math.floor((ms - 1000) / 10));
}

function midOf(bin: number): number {
  if (bin < 10_000) return (bin + 0.5) / 1000;
  if (bin < 19_900) return 10 + (bin - 10_000 + 0.5) / 10;
  return 1000 + (bin - 19_900 + 0.5) * 10;
}
