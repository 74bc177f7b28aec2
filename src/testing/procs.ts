/**
 * Process helpers for CLI and peer tests: run a command to its end, find a process's children
 * through /proc, wait for a process to be gone, and keep track of what a test must clean up.
 */
import { readdirSync, readFileSync, rmSync } from "node:fs";
import { tempDir } from "./harness.ts";

export interface Finished {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end (killed after `timeoutMs`), stdin from /dev/null unless given. */
export async function runToEnd(
  cmd: string[],
  opts: {
    env?: Record<string, string | undefined>;
    cwd?: string;
    stdin?: string;
    timeoutMs?: number;
  } = {},
): Promise<Finished> {
  const proc = Bun.spawn({
    cmd,
    cwd: opts.cwd,
    env: { ...process.env, ...opts.env },
    stdin: opts.stdin === undefined ? "ignore" : new TextEncoder().encode(opts.stdin),
    stdout: "pipe",
    stderr: "pipe",
  });
  const timer = setTimeout(() => proc.kill("SIGKILL"), opts.timeoutMs ?? 30_000);
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  clearTimeout(timer);
  return { code, stdout, stderr };
}

/** The fields of /proc/<pid>/stat after the command name: [state, ppid, …], or null. */
function statFields(pid: number): string[] | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  } catch {
    return null;
  }
}

/** Pids whose parent is `ppid`. */
export function childPids(ppid: number): number[] {
  const out: number[] = [];
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    const f = statFields(Number(d));
    if (f && Number(f[1]) === ppid) out.push(Number(d));
  }
  return out;
}

/** The command line of a process, or "" once it is gone. */
export function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ").trim();
  } catch {
    return "";
  }
}

/** True while the process exists and is not a zombie. */
export function isRunning(pid: number): boolean {
  const f = statFields(pid);
  return f !== null && f[0] !== "Z" && f[0] !== "X";
}

/** Polls `pred` until it holds; throws naming `what` after `timeoutMs`. */
export async function waitFor(
  pred: () => boolean,
  what: string,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(25);
  }
}

/** A pid that belonged to a process that has ended (and been reaped). */
export async function deadPid(): Promise<number> {
  const p = Bun.spawn({ cmd: ["true"], stdout: "ignore", stderr: "ignore" });
  await p.exited;
  return p.pid;
}

/** Kills a process by pid if it still runs (SIGKILL), ignoring one that is gone. */
export function killIfRunning(pid: number): void {
  if (!isRunning(pid)) return;
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    // Gone in between.
  }
}

/** Cleanup steps registered during a test, run last-first by `runAll` (call it in afterEach). */
export class Cleanups {
  private steps: (() => unknown)[] = [];

  add(step: () => unknown): void {
    this.steps.push(step);
  }

  /** A temp folder removed when the steps run. */
  scratch(prefix: string): string {
    const d = tempDir(prefix);
    this.add(() => rmSync(d, { recursive: true, force: true }));
    return d;
  }

  async runAll(): Promise<void> {
    const steps = this.steps.splice(0).reverse();
    for (const s of steps) {
      try {
        await s();
      } catch {
        // Cleanup goes on past a step that failed.
      }
    }
  }
}
