/**
 * Test frontends: official ACP SDK clients on real transports (a child's stdio, a Unix socket),
 * recording everything they receive, plus a raw line client for malformed input.
 */
import * as acp from "@agentclientprotocol/sdk";
import { join } from "node:path";

export const ROOT = join(import.meta.dir, "..", "..");
export const BUN = process.execPath;
export const WORKER = join(ROOT, "worker.ts");
export const FAKE_AGENT = [BUN, join(ROOT, "src", "testing", "fake-agent.ts")];
/** The SDK's own default is 32 MiB; our tests send 64 MiB image prompts. */
const MAX_MESSAGE_BYTES = 256 * 1024 * 1024;

export type PermissionPolicy =
  { kind: "select"; optionId: string; delayMs?: number } | { kind: "error" } | { kind: "never" };

export interface Recorded {
  updates: acp.SessionNotification[];
  ext: { method: string; params: unknown }[];
  permissions: { params: acp.RequestPermissionRequest; settled: string }[];
}

export interface TestClient extends Recorded {
  conn: acp.ClientConnection;
  name: string;
  /** Resolves when `pred` holds for the recorded state (checked on every message). */
  until(pred: (c: TestClient) => boolean, what: string, timeoutMs?: number): Promise<void>;
  texts(kind?: string): string[];
  close(): Promise<void>;
}

function writableFromSink(
  write: (c: Uint8Array) => void,
  end: () => void,
): WritableStream<Uint8Array> {
  return new WritableStream({ write, close: end, abort: end });
}

export interface ClientOptions {
  name: string;
  permission?: PermissionPolicy;
  fs?: {
    read?: (path: string) => string | Promise<string>;
    write?: (path: string, content: string) => void;
  };
}

function buildClient(opts: ClientOptions, rec: Recorded, notify: () => void): acp.ClientApp {
  const app = acp
    .client({ name: opts.name })
    .onNotification("session/update", ({ params }) => {
      rec.updates.push(params);
      notify();
    })
    .onNotification("*", ({ method, params }) => {
      rec.ext.push({ method, params });
      notify();
    })
    .onRequest("session/request_permission", async ({ params, signal }) => {
      const entry = { params, settled: "pending" };
      rec.permissions.push(entry);
      notify();
      const policy = opts.permission ?? { kind: "never" };
      if (policy.kind === "error") {
        entry.settled = "error";
        throw acp.RequestError.methodNotFound("session/request_permission");
      }
      return await new Promise<acp.RequestPermissionResponse>((resolve, reject) => {
        signal.addEventListener("abort", () => {
          entry.settled = "withdrawn";
          notify();
          reject(signal.reason);
        });
        if (policy.kind === "select") {
          setTimeout(() => {
            if (signal.aborted) return;
            entry.settled = `selected ${policy.optionId}`;
            resolve({ outcome: { outcome: "selected", optionId: policy.optionId } });
            notify();
          }, policy.delayMs ?? 0);
        }
      });
    });
  if (opts.fs?.read) {
    const read = opts.fs.read;
    app.onRequest("fs/read_text_file", async ({ params }) => ({
      content: await read(params.path),
    }));
  }
  if (opts.fs?.write) {
    const write = opts.fs.write;
    app.onRequest("fs/write_text_file", ({ params }) => {
      write(params.path, params.content);
      return {};
    });
  }
  return app;
}

function makeClient(
  opts: ClientOptions,
  stream: acp.Stream,
  onClose: () => Promise<void>,
): TestClient {
  const waiters = new Set<() => void>();
  const rec: Recorded = { updates: [], ext: [], permissions: [] };
  const notify = () => {
    for (const w of [...waiters]) w();
  };
  const conn = buildClient(opts, rec, notify).connect(stream);
  const client: TestClient = {
    ...rec,
    conn,
    name: opts.name,
    until(pred, what, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (pred(client)) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve();
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`${opts.name}: timed out waiting for ${what}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    texts(kind = "agent_message_chunk") {
      return rec.updates
        .filter((u) => u.update.sessionUpdate === kind)
        .map((u) => {
          const c = (u.update as { content?: { type: string; text?: string } }).content;
          return c?.type === "text" ? (c.text ?? "") : `[${c?.type}]`;
        });
    },
    close: onClose,
  };
  return client;
}

/** Starts `worker.ts <args>` (or any command) and talks ACP to it over its stdio. */
export function spawnClient(
  command: string[],
  opts: ClientOptions & { env?: Record<string, string | undefined>; cwd?: string },
): TestClient & {
  proc: Bun.Subprocess<"pipe", "pipe", "pipe">;
  stderr: () => string;
  /** Closes its stdin (the frontend leaves) without waiting for the process. */
  leave: () => Promise<void>;
} {
  const proc = Bun.spawn({
    cmd: command,
    cwd: opts.cwd,
    env: { ...process.env, ...opts.env },
    stdin: "pipe",
    stdout: "pipe",
    stderr: "pipe",
  });
  let stderr = "";
  void (async () => {
    for await (const c of proc.stderr) stderr += new TextDecoder().decode(c);
  })();
  const writable = writableFromSink(
    (c) => {
      proc.stdin.write(c);
      void proc.stdin.flush();
    },
    () => void proc.stdin.end(),
  );
  const stream = acp.ndJsonStream(writable, proc.stdout, { maxMessageBytes: MAX_MESSAGE_BYTES });
  const client = makeClient(opts, stream, async () => {
    try {
      await proc.stdin.end();
    } catch {
      // Already closed by the process.
    }
    await Promise.race([proc.exited, Bun.sleep(5_000)]);
    proc.kill("SIGKILL");
  });
  const leave = async () => {
    try {
      await proc.stdin.end();
    } catch {
      // Already closed by the process.
    }
  };
  return Object.assign(client, { proc, stderr: () => stderr, leave });
}

/** Connects an SDK client straight to a session's Unix socket. */
export async function socketClient(path: string, opts: ClientOptions): Promise<TestClient> {
  const { readable, controller } = readableWithController();
  let closed = Promise.withResolvers<void>();
  const sock = await Bun.connect({
    unix: path,
    socket: {
      data: (_s, c) => controller.enqueue(new Uint8Array(c)),
      close: () => {
        try {
          controller.close();
        } catch {
          // Already closed.
        }
        closed.resolve();
      },
      error: () => closed.resolve(),
    },
  });
  const writable = writableFromSink(
    (c) => void sock.write(c),
    () => sock.end(),
  );
  const stream = acp.ndJsonStream(writable, readable, { maxMessageBytes: MAX_MESSAGE_BYTES });
  return makeClient(opts, stream, async () => {
    sock.end();
    await Promise.race([closed.promise, Bun.sleep(2_000)]);
  });
}

function readableWithController() {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const readable = new ReadableStream<Uint8Array>({ start: (c) => void (controller = c) });
  return { readable, controller };
}

/** A raw line client on a socket: for bytes no SDK would send. */
export async function rawSocket(path: string) {
  const lines: string[] = [];
  let buf = "";
  const waiters = new Set<() => void>();
  const sock = await Bun.connect({
    unix: path,
    socket: {
      data(_s, c) {
        buf += new TextDecoder().decode(c);
        let i: number;
        while ((i = buf.indexOf("\n")) !== -1) {
          lines.push(buf.slice(0, i));
          buf = buf.slice(i + 1);
        }
        for (const w of [...waiters]) w();
      },
    },
  });
  return {
    lines,
    sock,
    send(text: string) {
      sock.write(text);
    },
    async until(pred: (lines: string[]) => boolean, what: string, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      while (!pred(lines)) {
        if (Date.now() > deadline) throw new Error(`raw client: timed out waiting for ${what}`);
        await new Promise<void>((r) => {
          waiters.add(r);
          setTimeout(r, 50);
        });
      }
    },
    close: () => sock.end(),
  };
}

/** Waits for the mux's stderr to name its socket. */
export async function socketOf(c: { stderr: () => string }, timeoutMs = 20_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const m = /socket (\S+\.sock)/.exec(c.stderr());
    if (m) return m[1]!;
    if (Date.now() > deadline) throw new Error(`no socket path on stderr: ${c.stderr()}`);
    await Bun.sleep(20);
  }
}
