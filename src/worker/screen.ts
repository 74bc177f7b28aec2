/**
 * Terminal screens kept on a thread of their own (screen-thread.ts), shared by every terminal
 * of this process. Messages to one thread keep their order, so a snapshot requested after
 * some output stands for exactly that output.
 *
 * Back-pressure: a terminal whose screen lags more than MAX_BACKLOG_BYTES behind what was fed
 * waits (Atomics.wait on a shared counter of parsed KiB) before feeding more; since that wait
 * blocks the terminal's thread, the PTY is not read meanwhile and holds the program back, as
 * when parsing was synchronous.
 */

/** Output fed but not parsed yet, past which feeding waits. */
export const MAX_BACKLOG_BYTES = 16 * 1024 * 1024;
/** One wait's bound; the loop re-checks (a thread that died must not hang the terminal). */
const WAIT_SLICE_MS = 100;
/** Waits this long in all before giving up on back-pressure (the screen thread is stuck). */
const WAIT_LIMIT_MS = 10_000;

export type ScreenRequest =
  | {
      t: "open";
      id: number;
      cols: number;
      rows: number;
      scrollback: number;
      parsed: SharedArrayBuffer;
    }
  | { t: "feed"; id: number; data: Uint8Array }
  | { t: "resize"; id: number; cols: number; rows: number }
  | { t: "snapshot"; id: number; req: number }
  | { t: "close"; id: number };

export type ScreenReply = { t: "snapshot"; id: number; req: number; text: string };

let thread: Worker | null = null;
let nextId = 1;
let nextReq = 1;
const waiting = new Map<number, (text: string) => void>();

/** Where the thread's code is: beside this file, or inside the compiled worker. */
function threadUrl(): string {
  // `bun build --compile worker.ts src/worker/screen-thread.ts` (npm run build:worker) keeps
  // each entry point under /$bunfs/root/ at its path from the project's root.
  if (import.meta.url.startsWith("file:///$bunfs/"))
    return "/$bunfs/root/src/worker/screen-thread.ts";
  return new URL("./screen-thread.ts", import.meta.url).href;
}

function screenThread(): Worker {
  if (thread) return thread;
  const t = new Worker(threadUrl());
  t.onmessage = (e: MessageEvent<ScreenReply>) => {
    const done = waiting.get(e.data.req);
    waiting.delete(e.data.req);
    if (waiting.size === 0) t.unref();
    done?.(e.data.text);
  };
  // Idle terminals do not keep the process alive.
  t.unref();
  thread = t;
  return t;
}

/** One terminal's screen on the shared thread. */
export class Screen {
  private readonly id = nextId++;
  private readonly parsed = new Int32Array(new SharedArrayBuffer(4));
  private fed = 0;
  private closed = false;

  constructor(cols: number, rows: number, scrollback: number) {
    screenThread().postMessage({
      t: "open",
      id: this.id,
      cols,
      rows,
      scrollback,
      parsed: this.parsed.buffer as SharedArrayBuffer,
    } satisfies ScreenRequest);
  }

  /** Feeds output (copied: the caller may reuse its buffer); waits while the thread lags. */
  feed(data: Uint8Array): void {
    if (this.closed || data.length === 0) return;
    this.waitForBacklog();
    this.fed += data.length;
    // One copy, handed over rather than cloned again. (Not data.slice(): for a Buffer, such as
    // a PTY read, that is a view of the same memory, which the transfer would take away.)
    const copy = new Uint8Array(data);
    screenThread().postMessage({ t: "feed", id: this.id, data: copy } satisfies ScreenRequest, [
      copy.buffer,
    ]);
  }

  resize(cols: number, rows: number): void {
    if (!this.closed)
      screenThread().postMessage({ t: "resize", id: this.id, cols, rows } satisfies ScreenRequest);
  }

  /** The screen after everything fed so far, serialised so it rebuilds in a fresh xterm. */
  snapshot(): Promise<string> {
    if (this.closed) return Promise.reject(new Error("the screen is closed"));
    const req = nextReq++;
    return new Promise((resolve) => {
      waiting.set(req, resolve);
      const t = screenThread();
      // A pending answer keeps the process alive (the thread is unref'd while idle).
      t.ref();
      t.postMessage({ t: "snapshot", id: this.id, req } satisfies ScreenRequest);
    });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    screenThread().postMessage({ t: "close", id: this.id } satisfies ScreenRequest);
  }

  private waitForBacklog(): void {
    const start = performance.now();
    for (;;) {
      const parsedKiB = Atomics.load(this.parsed, 0);
      if (this.fed - parsedKiB * 1024 <= MAX_BACKLOG_BYTES) return;
      if (performance.now() - start > WAIT_LIMIT_MS) return;
      Atomics.wait(this.parsed, 0, parsedKiB, WAIT_SLICE_MS);
    }
  }
}
