/**
 * `switchboard-worker mux [--name NAME] [--history-bytes N] [--client-timeout-ms N] -- <agent…>`
 *
 * Stands in for the agent on stdio (the editor is the primary frontend) and opens a Unix socket
 * where more frontends join the same session.
 */
import { AgentProcess } from "../mux/agent-process.ts";
import { Mux } from "../mux/mux.ts";
import {
  listSessions,
  prepareSocketDir,
  removeSession,
  socketDir,
  socketPath,
  writeInfo,
  type SessionInfo,
} from "../mux/registry.ts";
import { serveSocket, type SocketServer } from "../mux/socket-server.ts";
import { parseArgs, UsageError } from "./args.ts";
import { readStdin, stdoutSink } from "./stdio.ts";

export const MUX_HELP = `Usage: switchboard-worker mux [options] -- <agent command…>

Runs an ACP agent for the editor on stdin/stdout and shares its session: other frontends join
with \`switchboard-worker attach\`. The socket path is printed to stderr.

  --name NAME             a name to attach by (unique among live sessions)
  --history-bytes N       bound of the replay history (default 134217728)
  --client-timeout-ms N   how long the editor gets to answer an fs/terminal call (default 120000)

Socket folder: $SWITCHBOARD_SOCKET_DIR, else \${XDG_RUNTIME_DIR:-\${TMPDIR:-/tmp}}/switchboard.`;

/** Time for the exit notices to reach the frontends before the process ends. */
const EXIT_NOTICE_MS = 100;

const log = (line: string) => process.stderr.write(`switchboard mux: ${line}\n`);

export async function runMux(argv: string[]): Promise<number> {
  const args = parseArgs(argv, ["name", "history-bytes", "client-timeout-ms"]);
  if (args.flags.has("help")) {
    console.log(MUX_HELP);
    return 0;
  }
  const command = args.rest.length > 0 ? args.rest : args.positional;
  if (command.length === 0) throw new UsageError("mux needs the agent command after --");
  const name =
    typeof args.flags.get("name") === "string" ? (args.flags.get("name") as string) : null;
  const historyBytes = positiveInt(args.flags.get("history-bytes"), "--history-bytes");
  const clientTimeoutMs = positiveInt(args.flags.get("client-timeout-ms"), "--client-timeout-ms");

  const dir = socketDir();
  prepareSocketDir(dir);
  if (name !== null && listSessions(dir).some((s) => s.name === name)) {
    throw new UsageError(`a live session is already named ${JSON.stringify(name)}`);
  }

  const info: SessionInfo = {
    pid: process.pid,
    name,
    socket: socketPath(dir, process.pid),
    command,
    cwd: process.cwd(),
    clients: 0,
    startedAt: new Date().toISOString(),
    sessionId: null,
  };
  let server: SocketServer | null = null;
  let cleaned = false;
  const cleanup = () => {
    if (cleaned) return;
    cleaned = true;
    server?.stop();
    removeSession(dir, process.pid);
  };
  process.on("exit", cleanup);

  let mux!: Mux;
  const agent = new AgentProcess({
    command,
    onOutput: (c) => mux.agentOutput(c),
    readGate: () => mux.roomForAgent(),
  });
  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    cleanup();
    mux.close();
    await agent.stop();
    process.exit(code);
  };
  mux = new Mux({
    agent,
    historyBytes,
    clientRequestTimeoutMs: clientTimeoutMs,
    log,
    onSession: (id) => {
      if (cleaned) return;
      info.sessionId = id;
      writeInfo(dir, info);
    },
    onFrontends: (count) => {
      if (cleaned) return;
      info.clients = count;
      writeInfo(dir, info);
      // The session lives while one frontend remains; after the last, the agent stops cleanly.
      if (count === 0) void stop(0);
    },
  });

  const primary = mux.attach(
    stdoutSink(() => primary.drain()),
    { name: "primary", primary: true },
  );
  primary.renameOnInitialize = (client) => `${client} (primary)`;
  readStdin(
    (c) => primary.receive(c),
    () => primary.closed(),
  );
  server = serveSocket(mux, info.socket);
  writeInfo(dir, info);
  log(`socket ${info.socket}`);

  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(sig, () => void stop(0));

  const exit = await agent.exited;
  if (!stopping) {
    stopping = true;
    log(`agent exited (${exit.signal ? `signal ${exit.signal}` : `code ${exit.code}`})`);
    // Tell every frontend (and end their connections) before the listener goes.
    mux.agentExited(exit);
    cleanup();
    await Bun.sleep(EXIT_NOTICE_MS);
    process.exit(exit.code ?? 1);
  }
  return 0;
}

function positiveInt(v: string | true | undefined, flag: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (typeof v !== "string" || !Number.isSafeInteger(n) || n <= 0) {
    throw new UsageError(`${flag} needs a positive whole number`);
  }
  return n;
}
