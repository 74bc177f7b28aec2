/**
 * What every benchmark shares: its log line, the machine and revision it ran on, and writing its
 * own section of docs/benchmarks.md (between `<!-- bench:NAME -->` markers, formatted as the
 * repository's Prettier check wants, the other sections left as they are); and the small process
 * helpers the drivers and their child processes would otherwise each copy (timeouts, polling,
 * CPU time from /proc, the JSON command lines a child reads on stdin, the median).
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";

export const DOC = join(import.meta.dir, "..", "docs", "benchmarks.md");

export function log(line: string): void {
  process.stderr.write(`bench: ${line}\n`);
}

/** CPU model, cores, memory, distribution, kernel and Bun version. */
export function machine(): string {
  const info = readFileSync("/proc/cpuinfo", "utf8");
  const cpu = /^model name\s*:\s*(.+)$/m.exec(info)?.[1];
  const cores = info.match(/^processor\s*:/gm)?.length ?? os.cpus().length;
  let distro = os.type();
  try {
    distro =
      /^PRETTY_NAME="?([^"\n]+)"?$/m.exec(readFileSync("/etc/os-release", "utf8"))?.[1] ?? distro;
  } catch {
    // No os-release: the kernel's name stands in.
  }
  const memGiB = (os.totalmem() / 2 ** 30).toFixed(1);
  return (
    `${cpu ?? "unknown CPU"}, ${cores} cores, ${memGiB} GiB RAM, ` +
    `${distro} (Linux ${os.release()}), Bun ${Bun.version}`
  );
}

/** Formats markdown as the repository's `prettier --check` wants it (aligned tables). */
export async function prettierMarkdown(text: string): Promise<string> {
  try {
    const prettier = await import("prettier");
    const options = (await prettier.resolveConfig(DOC)) ?? {};
    return await prettier.format(text, { ...options, filepath: DOC });
  } catch (e) {
    log(`prettier unavailable (${(e as Error).message}); markdown left unformatted`);
    return text;
  }
}

/** Replaces the bench:NAME section of docs/benchmarks.md (or appends it), leaving the rest. */
export async function writeSection(name: string, body: string): Promise<void> {
  const begin = `<!-- bench:${name} -->`;
  const end = `<!-- /bench:${name} -->`;
  const section = `${begin}\n\n${body.trim()}\n\n${end}`;
  let text = existsSync(DOC) ? readFileSync(DOC, "utf8") : "# Benchmarks\n\n";
  const a = text.indexOf(begin);
  const b = text.indexOf(end);
  if (a !== -1 && b > a) text = text.slice(0, a) + section + text.slice(b + end.length);
  else text = `${text.replace(/\n*$/, "\n\n")}${section}\n`;
  writeFileSync(DOC, await prettierMarkdown(text));
}

/** A markdown table (Prettier aligns it when the section is written). */
export function table(head: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(" | ")} |`;
  return [line(head), line(head.map(() => "---")), ...rows.map(line)].join("\n");
}

/** Direct children of `pid` (every thread's), from /proc. */
export function childrenOf(pid: number): number[] {
  const out: number[] = [];
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const text = readFileSync(`/proc/${pid}/task/${tid}/children`, "utf8").trim();
      if (text) out.push(...text.split(/\s+/).map(Number));
    }
  } catch {
    // The process is gone.
  }
  return out;
}

/** Waits for `p`, failing with "timed out after N s: what" once `ms` have passed. */
export function within<T>(p: Promise<T>, ms: number, what: string | (() => string)): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const text = typeof what === "string" ? what : what();
      reject(new Error(`timed out after ${ms / 1000} s: ${text}`));
    }, ms);
  });
  return Promise.race([p, limit]).finally(() => clearTimeout(timer));
}

/** Clock ticks a second in /proc/PID/stat (USER_HZ, 100 on Linux). */
export const CLK_TCK = 100;

/** utime + stime in ms, of a process (all threads) or of one thread; NaN once it is gone. */
export function cpuMs(pid: number, tid?: number): number {
  try {
    const path = tid === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${tid}/stat`;
    const stat = readFileSync(path, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return ((Number(f[11]) + Number(f[12])) * 1000) / CLK_TCK;
  } catch {
    return NaN;
  }
}

/** The sources a bench measures: the paths `git status` looks at, and how the report names them. */
export interface Watched {
  paths: readonly string[];
  where: string;
}

/** The commit measured, and whether the watched sources differ from it. */
export function revision(watched: Watched): string {
  const git = (...args: string[]) =>
    Bun.spawnSync(["git", ...args], { cwd: join(import.meta.dir, "..") })
      .stdout.toString()
      .trim();
  const sha = git("rev-parse", "--short", "HEAD");
  if (!sha) return "an unknown revision";
  const dirty = git("status", "--porcelain", "--", ...watched.paths) !== "";
  return `commit ${sha}${dirty ? ` (with uncommitted changes in ${watched.where})` : ""}`;
}

/** Polls `pred` every 10 ms until it gives a truthy value, failing after `ms`. */
export async function until<T>(pred: () => T | Promise<T>, ms: number, what: string): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await pred();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms / 1000} s waiting for ${what}`);
    await Bun.sleep(10);
  }
}

/** Whether process `pid` still exists (signal 0 reaches it). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * For a bench's child process: hands each JSON line its driver writes to stdin to `onCommand`,
 * in order, and returns once stdin closes (the driver is gone).
 */
export async function readCommands<T>(onCommand: (cmd: T) => void): Promise<void> {
  let buf = "";
  const decoder = new TextDecoder();
  for await (const chunk of Bun.stdin.stream()) {
    buf += decoder.decode(chunk, { stream: true });
    let nl: number;
    while ((nl = buf.indexOf("\n")) !== -1) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (!line.trim()) continue;
      onCommand(JSON.parse(line) as T);
    }
  }
}

/**
 * Prints a bench's section (Prettier-formatted) and writes it into docs/benchmarks.md, unless
 * the run was a quick one.
 */
export async function publishSection(name: string, body: string, quick: boolean): Promise<void> {
  const pretty = await prettierMarkdown(body);
  console.log(pretty);
  if (quick) {
    log("quick run: docs/benchmarks.md not updated");
  } else {
    await writeSection(name, pretty);
    log(`wrote ${DOC}`);
  }
}

/** The 1, 5 and 15 minute load averages, as "0.52, 0.61, 0.70". */
export function loadAverage(): string {
  return os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(", ");
}

/**
 * A section's opening sentence: when the run started, at which revision (and at which one it
 * ended, if the watched sources changed meanwhile), on which machine.
 */
export function measured(started: Date, rev: string, watched: Watched): string {
  const end = revision(watched);
  return (
    `Measured ${started.toISOString().slice(0, 16).replace("T", " ")} UTC at ${rev}` +
    (end === rev ? " " : ` (the tree changed during the run: ${end} at its end) `) +
    `on ${machine()}.`
  );
}

/** The median of the numbers that are not NaN (NaN if there are none). */
export function median(xs: number[]): number {
  const s = xs.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Gives the whole bench `ms`: past it, `kill` ends what it started and the process exits 1. */
export function watchdog(ms: number, kill: () => void): ReturnType<typeof setTimeout> {
  return setTimeout(() => {
    log(`the whole benchmark took over ${ms / 60_000} min: giving up`);
    kill();
    process.exit(1);
  }, ms);
}
