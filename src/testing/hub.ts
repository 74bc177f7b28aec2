/**
 * Test helpers for the hub: run the real `bun server.ts` process on a temporary data folder,
 * call its Connect API as a browser would (with a cookie jar), and follow its live socket.
 */
import {
  create,
  fromBinary,
  toBinary,
  type DescService,
  type MessageInitShape,
} from "@bufbuild/protobuf";
import { createClient, type Client } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import { join } from "node:path";
import { inflateRawSync } from "node:zlib";
import {
  ClientFrameSchema,
  EventBatchSchema,
  ServerFrameSchema,
  type ServerFrame,
} from "../gen/switchboard/v1/live_pb.ts";
import { AgentService } from "../gen/switchboard/v1/agent_pb.ts";
import { AuthService } from "../gen/switchboard/v1/auth_pb.ts";
import type { AgentKind, Event, EventSchema } from "../gen/switchboard/v1/common_pb.ts";
import { WorkerService } from "../gen/switchboard/v1/worker_pb.ts";
import { WorkspaceService } from "../gen/switchboard/v1/workspace_pb.ts";
import { HubFrameSchema, WorkerFrameSchema, type Command } from "../gen/switchboard/v1/link_pb.ts";
import { MAX_INFLATED_BYTES } from "../hub/live.ts";
import { BUN, ROOT } from "./clients.ts";
import { tempDir } from "./harness.ts";

export const SERVER = join(ROOT, "server.ts");

export interface HubRun {
  url: string;
  port: number;
  dataDir: string;
  /** The socket folder its local worker's agents are attachable in. */
  socketDir: string;
  /** The setup link's token when the hub printed one. */
  setupToken: string | null;
  proc: Bun.Subprocess<"ignore", "pipe", "pipe">;
  stdout(): string;
  stderr(): string;
  /** SIGTERM and wait. */
  stop(): Promise<number>;
  /** SIGKILL and wait. */
  kill(): Promise<number>;
}

export interface HubRunOptions {
  dataDir?: string;
  port?: number;
  args?: string[];
  env?: Record<string, string | undefined>;
  timeoutMs?: number;
}

/** Starts `bun server.ts` and waits for it to print its URL (and setup link, if any). */
export async function startHub(opts: HubRunOptions = {}): Promise<HubRun> {
  const dataDir = opts.dataDir ?? tempDir("hub");
  // Agents are attachable from editors: in a folder of the test's own, not the user's.
  const socketDir = opts.env?.SWITCHBOARD_SOCKET_DIR ?? tempDir("hub-sock");
  const proc = Bun.spawn({
    cmd: [BUN, SERVER, "--port", String(opts.port ?? 0), "--data", dataDir, ...(opts.args ?? [])],
    env: { ...process.env, ...opts.env, SWITCHBOARD_SOCKET_DIR: socketDir },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  let out = "";
  let err = "";
  void (async () => {
    for await (const c of proc.stderr.pipeThrough(new TextDecoderStream())) err += c;
  })();
  const reader = proc.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const deadline = Date.now() + (opts.timeoutMs ?? 20_000);
  let url: string | null = null;
  let setupToken: string | null = null;
  const pump = (async () => {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      out += value;
    }
  })();
  while (Date.now() < deadline) {
    const m = /Switchboard hub on (\S+)\n/.exec(out);
    if (m) {
      url = m[1]!;
      // The setup line comes in the same write as the URL line.
      const s = /\/setup#([A-Za-z0-9_-]+)\n/.exec(out);
      setupToken = s ? s[1]! : null;
      break;
    }
    if (proc.exitCode !== null) break;
    await Bun.sleep(10);
  }
  void pump;
  if (!url) {
    proc.kill("SIGKILL");
    throw new Error(`hub did not start:\n${out}\n${err}`);
  }
  const port = Number(new URL(url).port);
  return {
    url,
    port,
    dataDir,
    socketDir,
    setupToken,
    proc,
    stdout: () => out,
    stderr: () => err,
    stop: async () => (proc.kill("SIGTERM"), await proc.exited),
    kill: async () => (proc.kill("SIGKILL"), await proc.exited),
  };
}

/** Cookies as a browser keeps them for one origin (enough for the hub's one cookie). */
export class CookieJar {
  readonly cookies = new Map<string, string>();
  header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
  }
  take(res: Response): void {
    for (const sc of res.headers.getSetCookie()) {
      const [pair] = sc.split(";");
      const eq = pair!.indexOf("=");
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      if (/max-age=0/i.test(sc) || value === "") this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }
}

/** A browser-like session: its cookie jar and typed clients of the hub's services. */
export function browser(url: string, opts: { origin?: string } = {}) {
  const jar = new CookieJar();
  const transport = createConnectTransport({
    baseUrl: `${url}/api`,
    useBinaryFormat: true,
    fetch: (async (input: string | URL | Request, init?: RequestInit) => {
      const headers = new Headers(init?.headers);
      const cookie = jar.header();
      if (cookie) headers.set("cookie", cookie);
      headers.set("origin", opts.origin ?? url);
      const res = await fetch(input, { ...init, headers });
      jar.take(res);
      return res;
    }) as typeof fetch,
  });
  return {
    jar,
    client<S extends DescService>(service: S): Client<S> {
      return createClient(service, transport);
    },
  };
}

/** Close code for a frame the client cannot read (as the web app's LiveClient). */
const CLOSE_BAD_FRAME = 4007;

/**
 * A live socket as the web app opens it, recording every frame. A deflated_events frame is
 * inflated and recorded as the `events` frame it carries; `wire` keeps the case each frame had
 * as sent. One that does not inflate to an EventBatch closes the socket (CLOSE_BAD_FRAME).
 */
export async function liveSocket(url: string, jar: CookieJar, opts: { origin?: string } = {}) {
  const ws = new WebSocket(`${url.replace(/^http/, "ws")}/live`, {
    headers: { cookie: jar.header(), origin: opts.origin ?? url },
  } as unknown as string[]);
  ws.binaryType = "arraybuffer";
  const frames: ServerFrame[] = [];
  const wire: ServerFrame["frame"]["case"][] = [];
  let closed: { code: number; reason: string } | null = null;
  ws.onmessage = (m) => {
    const f = fromBinary(ServerFrameSchema, new Uint8Array(m.data as ArrayBuffer));
    wire.push(f.frame.case);
    if (f.frame.case !== "deflatedEvents") return void frames.push(f);
    try {
      const raw = inflateRawSync(f.frame.value, { maxOutputLength: MAX_INFLATED_BYTES });
      const batch = fromBinary(EventBatchSchema, raw);
      frames.push(create(ServerFrameSchema, { frame: { case: "events", value: batch } }));
    } catch (e) {
      ws.close(CLOSE_BAD_FRAME, `unreadable deflated frame: ${(e as Error).message}`);
    }
  };
  ws.onclose = (e) => void (closed = { code: e.code, reason: e.reason });
  await new Promise<void>((resolve, reject) => {
    ws.onopen = () => resolve();
    ws.onerror = () => reject(new Error("live socket refused"));
  });
  const send = (frame: Parameters<typeof create<typeof ClientFrameSchema>>[1]) =>
    ws.send(toBinary(ClientFrameSchema, create(ClientFrameSchema, frame)));
  let pings = 0;
  return {
    ws,
    frames,
    wire,
    closed: () => closed,
    subscribe: (streamId: string, afterSeq = 0) =>
      send({ frame: { case: "subscribe", value: { streamId, afterSeq } } }),
    /** Says which stream the page shows and whether it is visible (none: ""). */
    /** The streams shown: `streamId` and `more` (other panes). */
    viewing: (streamId: string, visible: boolean, more: string[] = []) =>
      send({ frame: { case: "viewing", value: { streamId, visible, streamIds: more } } }),
    /**
     * Resolves when the hub has handled every frame sent before (frames of one socket are
     * handled in order, and a ping is answered at once).
     */
    async settled(): Promise<void> {
      const nonce = ++pings;
      send({ frame: { case: "ping", value: { nonce } } });
      await until(
        () => frames.some((f) => f.frame.case === "pong" && f.frame.value.nonce === nonce),
        10_000,
        "pong",
      );
    },
    /** Types into a terminal stream. */
    input: (streamId: string, text: string) =>
      send({ frame: { case: "input", value: { streamId, data: new TextEncoder().encode(text) } } }),
    /** Every event received for a stream, in arrival order. */
    events(streamId: string): Event[] {
      return frames.flatMap((f) =>
        f.frame.case === "events" && f.frame.value.streamId === streamId
          ? f.frame.value.events
          : [],
      );
    },
    close: () => ws.close(),
  };
}

/** Polls until `pred` holds (or throws after `timeoutMs`), returning its truthy value. */
export async function until<T>(
  pred: () => T | Promise<T>,
  timeoutMs = 10_000,
  what = "condition",
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await pred();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(10);
  }
}

/** A worker driven by hand over /link: answers every command with success, records acks. */
export async function rawWorker(url: string, credential: string) {
  const ws = new WebSocket(`${url.replace(/^http/, "ws")}/link`, {
    headers: { authorization: `Bearer ${credential}` },
  } as unknown as string[]);
  ws.binaryType = "arraybuffer";
  let closed: { code: number; reason: string } | null = null;
  const acks: number[] = [];
  const commands: Command[] = [];
  const send = (f: Parameters<typeof create<typeof WorkerFrameSchema>>[1]) =>
    ws.send(toBinary(WorkerFrameSchema, create(WorkerFrameSchema, f)));
  ws.onclose = (e) => void (closed = { code: e.code, reason: e.reason });
  ws.onmessage = (m) => {
    const f = fromBinary(HubFrameSchema, new Uint8Array(m.data as ArrayBuffer)).frame;
    if (f.case === "ack") acks.push(f.value.seq);
    if (f.case === "command") {
      commands.push(f.value);
      send({ frame: { case: "reply", value: { commandId: f.value.id } } });
    }
  };
  await new Promise((r) => (ws.onopen = r));
  return {
    ws,
    acks,
    commands,
    send,
    hello: () => send({ frame: { case: "hello", value: { version: "t", hostname: "h" } } }),
    events: (streamId: string, events: MessageInitShape<typeof EventSchema>[]) =>
      send({ frame: { case: "events", value: { streamId, events } } }),
    closed: () => closed,
  };
}

/** A `connect` worker process (source or compiled), its stderr kept; stop() ends it. */
export function connectWorker(
  launcher: string[],
  args: string[],
  env: Record<string, string> = {},
) {
  const proc = Bun.spawn({
    cmd: [...launcher, "connect", ...args],
    // Its agents are attachable from editors: in a folder of the test's own, not the user's.
    env: { ...process.env, SWITCHBOARD_SOCKET_DIR: tempDir("worker-sock"), ...env },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  let err = "";
  void (async () => {
    for await (const c of proc.stderr.pipeThrough(new TextDecoderStream())) err += c;
  })();
  return {
    proc,
    stderr: () => err,
    /** How many times it said it was connected. */
    connections: () => err.split("connected to").length - 1,
    stop: async () => (proc.kill("SIGTERM"), await proc.exited),
  };
}

/**
 * A hub without a worker of its own, its owner set up, and a hand-driven worker (rawWorker)
 * online with one workspace: for tests that write a stream's events themselves. `agents` starts
 * agents of that kind and command (the raw worker never runs them) and returns their streams.
 */
export async function hubWithRawWorker() {
  const hub = await startHub({ args: ["--no-local-worker"] });
  const b = browser(hub.url);
  await b
    .client(AuthService)
    .setup({ token: hub.setupToken!, name: "ada", password: "long enough pw" });
  const { key } = await b.client(WorkerService).createWorkerKey({});
  const { credential, workerId } = await b.client(WorkerService).registerWorker({ key });
  const worker = await rawWorker(hub.url, credential);
  worker.hello();
  await until(
    async () => (await b.client(WorkerService).listWorkers({})).workers[0]?.online,
    5_000,
    "online",
  );
  const { workspace } = await b
    .client(WorkspaceService)
    .createWorkspace({ name: "t", workerId, path: tempDir("ws") });
  const agents = async (n: number, kind: AgentKind, command: string[]): Promise<string[]> => {
    const streams: string[] = [];
    for (let i = 0; i < n; i++) {
      const { agent } = await b
        .client(AgentService)
        .startAgent({ workspaceId: workspace!.id, kind, command });
      streams.push(agent!.streamId);
    }
    return streams;
  };
  return { hub, b, worker, agents };
}
