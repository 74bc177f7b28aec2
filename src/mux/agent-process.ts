/**
 * The agent as a child process: its stdin takes the mux's lines, its stdout feeds the mux, its
 * stderr passes through to ours and the last lines are kept for a crash report. It runs in its
 * own process group so stopping it also stops whatever it started.
 */
import type { AgentExit, AgentPort } from "./mux.ts";

/** Lines of the agent's stderr kept to explain a crash. */
const STDERR_TAIL_LINES = 20;
/** After stdin closes, how long a well-behaved agent gets to exit before SIGTERM, then SIGKILL. */
export const STOP_GRACE_MS = 2_000;

export interface AgentProcessOptions {
  command: string[];
  cwd?: string;
  env?: Record<string, string | undefined>;
  /** Receives the agent's stdout bytes. */
  onOutput(chunk: Uint8Array): void;
  /** Asked before each read of stdout: a promise holds reading back until it resolves. */
  readGate?(): Promise<void> | null;
  /** Receives each stderr chunk (default: copied to our stderr). */
  onStderr?(chunk: Uint8Array): void;
}

export class AgentProcess implements AgentPort {
  readonly pid: number;
  /** Resolves once the process ended and all its stdout was handed over. */
  readonly exited: Promise<AgentExit>;
  private readonly proc: Bun.Subprocess<"pipe", "pipe", "pipe">;
  private tail: string[] = [];
  private partial = "";
  private scheduled = false;
  private stdinOpen = true;

  constructor(opts: AgentProcessOptions) {
    try {
      this.proc = Bun.spawn({
        cmd: opts.command,
        cwd: opts.cwd,
        env: opts.env ?? process.env,
        stdin: "pipe",
        stdout: "pipe",
        stderr: "pipe",
        detached: true,
      });
    } catch (e) {
      throw new Error(
        `cannot start the agent ${JSON.stringify(opts.command.join(" "))}: ${(e as Error).message}`,
      );
    }
    this.pid = this.proc.pid;
    const out = this.pump(this.proc.stdout, opts.onOutput, opts.readGate);
    const err = this.pump(this.proc.stderr, (c) => {
      this.keepTail(c);
      if (opts.onStderr) opts.onStderr(c);
      else process.stderr.write(c);
    });
    this.exited = Promise.all([this.proc.exited, out, err]).then(([code]) => ({
      code: this.proc.signalCode ? null : code,
      signal: (this.proc.signalCode as string | null) ?? null,
      stderr: this.stderrTail(),
    }));
  }

  write(line: string): void {
    if (!this.stdinOpen) return;
    try {
      this.proc.stdin.write(line);
    } catch {
      // The agent closed its stdin (it is exiting); `exited` reports why.
      this.stdinOpen = false;
      return;
    }
    if (!this.scheduled) {
      this.scheduled = true;
      queueMicrotask(() => {
        this.scheduled = false;
        if (!this.stdinOpen) return;
        try {
          void this.proc.stdin.flush();
        } catch {
          this.stdinOpen = false;
        }
      });
    }
  }

  stderrTail(): string {
    return [...this.tail, this.partial].filter(Boolean).join("\n");
  }

  /** Closes stdin and waits; then SIGTERM, then SIGKILL, to the whole process group. */
  async stop(graceMs = STOP_GRACE_MS): Promise<AgentExit> {
    if (this.stdinOpen) {
      this.stdinOpen = false;
      try {
        await this.proc.stdin.end();
      } catch {
        // Already closed by the agent: nothing to flush.
      }
    }
    for (const signal of ["SIGTERM", "SIGKILL"] as const) {
      const done = await Promise.race([
        this.exited.then(() => true),
        Bun.sleep(graceMs).then(() => false),
      ]);
      if (done) break;
      this.kill(signal);
    }
    return this.exited;
  }

  kill(signal: NodeJS.Signals = "SIGTERM"): void {
    try {
      process.kill(-this.pid, signal);
    } catch {
      // The group is gone already.
    }
  }

  private async pump(
    stream: ReadableStream<Uint8Array>,
    sink: (c: Uint8Array) => void,
    gate?: () => Promise<void> | null,
  ): Promise<void> {
    const reader = stream.getReader();
    try {
      for (;;) {
        if (gate) {
          // Let the microtasks of the last chunk (the outlets' writes) run before asking.
          await null;
          const wait = gate();
          if (wait) await wait;
        }
        const { done, value } = await reader.read();
        if (done) return;
        sink(value);
      }
    } catch {
      // A read error means the pipe broke; the process's exit explains it.
    } finally {
      reader.releaseLock();
    }
  }

  private keepTail(chunk: Uint8Array): void {
    const lines = (this.partial + new TextDecoder().decode(chunk)).split("\n");
    this.partial = lines.pop()!.slice(-1000);
    for (const l of lines) if (l.trim()) this.tail.push(l.slice(-1000));
    if (this.tail.length > STDERR_TAIL_LINES) this.tail = this.tail.slice(-STDERR_TAIL_LINES);
  }
}
