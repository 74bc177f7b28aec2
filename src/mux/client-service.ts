/**
 * The client side of ACP's fs/* and terminal/* methods, served by the
 * multiplexer itself when no editor frontend answers them. Everything is
 * confined to the session's working folder (see paths.ts).
 */
import { randomBytes, randomUUID } from "node:crypto";
import { chmod, mkdir, open, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import type { Subprocess } from "bun";
import { z } from "zod";
import { ErrorCode, RpcFailure } from "./jsonrpc.ts";
import { confine, fsFailure, openWorkspace, type Workspace } from "./paths.ts";

const MiB = 1024 * 1024;
export const DEFAULT_MAX_READ_BYTES = 16 * MiB;
export const DEFAULT_MAX_TERMINALS = 32;
export const DEFAULT_OUTPUT_BYTE_LIMIT = 1 * MiB;
export const DEFAULT_MAX_WAIT_MS = 30 * 60 * 1000;
/** Time a process group gets to honour SIGTERM before SIGKILL. */
const KILL_GRACE_MS = 1000;
/** After the leader exits, how long to wait for its pipes to drain (a background child may hold them). */
const DRAIN_GRACE_MS = 250;
/** Bound for every request but wait_for_exit, so a stuck filesystem cannot hang the agent. */
const REQUEST_TIMEOUT_MS = 60_000;
/** Output chunks kept before they are merged, so trimming the front stays cheap. */
const MAX_OUTPUT_CHUNKS = 256;

export interface ClientServiceOptions {
  root: string;
  maxReadBytes?: number;
  maxTerminals?: number;
  defaultOutputByteLimit?: number;
  maxWaitMs?: number;
}

export interface ClientService {
  /** Serves one fs/* or terminal/* request; throws RpcFailure with a JSON-RPC code on bad input. */
  handle(method: string, params: unknown): Promise<unknown>;
  /** Kills every process it started (whole process group) and forgets them. */
  close(): void;
}

// Schemas accept null for optional fields (the ACP schema does) and ignore
// unknown keys such as _meta.
const ReadParams = z.object({
  sessionId: z.string(),
  path: z.string(),
  line: z.number().int().min(1).nullish(),
  limit: z.number().int().min(0).nullish(),
});
const WriteParams = z.object({ sessionId: z.string(), path: z.string(), content: z.string() });
const CreateParams = z.object({
  sessionId: z.string(),
  command: z.string().min(1),
  args: z.array(z.string()).nullish(),
  env: z
    .array(
      z.object({ name: z.string().regex(/^[^=\0]+$/, "bad variable name"), value: z.string() }),
    )
    .nullish(),
  cwd: z.string().nullish(),
  outputByteLimit: z.number().int().min(0).nullish(),
});
const TerminalParams = z.object({ sessionId: z.string(), terminalId: z.string() });

function parse<T>(schema: z.ZodType<T>, params: unknown, method: string): T {
  const r = schema.safeParse(params);
  if (r.success) return r.data;
  const why = r.error.issues
    .map((i) => `${i.path.length ? i.path.join(".") : "params"}: ${i.message}`)
    .join("; ");
  throw new RpcFailure(ErrorCode.invalidParams, `invalid params for ${method}: ${why}`);
}

const TIMED_OUT = Symbol("timed out");

/** Resolves with the promise's value, or TIMED_OUT after `ms`; never leaves a timer behind. */
async function within<T>(p: Promise<T>, ms: number): Promise<T | typeof TIMED_OUT> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expiry = new Promise<typeof TIMED_OUT>((r) => (timer = setTimeout(r, ms, TIMED_OUT)));
  try {
    return await Promise.race([p, expiry]);
  } finally {
    clearTimeout(timer);
  }
}

/** The `line`/`limit` window of a text; lines keep their terminators. */
export function sliceLines(text: string, line?: number | null, limit?: number | null): string {
  let from = 0;
  for (let i = 1; i < (line ?? 1); i++) {
    const nl = text.indexOf("\n", from);
    if (nl < 0) return "";
    from = nl + 1;
  }
  if (limit == null) return text.slice(from);
  let to = from;
  for (let i = 0; i < limit; i++) {
    const nl = text.indexOf("\n", to);
    if (nl < 0) return text.slice(from);
    to = nl + 1;
  }
  return text.slice(from, to);
}

/**
 * A terminal's combined output, capped at `limit` bytes by dropping the oldest
 * bytes. Text is appended as whole characters, so the front can be cut at a
 * UTF-8 boundary by skipping continuation bytes.
 */
export class OutputBuffer {
  private chunks: Buffer[] = [];
  private bytes = 0;
  truncated = false;

  constructor(private readonly limit: number) {}

  append(text: string): void {
    if (text === "") return;
    const chunk = Buffer.from(text, "utf8");
    this.chunks.push(chunk);
    this.bytes += chunk.length;
    if (this.chunks.length > MAX_OUTPUT_CHUNKS) this.chunks = [Buffer.concat(this.chunks)];
    while (this.bytes > this.limit) {
      this.truncated = true;
      const first = this.chunks[0]!;
      let cut = Math.min(this.bytes - this.limit, first.length);
      while (cut < first.length && (first[cut]! & 0xc0) === 0x80) cut++;
      this.bytes -= cut;
      if (cut === first.length) this.chunks.shift();
      else this.chunks[0] = first.subarray(cut);
    }
  }

  text(): string {
    return Buffer.concat(this.chunks).toString("utf8");
  }
}

interface ExitStatus {
  exitCode: number | null;
  signal: string | null;
}

interface Terminal {
  proc: Subprocess<"ignore", "pipe", "pipe">;
  output: OutputBuffer;
  exit?: ExitStatus;
  /** Settles once the leader has exited and its pipes drained (or the drain grace ran out). */
  finished: Promise<ExitStatus>;
  killTimer?: ReturnType<typeof setTimeout>;
}

/**
 * Signals a whole process group. Errors are ignored: ESRCH means the group is
 * gone, and close() must never throw halfway through its terminals.
 */
function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // nothing left to kill, or not ours to kill
  }
}

/** Copies one stream into the output; each stream has its own decoder so characters stay whole. */
async function pump(stream: ReadableStream<Uint8Array>, out: OutputBuffer): Promise<void> {
  const decoder = new TextDecoder(); // invalid bytes become U+FFFD instead of failing
  try {
    for await (const chunk of stream) out.append(decoder.decode(chunk, { stream: true }));
  } catch {
    // A broken pipe ends the output; the exit status still tells what happened.
  }
  out.append(decoder.decode());
}

export function createClientService(opts: ClientServiceOptions): ClientService {
  const maxReadBytes = opts.maxReadBytes ?? DEFAULT_MAX_READ_BYTES;
  const maxTerminals = opts.maxTerminals ?? DEFAULT_MAX_TERMINALS;
  const outputCap = opts.defaultOutputByteLimit ?? DEFAULT_OUTPUT_BYTE_LIMIT;
  const maxWaitMs = opts.maxWaitMs ?? DEFAULT_MAX_WAIT_MS;
  const terminals = new Map<string, Terminal>();
  let closed = false;
  let workspace: Promise<Workspace> | undefined;

  async function ws(): Promise<Workspace> {
    workspace ??= openWorkspace(opts.root).catch((e) => {
      workspace = undefined; // the folder may appear later; do not cache the failure
      throw new RpcFailure(
        ErrorCode.internal,
        `the workspace ${opts.root} is not accessible: ${(e as Error).message}`,
      );
    });
    return workspace;
  }

  async function readTextFile(params: unknown): Promise<unknown> {
    const p = parse(ReadParams, params, "fs/read_text_file");
    const real = await confine(await ws(), p.path);
    const subject = `path ${p.path}`;
    try {
      const st = await stat(real);
      if (st.isDirectory()) throw fsFailure({ code: "EISDIR" }, subject);
      // Opening a FIFO or device could block forever or never end.
      if (!st.isFile()) {
        throw new RpcFailure(ErrorCode.invalidParams, `${subject} is not a regular file`);
      }
      if (st.size > maxReadBytes) throw tooBig(p.path, st.size);
      const fh = await open(real, "r");
      try {
        // Checked again after reading, in case the file grew since stat.
        const data = await fh.readFile();
        if (data.length > maxReadBytes) throw tooBig(p.path, data.length);
        return { content: sliceLines(data.toString("utf8"), p.line, p.limit) };
      } finally {
        await fh.close();
      }
    } catch (e) {
      throw fsFailure(e, subject);
    }
  }

  function tooBig(p: string, size: number): RpcFailure {
    return new RpcFailure(
      ErrorCode.invalidParams,
      `file ${p} is ${size} bytes, over the read limit of ${maxReadBytes} bytes`,
    );
  }

  async function writeTextFile(params: unknown): Promise<unknown> {
    const p = parse(WriteParams, params, "fs/write_text_file");
    // `real` follows a final symlink, so writing through a link updates its target.
    const real = await confine(await ws(), p.path);
    const subject = `path ${p.path}`;
    const existing = await stat(real).catch((e: NodeJS.ErrnoException) => {
      if (e.code === "ENOENT") return null;
      throw fsFailure(e, subject);
    });
    if (existing?.isDirectory()) throw fsFailure({ code: "EISDIR" }, subject);
    if (existing && !existing.isFile()) {
      throw new RpcFailure(ErrorCode.invalidParams, `${subject} is not a regular file`);
    }
    const dir = path.dirname(real);
    // Temp file beside the target so the rename is atomic (same filesystem).
    const tmp = path.join(dir, `.${path.basename(real)}.${randomBytes(6).toString("hex")}.tmp`);
    try {
      await mkdir(dir, { recursive: true });
      // "wx" fails rather than follow anything already at the temp name.
      const fh = await open(tmp, "wx", existing ? existing.mode & 0o7777 : 0o666);
      try {
        await fh.writeFile(p.content, "utf8");
      } finally {
        await fh.close();
      }
      // The umask applied at creation; restore the old mode exactly.
      if (existing) await chmod(tmp, existing.mode & 0o7777);
      await rename(tmp, real);
    } catch (e) {
      await rm(tmp, { force: true }).catch(() => {});
      throw fsFailure(e, subject);
    }
    return {};
  }

  async function createTerminal(params: unknown): Promise<unknown> {
    const p = parse(CreateParams, params, "terminal/create");
    const w = await ws();
    const cwd = p.cwd == null ? w.realRoot : await confine(w, p.cwd, "cwd");
    const cwdStat = await stat(cwd).catch((e) => {
      throw fsFailure(e, `cwd ${p.cwd}`);
    });
    if (!cwdStat.isDirectory()) {
      throw new RpcFailure(ErrorCode.invalidParams, `cwd ${p.cwd} is not a folder`);
    }
    // Counted after the awaits above so concurrent creates cannot overshoot.
    if (closed) throw closedFailure();
    if (terminals.size >= maxTerminals) {
      throw new RpcFailure(
        ErrorCode.internal,
        `too many terminals (limit ${maxTerminals}); release some with terminal/release`,
      );
    }
    const env: Record<string, string | undefined> = { ...process.env };
    for (const v of p.env ?? []) env[v.name] = v.value;
    const command = [p.command, ...(p.args ?? [])];
    let proc: Subprocess<"ignore", "pipe", "pipe">;
    try {
      proc = Bun.spawn(command, {
        cwd,
        env,
        stdin: "ignore",
        stdout: "pipe",
        stderr: "pipe",
        detached: true, // own process group, so kill reaches its children too
      });
    } catch (e) {
      throw spawnFailure(p.command, e);
    }
    const output = new OutputBuffer(Math.min(p.outputByteLimit ?? outputCap, outputCap));
    const pumps = Promise.all([pump(proc.stdout, output), pump(proc.stderr, output)]);
    const t: Terminal = {
      proc,
      output,
      finished: proc.exited.then(async () => {
        await within(pumps, DRAIN_GRACE_MS);
        const signal = proc.signalCode;
        t.exit = { exitCode: proc.exitCode, signal: signal == null ? null : String(signal) };
        return t.exit;
      }),
    };
    const id = randomUUID();
    terminals.set(id, t);
    return { terminalId: id };
  }

  function spawnFailure(command: string, e: unknown): RpcFailure {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT") {
      return new RpcFailure(ErrorCode.invalidParams, `cannot run ${command}: command not found`);
    }
    if (code === "EACCES") {
      return new RpcFailure(ErrorCode.invalidParams, `cannot run ${command}: permission denied`);
    }
    return new RpcFailure(ErrorCode.internal, `cannot run ${command}: ${(e as Error).message}`);
  }

  /** SIGTERM now, SIGKILL after the grace; the group is killed even if its leader already exited. */
  function terminate(t: Terminal): Promise<unknown> {
    signalGroup(t.proc.pid, "SIGTERM");
    t.killTimer ??= setTimeout(() => signalGroup(t.proc.pid, "SIGKILL"), KILL_GRACE_MS);
    return within(t.finished, KILL_GRACE_MS + DRAIN_GRACE_MS + 500);
  }

  function lookup(params: unknown, method: string): [string, Terminal] {
    const { terminalId } = parse(TerminalParams, params, method);
    const t = terminals.get(terminalId);
    if (!t) {
      throw new RpcFailure(ErrorCode.resourceNotFound, `unknown terminal ${terminalId}`);
    }
    return [terminalId, t];
  }

  async function waitForExit(params: unknown): Promise<unknown> {
    const [id, t] = lookup(params, "terminal/wait_for_exit");
    const status = await within(t.finished, maxWaitMs);
    if (status === TIMED_OUT) {
      throw new RpcFailure(
        ErrorCode.internal,
        `terminal ${id} is still running after waiting ${maxWaitMs} ms`,
      );
    }
    return status;
  }

  const closedFailure = () => new RpcFailure(ErrorCode.internal, "the client service is closed");

  const handlers: Record<string, (params: unknown) => Promise<unknown>> = {
    "fs/read_text_file": readTextFile,
    "fs/write_text_file": writeTextFile,
    "terminal/create": createTerminal,
    "terminal/output": async (params) => {
      const [, t] = lookup(params, "terminal/output");
      const out = { output: t.output.text(), truncated: t.output.truncated };
      return t.exit ? { ...out, exitStatus: t.exit } : out;
    },
    "terminal/kill": async (params) => {
      const [, t] = lookup(params, "terminal/kill");
      await terminate(t); // also when the leader is gone: its background children may not be
      return {};
    },
    "terminal/release": async (params) => {
      const [id, t] = lookup(params, "terminal/release");
      terminals.delete(id); // invalid at once, even while the kill is under way
      await terminate(t);
      return {};
    },
  };

  return {
    async handle(method, params) {
      if (closed) throw closedFailure();
      if (method === "terminal/wait_for_exit") return waitForExit(params); // bounded by maxWaitMs
      const handler = handlers[method];
      if (!handler) throw new RpcFailure(ErrorCode.methodNotFound, `method ${method} not found`);
      const result = await within(handler(params), REQUEST_TIMEOUT_MS);
      if (result === TIMED_OUT) {
        throw new RpcFailure(
          ErrorCode.internal,
          `${method} did not finish within ${REQUEST_TIMEOUT_MS} ms`,
        );
      }
      return result;
    },
    close() {
      closed = true;
      for (const t of terminals.values()) void terminate(t);
      terminals.clear();
    },
  };
}
