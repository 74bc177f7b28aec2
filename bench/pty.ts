/**
 * `npm run bench:pty [-- --quick]`: terminal programs through the hub, against a PTY read
 * directly and against a third-party web terminal (WeTTY), plus keystroke echo and the compiled
 * worker's start.
 *
 * In one run:
 *   - throughput: `cat` of a 100 MB file of numbered text lines (20 MB with --quick), timed from
 *     the keystroke that starts it to a marker echoed after it, (a) read from a PTY in one Bun
 *     process (the floor), (b) through the hub: a terminal agent on the hub's local worker, one
 *     live WebSocket client counting TERMINAL_OUTPUT bytes, (c) through WeTTY 3.2.0 (npm,
 *     installed into a temp folder at bench time, never a project dependency), one socket.io
 *     client; interleaved, medians of several runs;
 *   - the same hub path with the worker in a process of its own (the compiled binary);
 *   - where the hub path's time goes: the worker's pipeline in one process, stage by stage
 *     (TerminalAgent alone, then with its outbox), the emulator alone, a loopback WebSocket with
 *     and without permessage-deflate, the worker's and the hub's stamps of each event, CPU per
 *     process and thread (and cat's), what-ifs with code patched at load time (bun --preload of
 *     bench/pty-no-emulator.ts, bench/pty-no-deflate.ts; src/ unchanged), and (full runs) one
 *     run with the hub and a worker process both under --cpu-prof;
 *   - keystroke echo: single-byte input frames to `stty raw -echo; exec cat` in a terminal,
 *     timed until the byte comes back, through the hub (and, for context, a direct PTY and WeTTY);
 *   - the compiled worker (built from this tree with `npm run build:worker`'s flags, into a temp
 *     folder), registered once with a key: spawn of `switchboard-worker connect --data DIR` until
 *     it says "connected to".
 * The report goes to stdout and, on a full run, into docs/benchmarks.md between the bench:pty
 * markers (other sections are left as they are).
 *
 * Knobs: BENCH_PTY_ONLY=cat|stages|profile|echo|start runs one part and BENCH_PTY_MB=<n> sets
 * the file size (both make a diagnostic run that writes no doc); BENCH_PTY_WETTY_DIR=<dir> reuses a WeTTY
 * install (`npm install --prefix <dir> wetty@3.2.0`); BENCH_PTY_WORKER_BIN=<path> uses that
 * binary instead of building one; BENCH_PTY_CPU_PROF=<dir> keeps the profiles; BENCH_PTY_PROFILE=1
 * profiles a --quick run too.
 */
import { Database } from "bun:sqlite";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import net from "node:net";
import os from "node:os";
import { join } from "node:path";
import { AgentService } from "../src/gen/switchboard/v1/agent_pb.ts";
import { AuthService } from "../src/gen/switchboard/v1/auth_pb.ts";
import { AgentKind, AgentStatus } from "../src/gen/switchboard/v1/common_pb.ts";
import { WorkerService } from "../src/gen/switchboard/v1/worker_pb.ts";
import { WorkspaceService } from "../src/gen/switchboard/v1/workspace_pb.ts";
import { browser } from "../src/testing/hub.ts";
import {
  catCommand,
  childrenCpuMs,
  ECHO_COMMAND,
  MARKER,
  type CatResult,
  type EchoResult,
  type EmulatorResult,
  type PtyJob,
  type PtyResult,
  type WsSendResult,
} from "./pty-client.ts";
import { LatencyHist, wallNow } from "./scan.ts";
import {
  childrenOf,
  cpuMs,
  loadAverage,
  log,
  measured,
  median,
  publishSection,
  revision,
  table,
  type Watched,
  until,
  watchdog,
  within,
} from "./report.ts";

const ROOT = join(import.meta.dir, "..");
const BUN = process.execPath;
const SERVER = join(ROOT, "server.ts");
const CLIENT = join(import.meta.dir, "pty-client.ts");
const WORKER = join(ROOT, "worker.ts");
const NO_EMULATOR = join(import.meta.dir, "pty-no-emulator.ts");
const NO_DEFLATE = join(import.meta.dir, "pty-no-deflate.ts");

const QUICK = process.argv.includes("--quick");
const ONLY = process.env.BENCH_PTY_ONLY ?? "";
const FILE_MB = Number(process.env.BENCH_PTY_MB) || (QUICK ? 20 : 100);
const CAT_RUNS = QUICK ? 2 : 5;
const STAGE_RUNS = QUICK ? 1 : 3;
const ECHO = {
  n: QUICK ? 300 : 1_000,
  warmup: 20,
  gapMinMs: 5,
  gapMaxMs: 10,
  runs: QUICK ? 1 : 3,
};
const START_RUNS = QUICK ? 5 : 10;
const PROFILE = !QUICK || ONLY === "profile" || process.env.BENCH_PTY_PROFILE === "1";
const WETTY_VERSION = "3.2.0";

const TARGETS = { vsDirect: 0.6, echoP99Ms: 10, startMs: 200 };

const SETUP_MS = 60_000;
const WATCHDOG_MS = (QUICK ? 15 : 60) * 60_000;
const PASSWORD = "correct horse battery staple";

// ------------------------------------------------------------------------------ processes

const procs = new Set<Bun.Subprocess>();
const tempDirs: string[] = [];

function scratch(prefix: string): string {
  const d = realpathSync(mkdtempSync(join(os.tmpdir(), `switchboard-bench-pty-${prefix}-`)));
  tempDirs.push(d);
  return d;
}

function track<T extends Bun.Subprocess>(proc: T): T {
  procs.add(proc);
  void proc.exited.then(() => procs.delete(proc));
  return proc;
}

/** Every process this benchmark started that still runs, by its pid. */
function killEverything(): void {
  for (const p of procs) {
    if (p.exitCode === null) p.kill("SIGKILL");
  }
}

/** CPU ms of every thread of `pid`, by thread name (threads of one name summed). */
function threadCpu(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const name =
        Number(tid) === pid
          ? "main"
          : readFileSync(`/proc/${pid}/task/${tid}/comm`, "utf8").trim().replace(/\d+$/, "N");
      out.set(name, (out.get(name) ?? 0) + cpuMs(pid, Number(tid)));
    }
  } catch {
    // Gone.
  }
  return out;
}

/** Per thread name, the CPU ms spent between two threadCpu() snapshots, largest first. */
function threadDelta(a: Map<string, number>, b: Map<string, number>): [string, number][] {
  return [...b]
    .map(([name, ms]) => [name, ms - (a.get(name) ?? 0)] as [string, number])
    .filter(([, ms]) => ms > 0)
    .sort((x, y) => y[1] - x[1]);
}

/** A thread's time waiting in a run queue for a core (ms), from schedstat. */
function waitMs(pid: number, tid: number): number {
  try {
    return (
      Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").trim().split(" ")[1]) / 1e6
    );
  } catch {
    return NaN;
  }
}

/** The CPU of `cat` in a throughput job: its shell (a child of `parent` named sh) reaped it. */
function catCpuUnder(parent: number): number {
  for (const c of childrenOf(parent)) {
    try {
      if (readFileSync(`/proc/${c}/comm`, "utf8").trim() === "sh") return childrenCpuMs(c);
    } catch {
      // Gone.
    }
  }
  return NaN;
}

/** Collects a stream's text (the last 100 kB), calling `line` for each complete line. */
function drain(stream: ReadableStream<Uint8Array>, line?: (l: string) => void): () => string {
  let text = "";
  let partial = "";
  void (async () => {
    const dec = new TextDecoder();
    for await (const c of stream) {
      const s = dec.decode(c, { stream: true });
      text = (text + s).slice(-100_000);
      if (!line) continue;
      partial += s;
      let nl: number;
      while ((nl = partial.indexOf("\n")) !== -1) {
        line(partial.slice(0, nl));
        partial = partial.slice(nl + 1);
      }
    }
  })();
  return () => text;
}

async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((resolve) => srv.listen(0, "127.0.0.1", resolve));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise((resolve) => srv.close(resolve));
  return port;
}

async function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, "127.0.0.1");
    s.once("connect", () => (s.destroy(), resolve(true)));
    s.once("error", () => resolve(false));
  });
}

// ------------------------------------------------------------------------------ the hub

interface Hub {
  proc: Bun.Subprocess<"ignore", "pipe", "pipe">;
  url: string;
  dataDir: string;
  setupToken: string | null;
  stderr(): string;
}

/** `bun server.ts --port 0 --data <dir>` (as bench/hub.ts starts it), until its URL line. */
async function spawnHub(
  dataDir: string,
  opts: { args?: string[]; profileDir?: string; preload?: string } = {},
): Promise<Hub> {
  const prof = opts.profileDir
    ? ["--cpu-prof", `--cpu-prof-dir=${opts.profileDir}`, "--cpu-prof-name=hub.cpuprofile"]
    : [];
  if (opts.preload) prof.push("--preload", opts.preload);
  const proc = track(
    Bun.spawn({
      cmd: [BUN, ...prof, SERVER, "--port", "0", "--data", dataDir, ...(opts.args ?? [])],
      cwd: ROOT,
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
    }),
  );
  const stderr = drain(proc.stderr);
  let out = "";
  const stdout = drain(proc.stdout, (l) => (out += l + "\n"));
  const m = await until(
    () => /Switchboard hub on (\S+)\n/.exec(out) ?? (proc.exitCode !== null ? "exited" : null),
    SETUP_MS,
    "the hub's URL line",
  ).catch(() => null);
  if (!m || m === "exited") {
    proc.kill("SIGKILL");
    throw new Error(`the hub did not start:\n${stdout()}\n${stderr()}`);
  }
  const s = /\/setup#([A-Za-z0-9_-]+)\n/.exec(out);
  return { proc, url: m[1]!, dataDir, setupToken: s ? s[1]! : null, stderr };
}

/** SIGTERM (the hub stops its worker and terminals), then SIGKILL after 15 s. */
async function stopHub(hub: Hub): Promise<number> {
  const kids = childrenOf(hub.proc.pid);
  hub.proc.kill("SIGTERM");
  const done = await Promise.race([
    hub.proc.exited.then(() => true),
    Bun.sleep(15_000).then(() => false),
  ]);
  if (!done) {
    log("the hub did not stop within 15 s of SIGTERM; killing it");
    hub.proc.kill("SIGKILL");
    await hub.proc.exited;
  }
  const at = wallNow();
  for (const k of kids) {
    try {
      process.kill(-k, "SIGKILL");
    } catch {
      // Gone with the hub, as it should be.
    }
  }
  return at;
}

type Browser = ReturnType<typeof browser>;

interface Owned {
  hub: Hub;
  b: Browser;
  workspaceId: string;
  db: Database;
  /** The separate worker process, when the workspace is on one. */
  worker: Bun.Subprocess<"ignore", "ignore", "pipe"> | null;
}

interface HubOptions {
  profileDir?: string;
  /** A module the hub loads first (`bun --preload`): a what-if patch. */
  preload?: string;
  /** How to run a worker in a process of its own (the compiled binary, or bun and worker.ts). */
  worker?: string[];
}

/**
 * A fresh hub with its owner signed in and one workspace: on its embedded local worker, or with
 * `worker` on a worker in a process of its own (the hub then runs with --no-local-worker),
 * registered with a key from WorkerService.CreateWorkerKey.
 */
async function ownedHub(opts: HubOptions = {}): Promise<Owned> {
  const remote = opts.worker;
  const hub = await spawnHub(scratch("data"), {
    profileDir: opts.profileDir,
    preload: opts.preload,
    args: remote ? ["--no-local-worker"] : [],
  });
  let worker: Owned["worker"] = null;
  try {
    const b = browser(hub.url);
    if (!hub.setupToken) throw new Error("a fresh hub printed no setup link");
    await b.client(AuthService).setup({ token: hub.setupToken, name: "bench", password: PASSWORD });
    const workers = b.client(WorkerService);
    if (remote) {
      const { key } = await workers.createWorkerKey({});
      const w = track(
        Bun.spawn({
          cmd: [...remote, "connect", "--hub", hub.url, "--key", key, "--data", scratch("worker")],
          stdin: "ignore",
          stdout: "ignore",
          stderr: "pipe",
        }),
      );
      worker = w;
      const err = drain(w.stderr);
      await until(
        () => {
          if (w.exitCode !== null) throw new Error(`the worker exited: ${err()}`);
          return err().includes("connected to");
        },
        SETUP_MS,
        "the worker connected",
      );
    }
    const target = await until(
      async () =>
        (await workers.listWorkers({})).workers.find((w) => w.local !== !!remote && w.online),
      SETUP_MS,
      "the worker online",
    );
    const { workspace } = await b
      .client(WorkspaceService)
      .createWorkspace({ name: "bench", workerId: target!.id, path: scratch("ws") });
    const db = new Database(join(hub.dataDir, "hub.db"), { readonly: true });
    return { hub, b, workspaceId: workspace!.id, db, worker };
  } catch (e) {
    if (worker) await stopWorker(worker);
    await stopHub(hub);
    throw e;
  }
}

/** SIGTERM (it stops its terminals), SIGKILL after 10 s. */
async function stopWorker(w: Bun.Subprocess): Promise<number> {
  const kids = childrenOf(w.pid);
  w.kill("SIGTERM");
  await Promise.race([w.exited, Bun.sleep(10_000)]);
  if (w.exitCode === null) {
    w.kill("SIGKILL");
    await w.exited;
  }
  const at = wallNow();
  for (const k of kids) {
    try {
      process.kill(-k, "SIGKILL");
    } catch {
      // Gone with the worker, as it should be.
    }
  }
  return at;
}

/** Stops the worker (if separate), then the hub; when each had exited (wall ms). */
async function closeOwned(o: Owned): Promise<{ hubAt: number; workerAt: number }> {
  o.db.close();
  const workerAt = o.worker ? await stopWorker(o.worker) : NaN;
  return { hubAt: await stopHub(o.hub), workerAt };
}

/** Starts a terminal agent running `command`; resolves with its stream id once it is idle. */
async function startTerminal(o: Owned, command: string[], name: string): Promise<string> {
  const agents = o.b.client(AgentService);
  const { agent } = await agents.startAgent({
    workspaceId: o.workspaceId,
    kind: AgentKind.TERMINAL,
    command,
    name,
  });
  await until(
    async () =>
      (await agents.listAgents({ workspaceId: o.workspaceId })).agents.find(
        (a) => a.id === agent!.id,
      )?.status === AgentStatus.IDLE,
    SETUP_MS,
    "the terminal idle",
  );
  return agent!.streamId;
}

function headOf(db: Database, streamId: string): number {
  return (
    (
      db.query("SELECT head_seq AS head FROM streams WHERE id = ?").get(streamId) as {
        head: number;
      } | null
    )?.head ?? 0
  );
}

// ------------------------------------------------------------------------------ clients

/**
 * Runs one job in a client process (bench/pty-client.ts). `onReady` runs between the client's
 * "ready" and its start (CPU counters are sampled there).
 */
async function runClient<R extends PtyResult>(
  job: PtyJob,
  onReady: () => void = () => {},
  onResult: () => void = () => {},
): Promise<R> {
  const proc = track(
    Bun.spawn({
      cmd: [BUN, CLIENT, JSON.stringify(job)],
      cwd: ROOT,
      stdin: "pipe",
      stdout: "pipe",
      stderr: "pipe",
    }),
  );
  const stderr = drain(proc.stderr);
  const result = Promise.withResolvers<R>();
  drain(proc.stdout, (l) => {
    if (!l.trim()) return;
    const msg = JSON.parse(l) as { op: string; result?: R };
    if (msg.op === "ready") {
      try {
        onReady();
      } finally {
        proc.stdin.write("go\n");
        void proc.stdin.flush();
      }
    } else if (msg.op === "result") {
      // While the client still holds its socket (WeTTY ends the program when it closes).
      try {
        onResult();
      } finally {
        result.resolve(msg.result!);
      }
    }
  });
  void proc.exited.then(() =>
    result.reject(new Error(`client ${job.mode} exited (${proc.exitCode}): ${stderr()}`)),
  );
  try {
    return await within(result.promise, 300_000, `client ${job.mode}`);
  } finally {
    try {
      void proc.stdin.end();
    } catch {
      // Gone.
    }
    await Promise.race([proc.exited, Bun.sleep(5_000)]);
    if (proc.exitCode === null) proc.kill("SIGKILL");
  }
}

// ------------------------------------------------------------------------------ the file

/** Numbered lines of words and a hash, ~60 bytes each, `mb` MB in all. */
async function makeFile(
  dir: string,
  mb: number,
): Promise<{ path: string; bytes: number; lines: number }> {
  const path = join(dir, `cat-${mb}mb.txt`);
  const words = [
    "alpha",
    "bravo",
    "charlie",
    "delta",
    "echo",
    "foxtrot",
    "golf",
    "hotel",
    "india",
    "juliet",
    "kilo",
    "lima",
    "mike",
    "november",
    "oscar",
    "papa",
  ];
  const w = Bun.file(path).writer();
  let bytes = 0;
  let lines = 0;
  const target = mb * 1e6;
  while (bytes < target) {
    const k = 3 + ((lines * 7) % 9);
    const parts: string[] = [];
    for (let j = 0; j < k; j++) parts.push(words[(lines * 31 + j * 17) % words.length]!);
    const hash = (Math.imul(lines + 1, 2654435761) >>> 0).toString(16);
    const line = `${String(lines).padStart(8, "0")} ${parts.join(" ")} ${hash}\n`;
    w.write(line);
    bytes += line.length;
    lines++;
  }
  await w.end();
  return { path, bytes, lines };
}

// ------------------------------------------------------------------------------ WeTTY

interface Wetty {
  dir: string;
  main: string;
}

/** Installs WeTTY into a temp folder with npm and checks that node-pty loads; null + why. */
async function installWetty(): Promise<{ wetty: Wetty | null; why: string; seconds: number }> {
  const t0 = performance.now();
  const given = process.env.BENCH_PTY_WETTY_DIR;
  const dir = given ?? scratch("wetty");
  const main = join(dir, "node_modules", "wetty", "build", "main.js");
  const sh = (cmd: string[], cwd = dir) => {
    const r = Bun.spawnSync(cmd, { cwd, stdout: "pipe", stderr: "pipe" });
    return { ok: r.exitCode === 0, text: `${r.stdout.toString()}\n${r.stderr.toString()}`.trim() };
  };
  if (!Bun.which("node") || !Bun.which("npm"))
    return { wetty: null, why: "node or npm is not installed", seconds: 0 };
  if (!existsSync(main)) {
    log(`installing wetty@${WETTY_VERSION} into ${dir} (npm)`);
    const r = sh([
      "npm",
      "install",
      "--prefix",
      dir,
      "--no-audit",
      "--no-fund",
      "--loglevel=error",
      `wetty@${WETTY_VERSION}`,
    ]);
    if (!r.ok || !existsSync(main))
      return {
        wetty: null,
        why: `npm install wetty@${WETTY_VERSION} failed: ${r.text.slice(-400)}`,
        seconds: (performance.now() - t0) / 1000,
      };
  }
  const loads = () =>
    sh(["node", "-e", `require(${JSON.stringify(join(dir, "node_modules", "node-pty"))})`]);
  if (!loads().ok) {
    // npm may have skipped node-pty's install script; build it (node-gyp, g++).
    log("node-pty does not load; building it with node-gyp");
    const r = sh(["npm", "rebuild", "--prefix", dir, "--foreground-scripts", "node-pty"]);
    const again = loads();
    if (!again.ok)
      return {
        wetty: null,
        why: `node-pty (WeTTY's PTY binding) does not build or load here: ${(again.text || r.text).slice(-400)}`,
        seconds: (performance.now() - t0) / 1000,
      };
  }
  if (process.getuid?.() !== 0)
    return {
      wetty: null,
      why: "WeTTY runs a local command only as root (otherwise it logs in over ssh)",
      seconds: (performance.now() - t0) / 1000,
    };
  return { wetty: { dir, main }, why: "", seconds: (performance.now() - t0) / 1000 };
}

interface WettyRun {
  proc: Bun.Subprocess<"ignore", "pipe", "pipe">;
  port: number;
  stderr(): string;
}

/**
 * WeTTY serving `command` (run as `/usr/bin/env -S <command>` in a PTY per connection, since
 * it runs as root for localhost), on a free loopback port.
 */
async function startWetty(w: Wetty, command: string): Promise<WettyRun> {
  const port = await freePort();
  const proc = track(
    Bun.spawn({
      cmd: [
        "node",
        w.main,
        "--host",
        "127.0.0.1",
        "--port",
        String(port),
        "--command",
        command,
        "--log-level",
        "warn",
      ],
      cwd: scratch("wetty-cwd"),
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
    }),
  );
  const stderr = drain(proc.stderr);
  const stdout = drain(proc.stdout);
  await until(
    async () => {
      if (proc.exitCode !== null)
        throw new Error(`WeTTY exited (${proc.exitCode}): ${stdout()}\n${stderr()}`);
      return portOpen(port);
    },
    30_000,
    "WeTTY listening",
  );
  return { proc, port, stderr };
}

async function stopWetty(r: WettyRun): Promise<void> {
  const kids = childrenOf(r.proc.pid);
  r.proc.kill("SIGTERM");
  await Promise.race([r.proc.exited, Bun.sleep(5_000)]);
  if (r.proc.exitCode === null) r.proc.kill("SIGKILL");
  for (const k of kids) {
    try {
      process.kill(k, "SIGKILL");
    } catch {
      // Gone.
    }
  }
}

/** The command line WeTTY hands to `env -S`. */
const wettyCommand = (argv: string[]) =>
  argv.map((a) => (/^[\w./=-]+$/.test(a) ? a : `"${a.replaceAll('"', '\\"')}"`)).join(" ");

// ------------------------------------------------------------------------------ throughput runs

interface WhatIf {
  label: string;
  opts: HubOptions;
  /** Which measured configuration it patches. */
  baseline: "hub" | "remote";
  run: boolean;
  runs: CatRun[];
}

/** Whether the hub runs its local worker on a Worker thread (from its threads' CPU). */
function localWorkerOnThread(runs: CatRun[]): boolean {
  const of = (name: string) =>
    median(runs.map((r) => r.threads?.find(([n]) => n === name)?.[1] ?? 0));
  const w = of("Worker");
  const m = of("main");
  return w > 0.25 * (w + m);
}

interface CatRun {
  r: CatResult;
  /** bytes / ms in MB/s. */
  rate: number;
  /** CPU ms of the server process during the run (hub or WeTTY), and of its main thread. */
  serverCpu: number;
  serverMainCpu: number;
  /** Hub: time its main thread waited for a core. */
  serverWait: number;
  /** Hub: when the marker's event was stored (first 5 ms poll that saw it), wall ms. */
  storedAt: number;
  /** CPU ms of `cat` (kernel time included: the tty's output processing runs in the writer). */
  catCpu: number;
  /** Hub: CPU ms by thread name of the process running the terminal (hub, or worker). */
  threads?: [string, number][];
  /** Hub with a separate worker process: its CPU ms, and its main thread's. */
  workerCpu?: number;
  workerMainCpu?: number;
}

const mbps = (bytes: number, ms: number) => bytes / ms / 1000;

async function directCatRun(file: string): Promise<CatRun> {
  const r = await runClient<CatResult>({ mode: "direct-cat", file });
  return {
    r,
    rate: mbps(r.bytes, r.ms),
    catCpu: r.catCpuMs ?? NaN,
    serverCpu: NaN,
    serverMainCpu: NaN,
    serverWait: NaN,
    storedAt: NaN,
  };
}

async function hubCatRun(
  file: string,
  opts: HubOptions = {},
): Promise<CatRun & { stoppedAt: { hubAt: number; workerAt: number } }> {
  const o = await ownedHub(opts);
  let run: CatRun;
  try {
    const streamId = await startTerminal(o, catCommand(file), "cat");
    const pid = o.hub.proc.pid;
    const wpid = o.worker?.pid;
    let c0 = 0;
    let m0 = 0;
    let w0 = 0;
    let k0 = 0;
    let km0 = 0;
    let t0 = new Map<string, number>();
    // The stream's stored head, every 5 ms, to see when the marker's event was stored.
    const heads: { at: number; head: number }[] = [];
    const poller = setInterval(
      () => heads.push({ at: wallNow(), head: headOf(o.db, streamId) }),
      5,
    );
    let r: CatResult;
    try {
      r = await runClient<CatResult>(
        { mode: "hub-cat", url: o.hub.url, cookie: o.b.jar.header(), origin: o.hub.url, streamId },
        () => {
          c0 = cpuMs(pid);
          m0 = cpuMs(pid, pid);
          w0 = waitMs(pid, pid);
          t0 = threadCpu(wpid ?? pid);
          if (wpid) {
            k0 = cpuMs(wpid);
            km0 = cpuMs(wpid, wpid);
          }
        },
      );
    } finally {
      clearInterval(poller);
    }
    const serverCpu = cpuMs(pid) - c0;
    const serverMainCpu = cpuMs(pid, pid) - m0;
    const serverWait = waitMs(pid, pid) - w0;
    const workerCpu = wpid ? cpuMs(wpid) - k0 : NaN;
    const workerMainCpu = wpid ? cpuMs(wpid, wpid) - km0 : NaN;
    const catCpu = catCpuUnder(wpid ?? pid);
    const threads = threadDelta(t0, threadCpu(wpid ?? pid));
    if (r.seqProblems) throw new Error(`hub stream: ${r.seqProblems}`);
    const markerSeq = markerSeqOf(o.db, streamId);
    const storedAt = heads.find((h) => h.head >= markerSeq)?.at ?? NaN;
    run = {
      r,
      rate: mbps(r.bytes, r.ms),
      catCpu,
      threads,
      serverCpu,
      serverMainCpu,
      serverWait,
      storedAt,
      workerCpu,
      workerMainCpu,
    };
  } catch (e) {
    await closeOwned(o);
    throw e;
  }
  const stoppedAt = await closeOwned(o);
  return { ...run, stoppedAt };
}

/** The seq of the stream's TERMINAL_OUTPUT event that holds the end of the marker. */
function markerSeqOf(db: Database, streamId: string): number {
  const rows = db
    .query(
      "SELECT seq, data FROM events WHERE stream_id = ? AND kind = 20 ORDER BY seq DESC LIMIT 4",
    )
    .all(streamId) as { seq: number; data: Uint8Array | null }[];
  let tail = "";
  for (const row of rows) {
    tail = Buffer.from(row.data ?? new Uint8Array()).toString("latin1") + tail;
    if (tail.includes(MARKER)) return row.seq;
  }
  return Infinity;
}

async function wettyCatRun(w: Wetty, file: string): Promise<CatRun> {
  const run = await startWetty(w, wettyCommand(catCommand(file)));
  try {
    const pid = run.proc.pid;
    let c0 = 0;
    let m0 = 0;
    let catCpu = NaN;
    const r = await runClient<CatResult>(
      { mode: "wetty-cat", port: run.port },
      () => {
        c0 = cpuMs(pid);
        m0 = cpuMs(pid, pid);
      },
      () => (catCpu = catCpuUnder(pid)),
    );
    return {
      r,
      rate: mbps(r.bytes, r.ms),
      catCpu,
      serverCpu: cpuMs(pid) - c0,
      serverMainCpu: cpuMs(pid, pid) - m0,
      serverWait: NaN,
      storedAt: NaN,
    };
  } finally {
    await stopWetty(run);
  }
}

// ------------------------------------------------------------------------------ CPU profile

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
  children?: number[];
}

/** What a sample's code is, from the innermost frame that names a known file. */
const CATEGORIES: [RegExp, string][] = [
  [/@xterm\/headless/, "emulator: @xterm/headless parsing the output"],
  [/@xterm\/addon-serialize/, "snapshots: @xterm/addon-serialize"],
  [/@bufbuild\/protobuf/, "protobuf"],
  [/src\/worker\/terminal-agent\.ts/, "worker: TerminalAgent (PTY reads, batching, copies)"],
  [/src\/worker\/outbox\.ts/, "worker: outbox (SQLite insert, delete on ack)"],
  [/src\/worker\/link\.ts/, "worker: link (WebSocket send)"],
  [/src\/worker\//, "worker: other"],
  [/src\/hub\/store\/events\.ts/, "hub: event log (SQLite insert)"],
  [/src\/hub\/store\//, "hub: other stores (agents table)"],
  [/src\/hub\/link\.ts/, "hub: link (receive, ack)"],
  [/src\/hub\/live\.ts/, "hub: live publish"],
  [/src\/hub\//, "hub: other"],
];
const PROTOBUF_CALLERS: [RegExp, string][] = [
  [/src\/worker\//, "encoding the worker's link frames"],
  [/src\/hub\/link\.ts/, "decoding link frames, encoding acks (hub)"],
  [/src\/hub\/live\.ts/, "encoding live frames (hub)"],
];

interface ProfileSummary {
  windowMs: number;
  sampledMs: number;
  rows: { what: string; ms: number }[];
}

/**
 * Self time of the hub's main thread by category, over [fromEnd, toEnd] ms before the profile's
 * end (the profile ends when the hub exits; the driver knows the window relative to that).
 */
function summariseProfile(path: string, fromEnd: number, toEnd: number): ProfileSummary {
  const prof = JSON.parse(readFileSync(path, "utf8")) as {
    nodes: ProfileNode[];
    startTime: number;
    endTime: number;
    samples: number[];
    timeDeltas: number[];
  };
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const label = new Map<number, string>();
  const labelOf = (id: number): string => {
    const cached = label.get(id);
    if (cached) return cached;
    let what = "";
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const url = byId.get(cur)!.callFrame.url;
      const hit = CATEGORIES.find(([re]) => re.test(url));
      if (!hit) continue;
      what = hit[1];
      if (/src\/hub\/live\.ts/.test(url) && byId.get(cur)!.callFrame.functionName === "replay")
        what = "hub: replay from the log (a socket with over LIVE_BEHIND_BYTES queued)";
      if (what === "protobuf") {
        let caller = "";
        for (let up = parent.get(cur); up !== undefined && !caller; up = parent.get(up)) {
          const u = byId.get(up)!.callFrame.url;
          caller = PROTOBUF_CALLERS.find(([re]) => re.test(u))?.[1] ?? "";
        }
        what = `protobuf: ${caller || "other"}`;
      }
      break;
    }
    if (!what) {
      const fn = byId.get(id)!.callFrame.functionName;
      what = /\(idle\)|\(program\)/.test(fn)
        ? "idle"
        : "other (runtime: event loop, sockets, GC, native calls)";
    }
    label.set(id, what);
    return what;
  };
  const from = prof.endTime - fromEnd * 1000;
  const to = prof.endTime - toEnd * 1000;
  const totals = new Map<string, number>();
  let t = prof.startTime;
  let sampled = 0;
  for (let i = 0; i < prof.samples.length; i++) {
    t += prof.timeDeltas[i]!;
    if (t < from || t > to) continue;
    // A sample after an idle stretch carries the idle time in its delta: count at most 3 ms.
    const dt = Math.min(prof.timeDeltas[i]!, 3_000) / 1000;
    sampled += dt;
    const what = labelOf(prof.samples[i]!);
    totals.set(what, (totals.get(what) ?? 0) + dt);
  }
  const rows = [...totals].map(([what, ms]) => ({ what, ms })).sort((a, b) => b.ms - a.ms);
  return { windowMs: fromEnd - toEnd, sampledMs: sampled, rows };
}

// ------------------------------------------------------------------------------ echo runs

async function echoRun(kind: "direct" | "hub" | "wetty", w: Wetty | null): Promise<number[]> {
  const params = {
    n: ECHO.n,
    warmup: ECHO.warmup,
    gapMinMs: ECHO.gapMinMs,
    gapMaxMs: ECHO.gapMaxMs,
  };
  if (kind === "direct")
    return (await runClient<EchoResult>({ mode: "direct-echo", ...params })).rtts;
  if (kind === "wetty") {
    const run = await startWetty(w!, wettyCommand(ECHO_COMMAND));
    try {
      return (await runClient<EchoResult>({ mode: "wetty-echo", port: run.port, ...params })).rtts;
    } finally {
      await stopWetty(run);
    }
  }
  const o = await ownedHub({});
  try {
    const streamId = await startTerminal(o, ECHO_COMMAND, "echo");
    const r = await runClient<EchoResult>({
      mode: "hub-echo",
      url: o.hub.url,
      cookie: o.b.jar.header(),
      origin: o.hub.url,
      streamId,
      ...params,
    });
    return r.rtts;
  } finally {
    await closeOwned(o);
  }
}

// ------------------------------------------------------------------------------ worker binary

interface StartFigures {
  binary: string;
  built: boolean;
  buildSeconds: number;
  connect: number[];
  /** `switchboard-worker --version`: spawn to exit, the binary's own start. */
  version: number[];
  /** A compiled one-line program (`console.log`), spawn to exit: bun --compile's own start. */
  hello: number[];
  binaryMB: number;
}

interface WorkerBinary {
  binary: string;
  built: boolean;
  buildSeconds: number;
}

/** BENCH_PTY_WORKER_BIN, or the worker compiled from this tree as `npm run build:worker` does. */
function buildWorker(): WorkerBinary {
  const given = process.env.BENCH_PTY_WORKER_BIN;
  if (given) return { binary: given, built: false, buildSeconds: 0 };
  const binary = join(scratch("bin"), "switchboard-worker");
  const t0 = performance.now();
  // The flags of `npm run build:worker`, into a temp folder (dist/ is left alone).
  const r = Bun.spawnSync(
    [
      BUN,
      "build",
      "--compile",
      "--minify",
      "worker.ts",
      "src/worker/screen-thread.ts",
      "--outfile",
      binary,
    ],
    { cwd: ROOT, stdout: "pipe", stderr: "pipe" },
  );
  if (r.exitCode !== 0) throw new Error(`bun build --compile failed:\n${r.stderr.toString()}`);
  return { binary, built: true, buildSeconds: (performance.now() - t0) / 1000 };
}

async function workerStarts(wb: WorkerBinary): Promise<StartFigures> {
  const { binary, built, buildSeconds } = wb;
  const hub = await spawnHub(scratch("data"), { args: ["--no-local-worker"] });
  const workerData = scratch("worker");
  try {
    const k = Bun.spawnSync([BUN, SERVER, "worker-key", "--data", hub.dataDir], {
      cwd: ROOT,
      stdout: "pipe",
      stderr: "pipe",
    });
    const key = k.stdout.toString().trim();
    if (k.exitCode !== 0 || !key) throw new Error(`worker-key failed: ${k.stderr.toString()}`);
    const connect = async (args: string[]): Promise<number> => {
      const t0 = performance.now();
      const proc = track(
        Bun.spawn({
          cmd: [binary, "connect", ...args],
          stdin: "ignore",
          stdout: "ignore",
          stderr: "pipe",
        }),
      );
      let connectedAt = 0;
      const err = drain(proc.stderr, (l) => {
        if (connectedAt === 0 && l.includes("connected to")) connectedAt = performance.now();
      });
      try {
        await until(
          () => {
            if (proc.exitCode !== null) throw new Error(`the worker exited: ${err()}`);
            return connectedAt > 0;
          },
          30_000,
          "the worker connected",
        ).catch(async () => {
          // until() polls every 10 ms: the stamp comes from the line reader, not the poll.
          throw new Error(`the worker did not connect: ${err()}`);
        });
        return connectedAt - t0;
      } finally {
        proc.kill("SIGTERM");
        await Promise.race([proc.exited, Bun.sleep(10_000)]);
        if (proc.exitCode === null) proc.kill("SIGKILL");
      }
    };
    const first = await connect(["--hub", hub.url, "--key", key, "--data", workerData]);
    log(`registered the worker (first connect with the key: ${first.toFixed(0)} ms)`);
    // Floors: the binary doing nothing but print its version, and a compiled one-liner.
    const helloDir = scratch("hello");
    writeFileSync(join(helloDir, "hello.ts"), 'console.log("up");\n');
    const hello = join(helloDir, "hello");
    const hb = Bun.spawnSync(
      [BUN, "build", "--compile", "--minify", "hello.ts", "--outfile", hello],
      { cwd: helloDir, stdout: "pipe", stderr: "pipe" },
    );
    if (hb.exitCode !== 0) throw new Error(`bun build --compile failed:\n${hb.stderr.toString()}`);
    const spawnToExit = (cmd: string[]) => {
      const t0 = performance.now();
      const r = Bun.spawnSync(cmd, { stdout: "pipe", stderr: "pipe" });
      if (r.exitCode !== 0) throw new Error(`${cmd.join(" ")} failed: ${r.stderr.toString()}`);
      return performance.now() - t0;
    };
    const times: number[] = [];
    const version: number[] = [];
    const helloTimes: number[] = [];
    for (let i = 0; i < START_RUNS; i++) {
      times.push(await connect(["--data", workerData]));
      version.push(spawnToExit([binary, "--version"]));
      helloTimes.push(spawnToExit([hello]));
    }
    const binaryMB = Bun.file(binary).size / 1e6;
    return { binary, built, buildSeconds, connect: times, version, hello: helloTimes, binaryMB };
  } finally {
    await stopHub(hub);
  }
}

// ------------------------------------------------------------------------------ report helpers

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
}

const f1 = (x: number) => (Number.isNaN(x) ? "–" : x.toFixed(1));
const rateText = (x: number) => (Number.isNaN(x) ? "–" : `${x.toFixed(1)} MB/s`);
const ms = (x: number) =>
  Number.isNaN(x)
    ? "–"
    : x < 10
      ? `${x.toFixed(2)} ms`
      : x < 1000
        ? `${x.toFixed(1)} ms`
        : `${(x / 1000).toFixed(2)} s`;
const pct = (x: number) => (Number.isNaN(x) ? "–" : `${Math.round(x * 100)} %`);
const secs = (x: number) => `${(x / 1000).toFixed(2)} s`;

/** The sources whose uncommitted changes the report mentions beside the commit. */
const WATCHED: Watched = {
  paths: ["src", "server.ts", "worker.ts"],
  where: "src/, server.ts or worker.ts",
};

function nodeVersion(): string {
  const r = Bun.spawnSync(["node", "--version"], { stdout: "pipe" });
  return r.exitCode === 0 ? r.stdout.toString().trim() : "none";
}

// ------------------------------------------------------------------------------ main

async function main(): Promise<void> {
  const t0 = performance.now();
  const started = new Date();
  const rev = revision(WATCHED);
  const load = loadAverage();
  const timer = watchdog(WATCHDOG_MS, killEverything);
  const part = (name: string) => !ONLY || ONLY === name;

  const dir = scratch("file");
  const file = await makeFile(dir, FILE_MB);
  log(
    `${file.path}: ${file.bytes.toLocaleString("en-US")} bytes, ${file.lines.toLocaleString("en-US")} lines`,
  );
  /** What the terminal prints: every LF as CR LF, the echoed "\r" as CR LF, and the marker line. */
  const expected = file.bytes + file.lines + 2 + MARKER.length + 2;

  const needWetty = part("cat") || part("echo");
  const inst = needWetty
    ? await installWetty()
    : { wetty: null, why: "not run (BENCH_PTY_ONLY)", seconds: 0 };
  if (needWetty)
    log(
      inst.wetty
        ? `WeTTY ${WETTY_VERSION} ready in ${inst.wetty.dir} (${inst.seconds.toFixed(0)} s)`
        : `WeTTY unavailable: ${inst.why}`,
    );
  const wetty = inst.wetty;

  // ---------------------------------------------------------------------------- throughput
  const workerBin = part("cat") || part("start") ? buildWorker() : null;
  if (workerBin?.built) log(`built ${workerBin.binary} in ${workerBin.buildSeconds.toFixed(1)} s`);
  const cat = {
    direct: [] as CatRun[],
    hub: [] as CatRun[],
    remote: [] as CatRun[],
    wetty: [] as CatRun[],
  };
  const check = (what: string, r: CatResult) => {
    if (r.bytes !== expected)
      log(`${what}: ${r.bytes} bytes of terminal output, expected ${expected}`);
  };
  if (part("cat")) {
    for (let i = 0; i < CAT_RUNS; i++) {
      const d = await directCatRun(file.path);
      check("direct", d.r);
      cat.direct.push(d);
      log(
        `cat run ${i + 1}/${CAT_RUNS}: direct PTY ${rateText(d.rate)} ` +
          `(${d.r.frames} reads, ${(d.r.bytes / d.r.frames / 1024).toFixed(1)} KiB each on average; ` +
          `cat CPU ${d.catCpu} ms)`,
      );
      const h = await hubCatRun(file.path);
      check("hub", h.r);
      cat.hub.push(h);
      log(
        `cat run ${i + 1}/${CAT_RUNS}: hub ${rateText(h.rate)} (cat CPU ${h.catCpu} ms, worker done ${secs(h.r.lastWorkerStamp! - h.r.t0)}, ` +
          `stored ${secs(h.storedAt - h.r.t0)}, client ${secs(h.r.ms)}; hub CPU ${h.serverCpu} ms, ` +
          `main thread ${h.serverMainCpu} ms, waited ${f1(h.serverWait)} ms; ${h.r.snapshots} snapshots` +
          (h.r.repeats ? `; ${h.r.repeats} events delivered twice, first ${h.r.firstRepeat}` : "") +
          `; threads: ${h.threads!.map(([n, ms]) => `${n} ${ms}`).join(", ")}` +
          ")",
      );
      const x = await hubCatRun(file.path, { worker: [workerBin!.binary] });
      check("hub, separate worker", x.r);
      cat.remote.push(x);
      log(
        `cat run ${i + 1}/${CAT_RUNS}: hub with the worker in its own process ${rateText(x.rate)} ` +
          `(worker done ${secs(x.r.lastWorkerStamp! - x.r.t0)}, stored ${secs(x.storedAt - x.r.t0)}, ` +
          `client ${secs(x.r.ms)}; hub CPU ${x.serverCpu} ms, worker CPU ${x.workerCpu} ms (main ` +
          `thread ${x.workerMainCpu} ms))`,
      );
      if (wetty) {
        const w = await wettyCatRun(wetty, file.path);
        check("WeTTY", w.r);
        cat.wetty.push(w);
        log(
          `cat run ${i + 1}/${CAT_RUNS}: WeTTY ${rateText(w.rate)} (node CPU ${w.serverCpu} ms, ` +
            `cat CPU ${w.catCpu} ms)`,
        );
      }
    }
  }

  // ---------------------------------------------------------------------------- stages
  // What-ifs: the same hub path with code patched at load time (bun --preload; src/ unchanged).
  const sourceWorker = (preload?: string) => [
    BUN,
    ...(preload ? ["--preload", preload] : []),
    WORKER,
  ];
  const onThread = localWorkerOnThread(cat.hub);
  const deflating = cat.hub.length === 0 || cat.hub.some((r) => r.r.extensions);
  const whatIfs: WhatIf[] = [
    {
      label: "hub and its own local worker, no emulator",
      opts: { preload: NO_EMULATOR },
      baseline: "hub",
      // A Worker thread does not load --preload modules: the patch would not reach it.
      run: !onThread,
      runs: [],
    },
    {
      label: "hub without permessage-deflate, its own local worker",
      opts: { preload: NO_DEFLATE },
      baseline: "hub",
      run: deflating,
      runs: [],
    },
    {
      label: "hub, the worker in a process of its own, no emulator",
      opts: { worker: sourceWorker(NO_EMULATOR) },
      baseline: "remote",
      run: true,
      runs: [],
    },
    {
      label: "hub without permessage-deflate, the worker in a process of its own, no emulator",
      opts: { preload: NO_DEFLATE, worker: sourceWorker(NO_EMULATOR) },
      baseline: "remote",
      run: deflating,
      runs: [],
    },
  ];
  const wsSend = { plain: [] as WsSendResult[], deflate: [] as WsSendResult[] };
  const stages = {
    emulator: [] as EmulatorResult[],
    agent: [] as CatRun[],
    outbox: [] as CatRun[],
  };
  if (part("stages") || part("cat")) {
    for (let i = 0; i < STAGE_RUNS; i++) {
      const e = await runClient<EmulatorResult>({ mode: "emulator", file: file.path });
      stages.emulator.push(e);
      const a = await runClient<CatResult>({ mode: "stage", stage: "agent", file: file.path });
      stages.agent.push({
        r: a,
        rate: mbps(a.bytes, a.ms),
        catCpu: a.catCpuMs ?? NaN,
        serverCpu: NaN,
        serverMainCpu: NaN,
        serverWait: NaN,
        storedAt: NaN,
      });
      const b = await runClient<CatResult>({
        mode: "stage",
        stage: "agent+outbox",
        file: file.path,
      });
      stages.outbox.push({
        r: b,
        rate: mbps(b.bytes, b.ms),
        catCpu: b.catCpuMs ?? NaN,
        serverCpu: NaN,
        serverMainCpu: NaN,
        serverWait: NaN,
        storedAt: NaN,
      });
      log(
        `stages run ${i + 1}/${STAGE_RUNS}: emulator alone ${rateText(mbps(e.bytes, e.parseMs))}, ` +
          `TerminalAgent ${rateText(mbps(a.bytes, a.ms))} (CPU ${a.cpuMs.toFixed(0)} ms), ` +
          `+ outbox ${rateText(mbps(b.bytes, b.ms))} (CPU ${b.cpuMs.toFixed(0)} ms)`,
      );
      const wp = await runClient<WsSendResult>({
        mode: "ws-send",
        file: file.path,
        deflate: false,
      });
      const wd = await runClient<WsSendResult>({ mode: "ws-send", file: file.path, deflate: true });
      wsSend.plain.push(wp);
      wsSend.deflate.push(wd);
      log(
        `WebSocket transfer in one process: plain ${rateText(mbps(wp.bytes, wp.ms))} (CPU ` +
          `${wp.cpuMs.toFixed(0)} ms), with deflate offered ${rateText(mbps(wd.bytes, wd.ms))} (CPU ` +
          `${wd.cpuMs.toFixed(0)} ms; negotiated "${wd.extensions}")`,
      );
      for (const w of whatIfs.filter((x) => x.run)) {
        const r = await hubCatRun(file.path, w.opts);
        w.runs.push(r);
        log(
          `what-if run ${i + 1}/${STAGE_RUNS}, ${w.label}: ${rateText(r.rate)} (hub CPU ` +
            `${r.serverCpu} ms, worker CPU ${r.workerCpu} ms, cat CPU ${r.catCpu} ms; live socket ` +
            `"${r.r.extensions}"; ${r.r.snapshots} snapshots, ${r.r.snapshotBytes} bytes)`,
        );
      }
    }
  }

  // ---------------------------------------------------------------------------- profile
  // The hub and a worker in a process of its own (from source), both under --cpu-prof, which
  // samples only each process's main thread: this way both sides are seen whether the hub's
  // local worker runs on its main thread or on a Worker thread.
  let profile: { worker: ProfileSummary; hub: ProfileSummary } | null = null;
  let profileRate = NaN;
  if (PROFILE && (part("cat") || part("profile"))) {
    const profDir = process.env.BENCH_PTY_CPU_PROF ?? scratch("prof");
    mkdirSync(profDir, { recursive: true });
    const h = await hubCatRun(file.path, {
      profileDir: profDir,
      worker: [
        BUN,
        "--cpu-prof",
        `--cpu-prof-dir=${profDir}`,
        "--cpu-prof-name=worker.cpuprofile",
        WORKER,
      ],
    });
    const hubPath = join(profDir, "hub.cpuprofile");
    const workerPath = join(profDir, "worker.cpuprofile");
    await until(() => existsSync(hubPath) && existsSync(workerPath), 10_000, "the profiles").catch(
      () => null,
    );
    if (existsSync(hubPath) && existsSync(workerPath)) {
      // The files are written at exit; let them be complete.
      await Bun.sleep(300);
      const at = h.stoppedAt;
      profile = {
        worker: summariseProfile(workerPath, at.workerAt - h.r.t0, at.workerAt - h.r.t1),
        hub: summariseProfile(hubPath, at.hubAt - h.r.t0, at.hubAt - h.r.t1),
      };
      profileRate = h.rate;
      const show = (p: ProfileSummary) =>
        p.rows.map((r) => `${r.what} ${r.ms.toFixed(0)} ms`).join(", ");
      log(`profiled hub + worker process: ${rateText(h.rate)}`);
      log(`  worker main thread: ${show(profile.worker)}`);
      log(`  hub main thread: ${show(profile.hub)}`);
    } else log("the profiled run wrote no profiles");
  }

  // ---------------------------------------------------------------------------- echo
  const echo = { direct: [] as number[][], hub: [] as number[][], wetty: [] as number[][] };
  if (part("echo")) {
    for (let i = 0; i < ECHO.runs; i++) {
      echo.direct.push(await echoRun("direct", null));
      echo.hub.push(await echoRun("hub", null));
      if (wetty) echo.wetty.push(await echoRun("wetty", wetty));
      const show = (xs: number[] | undefined) =>
        xs
          ? `p50 ${ms(quantile(xs, 0.5))} p99 ${ms(quantile(xs, 0.99))} max ${ms(Math.max(...xs))}`
          : "–";
      log(
        `echo run ${i + 1}/${ECHO.runs}: direct ${show(echo.direct[i])}; hub ${show(echo.hub[i])}; ` +
          `WeTTY ${show(echo.wetty[i])}`,
      );
    }
  }

  // ---------------------------------------------------------------------------- binary start
  const starts = part("start") ? await workerStarts(workerBin!) : null;
  if (starts)
    log(
      `worker binary start to connected: ${starts.connect.map((x) => x.toFixed(0)).join(", ")} ms; ` +
        `--version ${starts.version.map((x) => x.toFixed(0)).join(", ")} ms`,
    );

  clearTimeout(timer);
  const elapsed = (performance.now() - t0) / 1000;
  if (ONLY || process.env.BENCH_PTY_MB) {
    log("a diagnostic run (BENCH_PTY_ONLY or BENCH_PTY_MB set): no report");
    return;
  }

  // ---------------------------------------------------------------------------- report
  const med = (runs: CatRun[], f: (r: CatRun) => number) => median(runs.map(f));
  const direct = med(cat.direct, (r) => r.rate);
  const hubRate = med(cat.hub, (r) => r.rate);
  const wettyRate = wetty ? med(cat.wetty, (r) => r.rate) : NaN;
  const remoteRate = med(cat.remote, (r) => r.rate);
  const remoteWorkerDone = med(cat.remote, (r) => r.r.lastWorkerStamp! - r.r.t0);
  const remoteWorkerBusy = med(cat.remote, (r) => r.workerMainCpu! / r.r.ms);
  const remoteHubBusy = med(cat.remote, (r) => r.serverMainCpu / r.r.ms);
  const runsOf = (runs: CatRun[]) => runs.map((r) => r.rate.toFixed(1)).join(", ");
  const catBusy = (runs: CatRun[]) => pct(med(runs, (r) => r.catCpu / r.r.ms));
  const cpuOf = (runs: CatRun[], f: (r: CatRun) => number) =>
    `${(med(runs, f) / 1000).toFixed(1)} s`;
  const hubWall = med(cat.hub, (r) => r.r.ms);
  const wettyName = `WeTTY ${WETTY_VERSION} (Node ${nodeVersion()}, node-pty, socket.io)`;

  const throughput = table(
    [
      "path",
      "median",
      "runs (MB/s)",
      "vs direct",
      "cat on a core",
      "server CPU (main thread)",
      "client CPU",
    ],
    [
      [
        "direct: a PTY read by one Bun process (floor)",
        rateText(direct),
        runsOf(cat.direct),
        "100 %",
        catBusy(cat.direct),
        "–",
        cpuOf(cat.direct, (r) => r.r.cpuMs),
      ],
      [
        "hub: worker + hub + one live WebSocket",
        rateText(hubRate),
        runsOf(cat.hub),
        pct(hubRate / direct),
        catBusy(cat.hub),
        `${cpuOf(cat.hub, (r) => r.serverCpu)} (${cpuOf(cat.hub, (r) => r.serverMainCpu)})`,
        cpuOf(cat.hub, (r) => r.r.cpuMs),
      ],
      [
        "hub, the worker in a process of its own (the compiled switchboard-worker)",
        rateText(remoteRate),
        runsOf(cat.remote),
        pct(remoteRate / direct),
        catBusy(cat.remote),
        `hub ${cpuOf(cat.remote, (r) => r.serverCpu)} (${cpuOf(cat.remote, (r) => r.serverMainCpu)}), ` +
          `worker ${cpuOf(cat.remote, (r) => r.workerCpu!)} (${cpuOf(cat.remote, (r) => r.workerMainCpu!)})`,
        cpuOf(cat.remote, (r) => r.r.cpuMs),
      ],
      wetty
        ? [
            wettyName,
            rateText(wettyRate),
            runsOf(cat.wetty),
            pct(wettyRate / direct),
            catBusy(cat.wetty),
            `${cpuOf(cat.wetty, (r) => r.serverCpu)} (${cpuOf(cat.wetty, (r) => r.serverMainCpu)})`,
            cpuOf(cat.wetty, (r) => r.r.cpuMs),
          ]
        : [`WeTTY ${WETTY_VERSION}`, "not run", "–", "–", "–", "–", "–"],
    ],
  );

  const lagHist = new LatencyHist();
  for (const r of cat.hub) if (r.r.lag) lagHist.merge(LatencyHist.from(r.r.lag));
  const workerDone = med(cat.hub, (r) => r.r.lastWorkerStamp! - r.r.t0);
  const storedDone = med(cat.hub, (r) => r.storedAt - r.r.t0);
  const firstOut = med(cat.hub, (r) => r.r.firstWorkerStamp! - r.r.t0);
  const mainBusy = med(cat.hub, (r) => r.serverMainCpu / r.r.ms);
  const hubWait = med(cat.hub, (r) => r.serverWait);
  const hubEvents = med(cat.hub, (r) => r.r.events!);
  const hubSnaps = med(cat.hub, (r) => r.r.snapshots!);
  const hubSnapBytes = med(cat.hub, (r) => r.r.snapshotBytes!);
  const hubWire = med(cat.hub, (r) => r.r.wireBytes);
  const emuRate = median(stages.emulator.map((e) => mbps(e.bytes, e.parseMs)));
  const emuMsPerMB = median(stages.emulator.map((e) => e.parseMs / (e.bytes / 1e6)));
  const serMs = median(stages.emulator.map((e) => e.serializeMs));
  const agentRate = med(stages.agent, (r) => r.rate);
  const outboxRate = med(stages.outbox, (r) => r.rate);
  const msPerMB = (rate: number) => 1000 / rate;

  /** A what-if's median rate, NaN when it did not run or its patch did not take. */
  const whatIfRate = (label: RegExp) => {
    const w = whatIfs.find((x) => label.test(x.label));
    return w && w.runs.length && whatIfApplied(w) === null ? med(w.runs, (r) => r.rate) : NaN;
  };
  /** Why a what-if's patch did not take (from what its runs delivered), or null. */
  function whatIfApplied(w: WhatIf): string | null {
    const emu = w.opts.preload === NO_EMULATOR || w.opts.worker?.includes(NO_EMULATOR);
    // Without the emulator a snapshot is an empty screen: bytes, not hundreds of kB.
    if (emu && w.runs.some((r) => r.r.snapshots && r.r.snapshotBytes! / r.r.snapshots >= 10_000))
      return "its snapshots were full: the patch did not reach the terminal";
    if (w.opts.preload === NO_DEFLATE && w.runs.some((r) => r.r.extensions))
      return "the live socket still negotiated deflate";
    return null;
  }
  const noEmuLocal = whatIfRate(/own local worker, no emulator/);
  const noDeflateLocal = whatIfRate(/without permessage-deflate, its own local worker/);
  const noEmuRemote = whatIfRate(/^hub, the worker in a process of its own, no emulator/);
  const noBothRemote = whatIfRate(/without permessage-deflate, the worker in a process/);
  const whatIfText =
    `What-ifs (diagnostic, ${STAGE_RUNS} run(s) each, same file and client), code patched at load ` +
    `time with \`bun --preload\` (src/ and server.ts unchanged): \`bench/pty-no-emulator.ts\` ` +
    `replaces TerminalAgent's private feed() with a no-op, so output is not parsed by ` +
    `@xterm/headless (snapshots then show an empty screen); \`bench/pty-no-deflate.ts\` makes the ` +
    `hub's Bun.serve offer no permessage-deflate, so no socket (live or link) compresses. A worker ` +
    `in a process of its own runs from source here (\`bun --preload … worker.ts connect\`); the ` +
    `one measured above is the compiled binary. A Worker thread does not load \`--preload\` ` +
    `modules, so the emulator cannot be patched out of a local worker on its own thread.`;
  const whatIfTable = table(
    [
      "configuration",
      "median",
      "runs (MB/s)",
      "vs direct",
      "vs unpatched",
      "cat on a core",
      "server CPU",
    ],
    whatIfs.map((w) => {
      if (!w.run || w.runs.length === 0)
        return [w.label, "not run", "–", "–", "–", "–", w.run ? "–" : "not applicable here"];
      const why = whatIfApplied(w);
      if (why) return [w.label, "not applicable", "–", "–", "–", "–", why];
      const rate = med(w.runs, (r) => r.rate);
      const base = w.baseline === "hub" ? hubRate : remoteRate;
      return [
        w.label,
        rateText(rate),
        runsOf(w.runs),
        pct(rate / direct),
        `${(rate / base).toFixed(2)}× (${rateText(base)})`,
        catBusy(w.runs),
        w.opts.worker
          ? `hub ${cpuOf(w.runs, (r) => r.serverCpu)}, worker ${cpuOf(w.runs, (r) => r.workerCpu!)}`
          : `hub ${cpuOf(w.runs, (r) => r.serverCpu)} (main ${cpuOf(w.runs, (r) => r.serverMainCpu)})`,
      ];
    }),
  );
  const wsPlainRate = median(wsSend.plain.map((r) => mbps(r.bytes, r.ms)));
  const wsDeflateRate = median(wsSend.deflate.map((r) => mbps(r.bytes, r.ms)));
  const liveExt = cat.hub.map((r) => r.r.extensions ?? "").find((x) => x) ?? "";
  const stageTable = table(
    [
      "stage (each adds to the one above)",
      "median",
      "ms per MB",
      "vs direct",
      "cat on a core",
      "process CPU / wall",
    ],
    [
      [
        "PTY read by one Bun process (direct, above)",
        rateText(direct),
        f1(msPerMB(direct)),
        "100 %",
        catBusy(cat.direct),
        pct(med(cat.direct, (r) => r.r.cpuMs / r.r.ms)),
      ],
      [
        "+ TerminalAgent: batching, @xterm/headless fed every byte, snapshots (events dropped)",
        rateText(agentRate),
        f1(msPerMB(agentRate)),
        pct(agentRate / direct),
        catBusy(stages.agent),
        pct(med(stages.agent, (r) => r.r.cpuMs / r.r.ms)),
      ],
      [
        "+ the worker's outbox (SQLite) and link frame encoding, acked at once",
        rateText(outboxRate),
        f1(msPerMB(outboxRate)),
        pct(outboxRate / direct),
        catBusy(stages.outbox),
        pct(med(stages.outbox, (r) => r.r.cpuMs / r.r.ms)),
      ],
      [
        "+ link WebSocket, hub event log (SQLite), publish, live WebSocket: the hub path",
        rateText(hubRate),
        f1(msPerMB(hubRate)),
        pct(hubRate / direct),
        catBusy(cat.hub),
        `hub process ${pct(med(cat.hub, (r) => r.serverCpu / r.r.ms))}`,
      ],
      [
        "(no PTY) the output over a loopback WebSocket, 64 KiB messages, sender and receiver in one process",
        rateText(wsPlainRate),
        f1(msPerMB(wsPlainRate)),
        "–",
        "–",
        pct(median(wsSend.plain.map((r) => r.cpuMs / r.ms))),
      ],
      [
        "(no PTY) the same, the server offering permessage-deflate (Bun's client then deflates every message)",
        rateText(wsDeflateRate),
        f1(msPerMB(wsDeflateRate)),
        "–",
        "–",
        pct(median(wsSend.deflate.map((r) => r.cpuMs / r.ms))),
      ],
      [
        "(no PTY) @xterm/headless alone, 64 KiB writeSync calls",
        rateText(emuRate),
        f1(emuMsPerMB),
        "–",
        "–",
        "–",
      ],
    ],
  );

  const profileText = profile
    ? (() => {
        const w = profile.worker;
        const h = profile.hub;
        const names = [...new Set([...w.rows, ...h.rows].map((r) => r.what))];
        const total = (p: ProfileSummary, what: string) =>
          p.rows.find((r) => r.what === what)?.ms ?? 0;
        const cell = (p: ProfileSummary, v: number) =>
          v >= 0.5 ? `${v.toFixed(0)} (${pct(v / p.windowMs)})` : "–";
        const idle = (p: ProfileSummary) => Math.max(0, p.windowMs - p.sampledMs);
        return [
          `One more run (not in the medians), the worker in a process of its own from source, the ` +
            `hub and the worker each under \`bun --cpu-prof\` (1 ms sampling of each process's main ` +
            `thread; ${rateText(profileRate)} with the profilers). Self time over the ` +
            `${ms(w.windowMs)} from the keystroke to the marker, in ms (share of that window), ` +
            `attributed to the innermost frame from a known file (native calls, e.g. SQLite's, ` +
            `count for their caller):`,
          "",
          table(
            ["where", "worker process, main thread", "hub process, main thread"],
            [
              ...names
                .map((n) => [n, total(w, n), total(h, n)] as const)
                .sort((x, y) => y[1] + y[2] - (x[1] + x[2]))
                .map(([n, a, b]) => [n, cell(w, a), cell(h, b)]),
              ["not sampled: idle, or waiting for a core", cell(w, idle(w)), cell(h, idle(h))],
            ],
          ),
        ];
      })()
    : ["(No CPU profile in this run.)"];

  const echoRows = (name: string, runs: number[][]) => {
    if (runs.length === 0) return [name, "not run", "–", "–", "–"];
    const all = runs.flat();
    return [
      name,
      ms(median(runs.map((r) => quantile(r, 0.5)))),
      ms(median(runs.map((r) => quantile(r, 0.99)))),
      ms(median(runs.map((r) => Math.max(...r)))),
      `${all.length.toLocaleString("en-US")} (${runs.map((r) => `p99 ${ms(quantile(r, 0.99))}`).join(", ")})`,
    ];
  };
  const echoTable = table(
    ["path", "p50", "p99", "max", "keystrokes (per run)"],
    [
      echoRows("direct PTY (floor)", echo.direct),
      echoRows("hub: live socket → hub → link → worker → PTY and back", echo.hub),
      echoRows(`WeTTY ${WETTY_VERSION}`, echo.wetty),
    ],
  );
  const hubEchoP99 = median(echo.hub.map((r) => quantile(r, 0.99)));

  const st = starts!;
  const startMed = median(st.connect);
  const startTable = table(
    ["", "median", "min", "max", "runs"],
    [
      [
        '`switchboard-worker connect --data DIR`: spawn → "connected to"',
        ms(startMed),
        ms(Math.min(...st.connect)),
        ms(Math.max(...st.connect)),
        st.connect.map((x) => x.toFixed(0)).join(", ") + " ms",
      ],
      [
        "floor: `switchboard-worker --version`, spawn → exit",
        ms(median(st.version)),
        ms(Math.min(...st.version)),
        ms(Math.max(...st.version)),
        st.version.map((x) => x.toFixed(0)).join(", ") + " ms",
      ],
      [
        "floor: a compiled `console.log` one-liner, spawn → exit",
        ms(median(st.hello)),
        ms(Math.min(...st.hello)),
        ms(Math.max(...st.hello)),
        st.hello.map((x) => x.toFixed(0)).join(", ") + " ms",
      ],
    ],
  );
  const startNote =
    `The binary is ${st.binaryMB.toFixed(0)} MB. Printing its version takes ${ms(median(st.version))} ` +
    `against ${ms(median(st.hello))} for a compiled one-liner: the start is the bundle's modules ` +
    `being evaluated before main() runs (every subcommand's imports, eagerly); opening the data ` +
    `folder, dialling the hub and its welcome add ` +
    (startMed - median(st.version) > 1
      ? `about ${ms(startMed - median(st.version))} on top.`
      : `less than the spread between runs.`);

  const targets = [
    {
      what: `hub path ≥ ${pct(TARGETS.vsDirect)} of the direct PTY rate`,
      measured: `${pct(hubRate / direct)} (${rateText(hubRate)} vs ${rateText(direct)})`,
      met: hubRate >= TARGETS.vsDirect * direct,
    },
    {
      what: `hub path ahead of the third-party web terminal (WeTTY ${WETTY_VERSION})`,
      measured: wetty
        ? `${pct(hubRate / wettyRate)} of WeTTY (${rateText(hubRate)} vs ${rateText(wettyRate)})`
        : `not measured: ${inst.why}`,
      met: wetty ? hubRate > wettyRate : null,
    },
    {
      what: `keystroke echo p99 < ${TARGETS.echoP99Ms} ms on loopback (hub path)`,
      measured: `${ms(hubEchoP99)} (p50 ${ms(median(echo.hub.map((r) => quantile(r, 0.5))))})`,
      met: hubEchoP99 < TARGETS.echoP99Ms,
    },
    {
      what: `worker binary start to connected < ${TARGETS.startMs} ms`,
      measured: `${ms(startMed)} median (${ms(Math.min(...st.connect))}–${ms(Math.max(...st.connect))})`,
      met: startMed < TARGETS.startMs,
    },
  ];
  const result = (m: boolean | null) => (m === null ? "not measured" : m ? "MET" : "**MISSED**");
  const missed = targets.filter((t) => t.met === false);

  const threadNames = [...new Set(cat.hub.flatMap((r) => (r.threads ?? []).map(([n]) => n)))];
  const threadMed = threadNames
    .map((n) => [n, med(cat.hub, (r) => r.threads?.find(([m]) => m === n)?.[1] ?? 0)] as const)
    .filter(([, v]) => v >= 10)
    .sort((a, b) => b[1] - a[1]);
  const stampNote =
    `Stamps along the hub path (medians, from the keystroke): the worker stamped its first output event ` +
    `at ${ms(firstOut)} and the one holding the marker at ${secs(workerDone)}; the hub had stored it at ` +
    `${secs(storedDone)} (a 5 ms poll of its database); the client had it at ${secs(hubWall)}. ` +
    (hubWall - workerDone < 0.15 * hubWall
      ? `The worker finishes reading the PTY only ${ms(hubWall - workerDone)} before the client has ` +
        `everything: the PTY is read only as fast as the hub process gets through what it read, and ` +
        `the client is not the limit. `
      : `The client had the marker ${ms(hubWall - workerDone)} after the worker read it: delivery ` +
        `lags the PTY. `) +
    `The hub's main thread was on a core ${pct(mainBusy)} of the wall time (and waited ${ms(hubWait)} ` +
    `in all for one); the hub process's CPU by thread: ` +
    `${threadMed.map(([n, v]) => `${n} ${ms(v)}`).join(", ")} (JSC's HeapHelper threads are its ` +
    `garbage collector). ` +
    `${Math.round(hubEvents).toLocaleString("en-US")} events per run (64 KiB TERMINAL_OUTPUT batches), of which ` +
    `${hubSnaps} snapshots (${(hubSnapBytes / 1e6).toFixed(1)} MB); ${(hubWire / 1e6).toFixed(1)} MB on the ` +
    `live socket for ${(expected / 1e6).toFixed(1)} MB of output; worker→client lag per event p50 ` +
    `${ms(lagHist.quantile(0.5))}, p99 ${ms(lagHist.quantile(0.99))}. With the worker in a process ` +
    `of its own the worker stamped the marker's event at ${secs(remoteWorkerDone)} and the client had ` +
    `it at ${secs(med(cat.remote, (r) => r.r.ms))}.`;

  const repeatRuns = cat.hub.filter((r) => r.r.repeats);
  const repeatNote = repeatRuns.length
    ? `**Events delivered twice.** In ${repeatRuns.length} of ${cat.hub.length} hub runs the live ` +
      `socket got events it already had (${repeatRuns.map((r) => `${r.r.repeats}, first ${r.r.firstRepeat}`).join("; ")}); ` +
      `the client skips them (the figures count each byte once). This is LiveHub.published ` +
      `(src/hub/live.ts): a live subscriber with more than LIVE_BEHIND_BYTES queued is sent back to ` +
      `replay() before the publish; replay() reads the log (which already holds the batch), finds itself ` +
      `caught up in its first synchronous step and subscribes the socket to the topic again, and then ` +
      `the publish sends the same batch to it a second time. Fix: take the lagging sockets off the topic, ` +
      `publish, then start their replays.`
    : "";

  const why: string[] = [];
  if (hubRate < TARGETS.vsDirect * direct || (wetty && hubRate <= wettyRate)) {
    const emuShare = emuMsPerMB / msPerMB(hubRate);
    const shareOf = (p: ProfileSummary | undefined, re: RegExp) =>
      p
        ? p.rows.filter((r) => re.test(r.what)).reduce((sum, r) => sum + r.ms, 0) / p.windowMs
        : NaN;
    const w = profile?.worker;
    const h = profile?.hub;
    const replay = shareOf(h, /replay/);
    const profiled = profile
      ? ` In the profiled run the worker's main thread spent ${pct(shareOf(w, /^emulator|^snapshots/))} ` +
        `of the window in the emulator and snapshots, ${pct(shareOf(w, /link \(WebSocket send/))} ` +
        `sending on the link, ${pct(shareOf(w, /outbox/))} in its outbox (SQLite) and ` +
        `${pct(shareOf(w, /^protobuf/))} encoding protobuf; the hub's main thread ` +
        `${pct(shareOf(h, /live publish/))} publishing, ${pct(shareOf(h, /hub: link/))} receiving ` +
        `on the link, ${pct(shareOf(h, /event log/))} in its event log (SQLite) and ` +
        `${pct(shareOf(h, /^protobuf/))} in protobuf` +
        (replay >= 0.01
          ? `, and ${pct(replay)} replaying from its log to the one client, whose socket had over ` +
            `LIVE_BEHIND_TERMINAL_BYTES (16 MiB) queued (a burst of link frames is published in one ` +
            `turn, faster than the client drains)`
          : "") +
        "."
      : "";
    const wt = threadMed.find(([n]) => n === "Worker")?.[1] ?? 0;
    const mt = threadMed.find(([n]) => n === "main")?.[1] ?? 0;
    const onThread = localWorkerOnThread(cat.hub);
    const arch = onThread
      ? `The hub's local worker runs on a Worker thread of the hub process: the PTY reads, the ` +
        `emulator, the outbox and the link's sending end on that thread (${ms(wt)} of CPU per run), ` +
        `the hub's end of the link, its event log and the publish on the main thread (${ms(mt)}).`
      : `The hub's local worker runs on the hub's main thread: the PTY reads, the emulator, the ` +
        `outbox, both ends of the link, the event log and the publish share one JavaScript thread ` +
        `(${ms(mt)} of CPU per run, on a core ${pct(mainBusy)} of the wall time).`;
    const deflate = liveExt.includes("permessage-deflate");
    why.push(
      `**Where the time goes.** ${arch} Per MB of output the direct read takes ` +
        `${f1(msPerMB(direct))} ms; TerminalAgent alone (one process, events dropped) ` +
        `${f1(msPerMB(agentRate))} ms, because @xterm/headless parses every byte (on a thread of its ` +
        `own, but on the same two cores: ${f1(emuMsPerMB)} ms per MB on its own, ${pct(emuShare)} of the hub path's ` +
        `${f1(msPerMB(hubRate))} ms) and a snapshot costs ${ms(serMs)} to serialise; with the outbox ` +
        `and link encoding it is ${f1(msPerMB(outboxRate))} ms; the link, the hub's event log (a ` +
        `second SQLite insert of every byte) and the publish add the rest.${profiled} The stages ` +
        `overlap little: the kernel holds only a little unread PTY output, so while the thread that ` +
        `reads it is busy with a batch, cat waits (cat was on a core ` +
        `${pct(med(cat.hub, (r) => r.catCpu / r.r.ms))} of the time on the hub path, ` +
        `${pct(med(cat.direct, (r) => r.catCpu / r.r.ms))} when read directly).` +
        (deflate
          ? ` The hub offers permessage-deflate on its WebSockets (the live socket negotiated ` +
            `"${liveExt}", as a browser's does), but terminal batches are published uncompressed and ` +
            `the worker's link declines it (with it, Bun's client deflates every message it sends: ` +
            `moving the output over a loopback WebSocket took ${f1(msPerMB(wsDeflateRate))} ms per MB ` +
            `with deflate against ${f1(msPerMB(wsPlainRate))} ms without, table above).`
          : "") +
        ` WeTTY does far less per byte: it forwards node-pty's reads as strings, 2 ms or 512 KiB ` +
        `at a time, uncompressed, and stores and parses nothing.`,
    );
    const noEmu = Number.isNaN(noEmuLocal) ? noEmuRemote : noEmuLocal;
    const noEmuBase = Number.isNaN(noEmuLocal) ? remoteRate : hubRate;
    const items: { gain: number; text: string }[] = [
      {
        gain: noEmu / noEmuBase,
        text:
          `parse less: the emulator is on a thread of its own but uses the same two cores; skip ` +
          `parsing runs of plain text that scroll out of the scrollback anyway, or parse only when ` +
          `a snapshot is due (it costs ${f1(emuMsPerMB)} ms per MB against ${f1(msPerMB(direct))} ` +
          `ms for reading the PTY; patched out, ${Number.isNaN(noEmuLocal) ? "with the worker in a process of its own " : ""}` +
          `${rateText(noEmu)} instead of ${rateText(noEmuBase)}, ${(noEmu / noEmuBase).toFixed(2)}×)`,
      },
    ];
    if (deflate && noDeflateLocal / hubRate > 1.1)
      items.push({
        gain: noDeflateLocal / hubRate,
        text:
          `do not deflate terminal output: have the worker's link decline permessage-deflate and ` +
          `publish TERMINAL_OUTPUT batches uncompressed, or compress only small JSON batches (with ` +
          `no deflate offered, the hub path ran at ${rateText(noDeflateLocal)} instead of ` +
          `${rateText(hubRate)}, ${(noDeflateLocal / hubRate).toFixed(2)}×)`,
      });
    if (!onThread)
      items.push({
        gain: remoteRate / hubRate,
        text:
          `run the hub's local worker on a thread or in a process of its own, so the PTY side and ` +
          `the hub's storage and fan-out can use both cores (the compiled worker as a separate ` +
          `process: ${rateText(remoteRate)}, ${(remoteRate / hubRate).toFixed(2)}× the embedded ` +
          `worker; its main thread on a core ${pct(remoteWorkerBusy)} of the time, the hub's ` +
          `${pct(remoteHubBusy)})`,
      });
    items.sort((x, y) => (y.gain || 0) - (x.gain || 0));
    items.push(
      {
        gain: NaN,
        text:
          `read the PTY continuously into memory, apart from batching, storing and sending, so cat ` +
          `never waits while a batch is handled (not measured)`,
      },
      {
        gain: NaN,
        text:
          `for the hub's own worker, do not store every byte twice (its outbox and the hub's event ` +
          `log are on the same disk, in the same process): hand events over in memory, or write ` +
          `fewer, larger rows (not measured)`,
      },
    );
    why.push(
      "",
      `**What to change**, measured gains first: ` +
        items.map((it, i) => `(${i + 1}) ${it.text}`).join("; ") +
        "." +
        (deflate && !Number.isNaN(noBothRemote)
          ? ` With both the emulator and deflate gone (worker in a process of its own) it ran at ` +
            `${rateText(noBothRemote)}: ${pct(noBothRemote / direct)} of direct` +
            (wetty ? `, ${pct(noBothRemote / wettyRate)} of WeTTY.` : ".")
          : ""),
    );
  }

  const body = [
    `## Terminals: throughput, keystroke echo, worker start (\`npm run bench:pty${QUICK ? " -- --quick" : ""}\`)`,
    "",
    `${measured(started, rev, WATCHED)} The whole run took ${elapsed.toFixed(0)} s; load average before it: ${load}, ` +
      `after it: ${loadAverage()} (other work on the machine competes with every figure).`,
    "",
    `**Method.** The file is ${(file.bytes / 1e6).toFixed(0)} MB of numbered text lines ` +
      `(${file.lines.toLocaleString("en-US")} lines of words and a hash, made in a temp folder). Each ` +
      `path runs \`sh -c 'read x; cat FILE; echo ${MARKER}; read y'\` in an ${"80×24"} terminal; the client types ` +
      `"\\r" and the time runs from that keystroke to the marker's arrival; the bytes are every terminal ` +
      `output byte in between (${expected.toLocaleString("en-US")}: the tty turns each LF into CR LF), ` +
      `checked on every run. MB is 10^6 bytes. Direct: a PTY of \`Bun.spawn\`'s \`terminal\` option read ` +
      `by the client process itself. Hub: the real \`bun server.ts\` (as \`bench/hub.ts\` starts it: fresh ` +
      `data folder, owner set up, a workspace on the local worker it starts itself), the program started with ` +
      `AgentService.StartAgent (AGENT_KIND_TERMINAL), one live WebSocket subscribed from seq 0 counting ` +
      `TERMINAL_OUTPUT bytes and checking every seq arrives once, in order. WeTTY: \`npm install --prefix ` +
      `<temp> wetty@${WETTY_VERSION}\` at bench time (not a project dependency), run as root with ` +
      `\`--command\` (so it runs the program in a node-pty PTY, no ssh or login), one socket.io client ` +
      `(Engine.IO 4 over a WebSocket, by hand) that acknowledges 262,144 characters at a time as WeTTY's ` +
      `own client does. Every client is a separate Bun process (\`bench/pty-client.ts\`) that renders ` +
      `nothing. The same hub with the worker in a process of its own: \`--no-local-worker\`, and the ` +
      `compiled worker (see the last part) registered with a key from CreateWorkerKey. The four paths ` +
      `are interleaved, a fresh server each run; medians of ${CAT_RUNS} runs. ` +
      `Server CPU is utime + stime from /proc over the timed part. Everything shares one machine.`,
    "",
    `### Throughput: \`cat\` of ${(file.bytes / 1e6).toFixed(0)} MB`,
    "",
    throughput,
    "",
    `Ratios (same run): hub / direct ${pct(hubRate / direct)}, hub / WeTTY ` +
      `${wetty ? pct(hubRate / wettyRate) : `– (WeTTY not measured: ${inst.why})`}; with the ` +
      `worker in its own process: / direct ${pct(remoteRate / direct)}, / WeTTY ` +
      `${wetty ? pct(remoteRate / wettyRate) : "–"}.`,
    "",
    stampNote,
    "",
    ...(repeatNote ? [repeatNote, ""] : []),
    `#### Where the hub path's time goes`,
    "",
    `The worker's pipeline, stage by stage, in one Bun process (\`bench/pty-client.ts\` imports ` +
      `TerminalAgent and the Outbox from src/ and runs them as the worker does; medians of ${STAGE_RUNS}):`,
    "",
    stageTable,
    "",
    whatIfText,
    "",
    whatIfTable,
    "",
    ...profileText,
    "",
    ...(why.length ? [...why, ""] : []),
    "### Keystroke echo",
    "",
    `The terminal runs \`sh -c 'stty raw -echo; exec cat'\`; the client sends ${ECHO.n.toLocaleString("en-US")} ` +
      `single-byte input frames (after ${ECHO.warmup} not counted), ${ECHO.gapMinMs}–${ECHO.gapMaxMs} ms ` +
      `apart, and times each until its byte is back in a TERMINAL_OUTPUT event (one clock, the client's). ` +
      `Hub: ClientFrame \`input\` on the live socket; the hub checks the role and sends a terminalInput ` +
      `command over the link; the echo comes back as an event (outbox, link, event log, publish). ` +
      `Medians over ${ECHO.runs} run(s) of each run's figure.`,
    "",
    echoTable,
    "",
    "### Worker binary: start to connected",
    "",
    `${st.built ? `Built from this tree with \`npm run build:worker\`'s flags (\`bun build --compile --minify\`, ${st.buildSeconds.toFixed(1)} s) into a temp folder` : `The binary ${st.binary}`}; ` +
      `a hub with \`--no-local-worker\`; a key from \`bun server.ts worker-key --data <hub data>\`, used ` +
      `once with \`connect --hub URL --key KEY --data DIR\`; then ${START_RUNS} times: spawn ` +
      `\`connect --data DIR\`, time until its stderr says "connected to" (the hub's welcome arrived), SIGTERM.`,
    "",
    startTable,
    "",
    startNote,
    "",
    "### Targets",
    "",
    table(
      ["target", "measured", "result"],
      targets.map((t) => [t.what, t.measured, result(t.met)]),
    ),
    "",
    missed.length === 0
      ? "All measured targets met."
      : `Missed: ${missed.map((t) => `${t.what} (measured ${t.measured})`).join("; ")}.`,
  ].join("\n");

  await publishSection("pty", body, QUICK);
  log(`done in ${elapsed.toFixed(0)} s`);
}

function cleanup(): void {
  for (const d of tempDirs) {
    if (d === process.env.BENCH_PTY_WETTY_DIR || d === process.env.BENCH_PTY_CPU_PROF) continue;
    rmSync(d, { recursive: true, force: true });
  }
}

for (const sig of ["SIGINT", "SIGTERM"] as const) {
  process.on(sig, () => {
    log(`${sig}: stopping`);
    killEverything();
    cleanup();
    process.exit(130);
  });
}

try {
  await main();
  killEverything();
  cleanup();
} catch (e) {
  log(`FAILED: ${(e as Error).stack ?? e}`);
  killEverything();
  cleanup();
  process.exit(1);
}
