/**
 * The worker's driver of one program in a terminal (a CLI agent or a shell): a PTY, a headless
 * terminal emulator fed with everything the program writes, and one ordered stream of events.
 *
 * Output is batched (at most OUTPUT_BATCH_MS or OUTPUT_BATCH_BYTES, and at once when the output
 * is a lone small chunk, such as a keystroke's echo), then emitted as TERMINAL_OUTPUT and fed, in
 * the same step, to the terminal's screen, which a thread of its own parses (screen.ts). A
 * snapshot is the screen as of its request followed by the output emitted since, so it stands
 * for every event before it. A program that writes faster than we can record is held back by
 * the PTY itself: we read no more while busy, and feeding waits while the screen lags far.
 *
 * The program runs in a session of its own (a PTY's child is a session leader); stopping it
 * signals every process group of that session, so background jobs of a shell go too.
 */
import { accessSync, constants, readdirSync, readFileSync, statSync } from "node:fs";
import { EventKind } from "../gen/switchboard/v1/common_pb.ts";
import type { AgentEventSink, AgentStatusName } from "./acp-agent.ts";
import { Screen } from "./screen.ts";

export const DEFAULT_COLS = 80;
export const DEFAULT_ROWS = 24;
/** Sizes outside these bounds are clamped (xterm's own minimum is 2 × 1). */
export const MIN_COLS = 2;
export const MIN_ROWS = 1;
export const MAX_COLS = 500;
export const MAX_ROWS = 200;
/** Output waits at most this long for more before it is emitted… */
export const OUTPUT_BATCH_MS = 4;
/** …or until this much has gathered; also the largest TERMINAL_OUTPUT event. */
export const OUTPUT_BATCH_BYTES = 64 * 1024;
/** The largest input() accepted in one call. */
export const INPUT_MAX_BYTES = 64 * 1024;
/** Lines the emulator keeps above the screen, and so the scrollback of a snapshot. */
export const SCROLLBACK_LINES = 5_000;
/**
 * Snapshots let a viewer far behind start from the screen instead of every byte. One is due
 * after this much output since the last…
 */
export const SNAPSHOT_EVERY_BYTES = 1024 * 1024;
/**
 * …but during a flood no sooner than this long after the last, nor before SNAPSHOT_COST_FACTOR
 * times the last one's cost has passed: serialising 5,000 lines takes ~20 ms, and taking one
 * per MiB halved a big `cat`'s throughput. This caps the cost near 5 % of the time.
 */
export const SNAPSHOT_MIN_INTERVAL_MS = 500;
export const SNAPSHOT_COST_FACTOR = 20;
/** When output pauses this long with at least SNAPSHOT_IDLE_BYTES since the last snapshot, one is taken. */
export const SNAPSHOT_IDLE_MS = 300;
export const SNAPSHOT_IDLE_BYTES = 64 * 1024;
/** stop(): how long the program gets after SIGHUP (a terminal closing), then after SIGTERM. */
export const STOP_HUP_GRACE_MS = 1_000;
export const STOP_TERM_GRACE_MS = 2_000;
/** After the program exits, how long the PTY may stay open (a child holding it) for the rest. */
export const EXIT_DRAIN_MS = 250;
/** What the program is told it runs in: the viewers' xterm.js. */
const TERM_ENV = { TERM: "xterm-256color", COLORTERM: "truecolor" };
/** The actor of what the program did by itself. */
const AGENT = "agent";

export interface TerminalAgentOptions {
  agentId: string;
  /** Workspace folder; the program runs there. */
  cwd: string;
  /** [] runs the user's login shell ($SHELL, else /bin/bash, else /bin/sh). */
  command: string[];
  /** Added on top of the worker's environment (and of TERM, COLORTERM). */
  env?: Record<string, string>;
  /** Initial size, DEFAULT_COLS × DEFAULT_ROWS unless given; clamped to the bounds above. */
  cols?: number;
  rows?: number;
  /** Every event of the terminal's stream, in order; the caller numbers and stores them. */
  emit: AgentEventSink;
  log?: (line: string) => void;
}

type Phase = "new" | "running" | "stopping" | "ended";

/** Output emitted while a snapshot is being taken is added to it; past this it is dropped. */
const SNAPSHOT_TAIL_BYTES = 4 * 1024 * 1024;

export class TerminalAgent {
  private readonly opts: TerminalAgentOptions;
  private phase: Phase = "new";
  private proc: Bun.Subprocess | null = null;
  private pty: Bun.Terminal | null = null;
  private exited = false;
  private status: AgentStatusName | null = null;
  private cols: number;
  private rows: number;
  private readonly screen: Screen;
  /** Output emitted since the snapshot being taken was asked for, or null when none is. */
  private snapshotTail: Uint8Array[] | null = null;
  private snapshotTailBytes = 0;
  /** The screen when the program ended (the screen thread lets it go then). */
  private finalScreen: string | null = null;
  /** Settles when the snapshot being taken was emitted or dropped. */
  private snapshotDone: Promise<void> = Promise.resolve();
  /** Output read but not yet emitted, and when its first chunk came. */
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;
  private batchStart = 0;
  /** More output arrived after the flush was scheduled: the output is streaming. */
  private batchGrew = false;
  private cancelFlush: (() => void) | null = null;
  private sinceSnapshot = 0;
  private lastSnapshotAt = 0;
  private lastSnapshotCost = 0;
  private idleSnapshot: ReturnType<typeof setTimeout> | null = null;
  /** The PTY reached its end: everything the program (and its children) wrote was read. */
  private onPtyClosed: () => void = () => {};
  private readonly ptyClosed = new Promise<void>((resolve) => (this.onPtyClosed = resolve));
  /** Settles after TERMINAL_EXIT and the final status were emitted. */
  private ended: Promise<void> | null = null;
  private stopping: Promise<void> | null = null;

  constructor(opts: TerminalAgentOptions) {
    this.opts = opts;
    this.cols = clampSize(opts.cols ?? DEFAULT_COLS, MIN_COLS, MAX_COLS, "cols");
    this.rows = clampSize(opts.rows ?? DEFAULT_ROWS, MIN_ROWS, MAX_ROWS, "rows");
    this.screen = new Screen(this.cols, this.rows, SCROLLBACK_LINES);
  }

  /** The program is alive (from start until it exits). */
  get running(): boolean {
    return this.proc !== null && !this.exited;
  }

  get pid(): number | null {
    return this.proc?.pid ?? null;
  }

  /** Spawns the program in a PTY; rejects (after AGENT_STATUS failed) if it cannot start. */
  async start(): Promise<void> {
    if (this.phase !== "new") throw new Error("the terminal was started already");
    this.setStatus("starting", AGENT);
    const { cwd, env } = this.opts;
    const fullEnv: Record<string, string | undefined> = { ...process.env };
    // The PTY tells the size; inherited values would be stale.
    delete fullEnv.COLUMNS;
    delete fullEnv.LINES;
    Object.assign(fullEnv, TERM_ENV, env);
    const command = this.opts.command.length > 0 ? this.opts.command : [loginShell(fullEnv)];
    try {
      // Checked first: spawn would blame the command for a missing folder.
      if (!statSync(cwd).isDirectory()) throw new Error(`${cwd} is not a folder`);
      this.proc = Bun.spawn(command, {
        cwd,
        env: fullEnv,
        terminal: {
          cols: this.cols,
          rows: this.rows,
          name: TERM_ENV.TERM,
          data: (_t, data) => this.onData(data),
          exit: () => this.onPtyClosed(),
        },
      });
    } catch (e) {
      this.phase = "ended";
      const message = `cannot start ${JSON.stringify(command.join(" "))}: ${(e as Error).message}`;
      this.setStatus("failed", AGENT, { message });
      throw new Error(message);
    }
    this.pty = this.proc.terminal!;
    this.phase = "running";
    this.log(`started pid ${this.proc.pid}: ${command.join(" ")}`);
    // Output arrives from the event loop, so these two lead it.
    this.emit(EventKind.TERMINAL_RESIZE, { cols: this.cols, rows: this.rows }, AGENT);
    this.setStatus("idle", AGENT);
    this.ended = this.proc.exited.then(() => this.onExit());
  }

  /** Types into the terminal. */
  input(data: Uint8Array, _actor: string): void {
    if (!(data instanceof Uint8Array)) throw new Error("terminal input is bytes");
    if (data.length > INPUT_MAX_BYTES)
      throw new Error(`terminal input of ${data.length} bytes is over ${INPUT_MAX_BYTES}`);
    const pty = this.live();
    if (data.length > 0) pty.write(data);
  }

  /** Resizes the PTY and the emulator; the stream says who did it (the terminal follows them). */
  resize(cols: number, rows: number, actor: string): void {
    const c = clampSize(cols, MIN_COLS, MAX_COLS, "cols");
    const r = clampSize(rows, MIN_ROWS, MAX_ROWS, "rows");
    const pty = this.live();
    if (c === this.cols && r === this.rows) return;
    // What was written at the old size comes first.
    this.flush();
    this.cols = c;
    this.rows = r;
    pty.resize(c, r);
    this.screen.resize(c, r);
    // A snapshot in progress was asked for at the old size: it would stand for this event.
    this.snapshotTail = null;
    this.emit(EventKind.TERMINAL_RESIZE, { cols: c, rows: r }, actor);
  }

  /**
   * The screen and scrollback as bytes that rebuild it in a fresh xterm of the same size. Output
   * still waiting for its batch is emitted first, so the snapshot stands for every event so far.
   */
  async snapshot(): Promise<Uint8Array> {
    this.flush();
    const text = this.finalScreen ?? (await this.screen.snapshot());
    return new TextEncoder().encode(text);
  }

  /**
   * Ends the program and everything of its session: SIGHUP, then SIGTERM, then SIGKILL, and
   * SIGKILL for what outlives the program. Settles after TERMINAL_EXIT and AGENT_STATUS stopped.
   */
  stop(): Promise<void> {
    if (this.stopping) return this.stopping;
    // Not started, failed to start, or exited by itself (its end may still be being reported).
    if (this.phase !== "running" || this.exited) return this.ended ?? Promise.resolve();
    this.phase = "stopping";
    const proc = this.proc!;
    this.stopping = (async () => {
      const steps = [
        ["SIGHUP", STOP_HUP_GRACE_MS],
        ["SIGTERM", STOP_TERM_GRACE_MS],
        ["SIGKILL", 0],
      ] as const;
      for (const [signal, graceMs] of steps) {
        if (this.exited) break;
        this.log(`stopping: ${signal}`);
        signalSession(proc.pid, signal);
        if (graceMs > 0) await settlesWithin(proc.exited, graceMs);
      }
      await this.ended;
    })();
    return this.stopping;
  }

  // ---------------------------------------------------------------- output

  private onData(data: Uint8Array): void {
    if (this.phase === "ended" || data.length === 0) return;
    try {
      this.pending.push(data);
      this.pendingBytes += data.length;
      // Whole batches leave at once; the rest waits like any output.
      if (this.pendingBytes >= OUTPUT_BATCH_BYTES) this.flush(true);
      if (this.pendingBytes === 0) return;
      if (this.cancelFlush) {
        this.batchGrew = true;
        return;
      }
      // The next macrotask: a lone chunk (an echo) leaves at once, a stream gathers.
      this.batchStart = performance.now();
      this.batchGrew = false;
      const immediate = setImmediate(() => this.flushTick());
      this.cancelFlush = () => clearImmediate(immediate);
    } catch (e) {
      this.log(`output: ${(e as Error).stack ?? e}`);
    }
  }

  private flushTick(): void {
    this.cancelFlush = null;
    try {
      const age = performance.now() - this.batchStart;
      if (this.batchGrew && age < OUTPUT_BATCH_MS) {
        this.batchGrew = false;
        const timer = setTimeout(() => this.flushTick(), OUTPUT_BATCH_MS - age);
        this.cancelFlush = () => clearTimeout(timer);
        return;
      }
      this.flush();
    } catch (e) {
      this.log(`output: ${(e as Error).stack ?? e}`);
    }
  }

  /**
   * Emits what is pending (with `wholeOnly`, only whole OUTPUT_BATCH_BYTES events, keeping the
   * rest), feeds it to the emulator, and a snapshot whenever one is due.
   */
  private flush(wholeOnly = false): void {
    if (!wholeOnly && this.cancelFlush) {
      this.cancelFlush();
      this.cancelFlush = null;
    }
    if (this.pendingBytes === 0) return;
    const all =
      this.pending.length === 1 ? this.pending[0]! : concat(this.pending, this.pendingBytes);
    const end = wholeOnly ? all.length - (all.length % OUTPUT_BATCH_BYTES) : all.length;
    const rest = all.subarray(end);
    this.pending = rest.length > 0 ? [rest] : [];
    this.pendingBytes = rest.length;
    for (let at = 0; at < end; at += OUTPUT_BATCH_BYTES) {
      const data = all.subarray(at, Math.min(end, at + OUTPUT_BATCH_BYTES));
      this.emitData(EventKind.TERMINAL_OUTPUT, data, AGENT);
      this.screen.feed(data);
      if (this.snapshotTail) {
        this.snapshotTail.push(data);
        this.snapshotTailBytes += data.length;
        if (this.snapshotTailBytes > SNAPSHOT_TAIL_BYTES) this.snapshotTail = null;
      }
      this.sinceSnapshot += data.length;
      if (this.sinceSnapshot >= SNAPSHOT_EVERY_BYTES && this.snapshotAllowed()) this.emitSnapshot();
    }
    this.scheduleIdleSnapshot();
  }

  private snapshotAllowed(): boolean {
    const since = performance.now() - this.lastSnapshotAt;
    return (
      since >= Math.max(SNAPSHOT_MIN_INTERVAL_MS, SNAPSHOT_COST_FACTOR * this.lastSnapshotCost)
    );
  }

  /** A snapshot when output pauses, so a late viewer of a quiet terminal replays little. */
  private scheduleIdleSnapshot(): void {
    if (this.idleSnapshot) clearTimeout(this.idleSnapshot);
    this.idleSnapshot = null;
    if (this.sinceSnapshot < SNAPSHOT_IDLE_BYTES || this.phase !== "running") return;
    this.idleSnapshot = setTimeout(() => {
      this.idleSnapshot = null;
      if (this.phase === "running" && this.pendingBytes === 0) this.emitSnapshot();
    }, SNAPSHOT_IDLE_MS);
  }

  /**
   * TERMINAL_SNAPSHOT: the screen as of now, taken on the screen thread, then the output
   * emitted meanwhile, so it stands for every event before it; with the size it was taken at.
   */
  private emitSnapshot(): void {
    if (this.snapshotTail) return; // one at a time
    const tail: Uint8Array[] = [];
    this.snapshotTail = tail;
    this.snapshotTailBytes = 0;
    this.sinceSnapshot = 0;
    const size = { cols: this.cols, rows: this.rows };
    const start = performance.now();
    this.snapshotDone = this.screen.snapshot().then(
      (text) => {
        // Dropped meanwhile: a resize or too much output.
        if (this.snapshotTail !== tail) return;
        this.snapshotTail = null;
        this.lastSnapshotAt = performance.now();
        this.lastSnapshotCost = this.lastSnapshotAt - start;
        const head = new TextEncoder().encode(text);
        this.opts.emit(EventKind.TERMINAL_SNAPSHOT, {
          json: size,
          data:
            tail.length === 0
              ? head
              : concat([head, ...tail], head.length + this.snapshotTailBytes),
          actor: AGENT,
        });
      },
      (e: Error) => {
        if (this.snapshotTail === tail) this.snapshotTail = null;
        this.log(`snapshot: ${e.message}`);
      },
    );
  }

  // ---------------------------------------------------------------- the end

  private async onExit(): Promise<void> {
    const proc = this.proc!;
    this.exited = true;
    const signal = proc.signalCode ?? null;
    const code = signal ? null : proc.exitCode;
    this.log(`exited: ${signal ?? `code ${code}`}`);
    // What a stopped program left running goes now, so its hold on the PTY ends too.
    if (this.phase === "stopping") signalSession(proc.pid, "SIGKILL");
    // The PTY may still hold what the program wrote last: read until it closes, bounded, since
    // a background child may keep it open.
    await settlesWithin(this.ptyClosed, EXIT_DRAIN_MS);
    this.flush();
    // A snapshot being taken comes before the exit, which it does not stand for.
    await this.snapshotDone;
    const stopped = this.phase === "stopping";
    this.phase = "ended";
    try {
      this.pty?.close();
    } catch {
      // Closed already.
    }
    this.emit(
      EventKind.TERMINAL_EXIT,
      signal ? { exitCode: null, signal } : { exitCode: code },
      AGENT,
    );
    if (stopped || code === 0) this.setStatus("stopped", AGENT);
    else {
      const message = signal ? `killed by signal ${signal}` : `exited with code ${code}`;
      this.setStatus("failed", AGENT, { message });
    }
    // The last screen stays answerable; the screen thread lets the emulator go.
    this.finalScreen = await this.screen.snapshot().catch(() => "");
    this.screen.close();
  }

  // ---------------------------------------------------------------- helpers

  private live(): Bun.Terminal {
    if (this.phase !== "running" || !this.pty || this.exited) {
      const why = this.phase === "new" ? "not started" : "not running";
      throw new Error(`the terminal ${this.opts.agentId} is ${why}`);
    }
    return this.pty;
  }

  private setStatus(status: AgentStatusName, actor: string, extra: object = {}): void {
    if (this.status === "failed" || this.status === "stopped") return;
    this.status = status;
    this.emit(EventKind.AGENT_STATUS, { status, ...extra }, actor);
  }

  private emit(kind: EventKind, json: unknown, actor: string): void {
    this.opts.emit(kind, { json, actor });
  }

  private emitData(kind: EventKind, data: Uint8Array, actor: string): void {
    this.opts.emit(kind, { data, actor });
  }

  private log(line: string): void {
    this.opts.log?.(`terminal ${this.opts.agentId}: ${line}`);
  }
}

/** $SHELL when it is an executable path, else /bin/bash, else /bin/sh. */
export function loginShell(env: Record<string, string | undefined>): string {
  for (const shell of [env.SHELL, "/bin/bash"]) {
    if (!shell?.startsWith("/")) continue;
    try {
      accessSync(shell, constants.X_OK);
      return shell;
    } catch {
      // Not there; try the next.
    }
  }
  return "/bin/sh";
}

function clampSize(n: number, min: number, max: number, what: string): number {
  if (typeof n !== "number" || !Number.isFinite(n)) throw new Error(`bad terminal ${what}: ${n}`);
  return Math.min(max, Math.max(min, Math.round(n)));
}

function concat(chunks: Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** True if `p` settles within `ms`; the timer does not outlive the answer. */
async function settlesWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([p.then(() => true), late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Signals every process group of the session `sid` (the program's pid: a PTY's child leads a
 * session). A shell puts its jobs in groups of their own, so the program's group alone would
 * miss them. Stopped jobs are continued so they can act on the signal. Where /proc is missing,
 * only the program's own group is signalled.
 */
function signalSession(sid: number, signal: NodeJS.Signals): void {
  for (const group of new Set([sid, ...sessionGroups(sid)])) {
    try {
      process.kill(-group, signal);
      if (signal !== "SIGKILL") process.kill(-group, "SIGCONT");
    } catch {
      // The group is gone already.
    }
  }
}

/** The process groups with a member in session `sid`, from /proc (empty without it). */
function sessionGroups(sid: number): number[] {
  const groups: number[] = [];
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    return groups;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      // After "(comm)": state ppid pgrp session …; comm itself may hold spaces and parentheses.
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(fields[3]) === sid) groups.push(Number(fields[2]));
    } catch {
      // Gone while we looked.
    }
  }
  return groups;
}
