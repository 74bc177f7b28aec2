/**
 * A benchmark reader process: holds many socket frontends of a mux and counts what they get.
 *
 * Driven by bench/mux.ts over stdin/stdout, one JSON command or event per line. `join` opens
 * `conns` connections to a mux socket; each sends initialize and session/new at once and then
 * counts flood updates (bench/scan.ts): in order, lossless, with delivery latency. The process
 * exits when its stdin ends, so a driver that dies takes its readers with it.
 */
import { FloodScanner, LatencyHist, wallNow, type SparseHist } from "./scan.ts";
import { readCommands } from "./report.ts";

export type ReaderCommand =
  | {
      op: "join";
      tag: string;
      socket: string;
      cwd: string;
      conns: number;
      /** Flood updates each connection must get. */
      n: number;
    }
  | { op: "leave"; tag: string };

export interface FrontendTimes {
  name: string;
  firstAt: number;
  lastAt: number;
  count: number;
}

export type ReaderEvent =
  | { op: "ready"; tag: string }
  | {
      op: "done";
      tag: string;
      /** Wall time just before the first connect. */
      startedAt: number;
      frontends: FrontendTimes[];
      hist: SparseHist;
    }
  /** `late`: what went wrong after the group was done (an extra or duplicate update). */
  | { op: "left"; tag: string; late: string[] }
  | { op: "error"; tag: string; message: string };

interface Conn {
  sock: Bun.Socket<undefined> | null;
  scanner: FloodScanner;
  ready: boolean;
  leaving: boolean;
}

interface Group {
  tag: string;
  conns: Conn[];
  hist: LatencyHist;
  startedAt: number;
  ready: number;
  done: number;
  finished: boolean;
}

const groups = new Map<string, Group>();

function emit(ev: ReaderEvent): void {
  process.stdout.write(JSON.stringify(ev) + "\n");
}

function fail(g: Group, message: string): void {
  if (g.finished) return;
  g.finished = true;
  emit({ op: "error", tag: g.tag, message });
}

const INIT =
  JSON.stringify({
    jsonrpc: "2.0",
    id: 1,
    method: "initialize",
    params: {
      protocolVersion: 1,
      clientCapabilities: {},
      clientInfo: { name: "bench", version: "1" },
    },
  }) + "\n";

async function join(cmd: Extract<ReaderCommand, { op: "join" }>): Promise<void> {
  const g: Group = {
    tag: cmd.tag,
    conns: [],
    hist: new LatencyHist(),
    startedAt: wallNow(),
    ready: 0,
    done: 0,
    finished: false,
  };
  groups.set(cmd.tag, g);
  const hello =
    INIT +
    JSON.stringify({
      jsonrpc: "2.0",
      id: 2,
      method: "session/new",
      params: { cwd: cmd.cwd, mcpServers: [] },
    }) +
    "\n";
  const connect = async (i: number): Promise<void> => {
    const conn: Conn = {
      sock: null,
      ready: false,
      leaving: false,
      scanner: new FloodScanner(`${cmd.tag}/socket#${i}`, cmd.n, g.hist, {
        other(line) {
          let msg: { id?: unknown; result?: unknown; error?: { message?: string } };
          try {
            msg = JSON.parse(line) as typeof msg;
          } catch {
            return fail(g, `${conn.scanner.name}: unparsable line ${line.slice(0, 200)}`);
          }
          if (msg.error && (msg.id === 1 || msg.id === 2)) {
            return fail(g, `${conn.scanner.name}: request ${msg.id} failed: ${msg.error.message}`);
          }
          if (msg.id === 2 && msg.result && !conn.ready) {
            conn.ready = true;
            if (++g.ready === cmd.conns && !g.finished) emit({ op: "ready", tag: g.tag });
          }
        },
        done() {
          if (++g.done < cmd.conns || g.finished) return;
          g.finished = true;
          emit({
            op: "done",
            tag: g.tag,
            startedAt: g.startedAt,
            frontends: g.conns.map((c) => ({
              name: c.scanner.name,
              firstAt: c.scanner.firstAt,
              lastAt: c.scanner.lastAt,
              count: c.scanner.next,
            })),
            hist: g.hist.toJSON(),
          });
        },
        error: (message) => fail(g, message),
      }),
    };
    g.conns.push(conn);
    conn.sock = await Bun.connect({
      unix: cmd.socket,
      socket: {
        data(_s, chunk) {
          conn.scanner.push(chunk.toString("latin1"), wallNow());
        },
        close() {
          if (!conn.leaving)
            fail(
              g,
              `${conn.scanner.name}: the mux closed the connection (${conn.scanner.next} updates in)`,
            );
        },
        error(_s, e) {
          if (!conn.leaving) fail(g, `${conn.scanner.name}: socket error ${e.message}`);
        },
      },
    });
    conn.sock.write(hello);
  };
  try {
    await Promise.all(Array.from({ length: cmd.conns }, (_, i) => connect(i)));
  } catch (e) {
    fail(g, `cannot connect to ${cmd.socket}: ${(e as Error).message}`);
  }
}

function leave(tag: string): void {
  const g = groups.get(tag);
  groups.delete(tag);
  const late: string[] = [];
  if (g) {
    g.finished = true;
    for (const c of g.conns) {
      c.leaving = true;
      c.sock?.end();
      if (c.scanner.failed !== null) late.push(c.scanner.failed);
    }
  }
  emit({ op: "left", tag, late });
}

async function main(): Promise<void> {
  await readCommands<ReaderCommand>((cmd) => {
    if (cmd.op === "join") void join(cmd);
    else leave(cmd.tag);
  });
  // The driver is gone: so are we.
  process.exit(0);
}

if (import.meta.main) void main();
