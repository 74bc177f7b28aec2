/**
 * `bun server.ts`: the Switchboard hub. Reads its configuration once, opens the data folder,
 * wires the hub and its local worker, and serves. `bun server.ts worker-key` prints a one-time
 * key for registering a remote worker.
 */
import { join } from "node:path";
import { parseArgs, UsageError } from "./src/cli/args.ts";
import { defaultDataDir, prepareDataDir } from "./src/hub/data-dir.ts";
import { createHub } from "./src/hub/hub.ts";
import { loadVapidKeys } from "./src/hub/push.ts";
import { issueSetupLink } from "./src/hub/auth/setup.ts";
import { createTicket } from "./src/hub/auth/tickets.ts";
import { openDatabase, SchemaTooNewError } from "./src/hub/store/db.ts";
import { ensureLocalWorker } from "./src/hub/store/workers.ts";
import { startLocalWorker } from "./src/worker/local.ts";

const HELP = `Usage: bun server.ts [options]        run the hub
       bun server.ts worker-key [--data DIR]   print a one-time worker registration key

  --port N          port to listen on (default 4800; env SWITCHBOARD_PORT; 0 picks a free one)
  --host H          address to listen on (default 127.0.0.1; env SWITCHBOARD_HOST)
  --data DIR        data folder (env SWITCHBOARD_DATA, else $XDG_DATA_HOME/switchboard)
  --public-url URL  the address browsers use, when behind a proxy (env SWITCHBOARD_PUBLIC_URL)
  --no-local-worker do not run agents on this machine
  --help, --version`;

const DEFAULT_PORT = 4800;
const KNOWN_FLAGS = new Set([
  "port",
  "host",
  "data",
  "public-url",
  "no-local-worker",
  "help",
  "version",
]);

async function main(argv: string[]): Promise<number> {
  const args = parseArgs(argv, ["port", "host", "data", "public-url"]);
  for (const f of args.flags.keys()) {
    if (!KNOWN_FLAGS.has(f)) throw new UsageError(`unknown option --${f} (see --help)`);
  }
  if (args.flags.has("help")) return (void console.log(HELP), 0);
  if (args.flags.has("version")) {
    const pkg = (await Bun.file(join(import.meta.dir, "package.json")).json()) as {
      version: string;
    };
    return (void console.log(pkg.version), 0);
  }
  const str = (flag: string, env: string | undefined) => {
    const v = args.flags.get(flag);
    return typeof v === "string" ? v : env;
  };
  const dataDir = str("data", undefined) ?? defaultDataDir();
  prepareDataDir(dataDir);
  const db = openDatabase(join(dataDir, "hub.db"));

  if (args.positional[0] === "worker-key") {
    const t = createTicket(db, "worker_key", null);
    console.log(t.token);
    console.error(`valid until ${new Date(t.expiresAt).toISOString()}; use it once with:`);
    console.error(`  switchboard-worker connect --hub <hub URL> --key ${t.token}`);
    db.close();
    return 0;
  }
  if (args.positional.length > 0) throw new UsageError(`unknown command ${args.positional[0]}`);

  const portText = str("port", process.env.SWITCHBOARD_PORT) ?? String(DEFAULT_PORT);
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new UsageError(`--port must be 0-65535, not ${portText}`);
  }
  const hostname = str("host", process.env.SWITCHBOARD_HOST) ?? "127.0.0.1";
  const publicUrl = str("public-url", process.env.SWITCHBOARD_PUBLIC_URL) ?? null;
  const publicOrigin = publicUrl ? new URL(publicUrl).origin : null;

  const hub = createHub({
    db,
    publicOrigin,
    webDir: join(import.meta.dir, "web", "dist"),
    vapid: loadVapidKeys(dataDir, publicOrigin),
    // The tests' fake push service is plain http on loopback; real push services are https.
    pushLoopbackHttp: process.env.SWITCHBOARD_PUSH_LOOPBACK_HTTP === "1",
  });
  const server = Bun.serve({ port, hostname, fetch: hub.fetch, websocket: hub.websocket });
  hub.bind(server);
  const shown = hostname === "0.0.0.0" || hostname === "::" ? "127.0.0.1" : hostname;
  const url = publicOrigin ?? `http://${shown.includes(":") ? `[${shown}]` : shown}:${server.port}`;
  const setup = issueSetupLink(db);
  // One write, so a reader that sees the URL line also has the setup line.
  console.log(
    [
      `Switchboard hub on ${url}`,
      ...(setup ? [`Create the owner account: ${url}${setup}`] : []),
    ].join("\n"),
  );

  const local = args.flags.has("no-local-worker")
    ? null
    : await startLocalWorker({
        hubUrl: `http://127.0.0.1:${server.port}`,
        dataDir: join(dataDir, "local-worker"),
        credential: ensureLocalWorker(db),
      });

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.error(`switchboard hub: ${signal}, stopping`);
    await local?.stop();
    hub.stop();
    await server.stop(true);
    db.close();
    process.exit(0);
  };
  for (const s of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(s, () => void stop(s));
  return -1;
}

main(Bun.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (err: unknown) => {
    if (err instanceof UsageError || err instanceof SchemaTooNewError) {
      console.error(`switchboard hub: ${err.message}`);
      process.exit(2);
    }
    console.error(`switchboard hub: ${(err as Error).stack ?? err}`);
    process.exit(1);
  },
);
