/**
 * `switchboard-worker connect --hub URL [--key KEY]`: registers this machine with the hub once
 * (the key is one-time; the long-lived credential it buys is kept in the data folder), then
 * keeps a link to the hub, dialling again by itself after any loss.
 */
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { homedir, hostname } from "node:os";
import { join } from "node:path";
import { WorkerService } from "../gen/switchboard/v1/worker_pb.ts";
import { prepareDataDir } from "../hub/data-dir.ts";
import { WORKER_VERSION } from "../worker/version.ts";
import { startWorker } from "../worker/worker.ts";
import { parseArgs, UsageError } from "./args.ts";

export const CONNECT_HELP = `Usage: switchboard-worker connect --hub URL [--key KEY] [options]

Links this machine to a Switchboard hub (outbound only, so it works behind NAT) and runs the
agents the hub asks for. The first time, give the one-time registration key from the app or
\`bun server.ts worker-key\`; the credential it earns is kept in the data folder, and later
runs need only --hub (or nothing: the last hub is remembered).

  --hub URL         the hub's address (http:// or https://)
  --key KEY         a one-time registration key
  --name NAME       how the hub lists this worker (default: the host name)
  --data DIR        data folder (env SWITCHBOARD_WORKER_DATA, else $XDG_DATA_HOME/switchboard-worker)
  --catalog FILE    agent catalog (default <data>/catalog.json; env SWITCHBOARD_CATALOG)`;

interface Credential {
  hub: string;
  workerId: string;
  credential: string;
}

export async function runConnect(argv: string[]): Promise<number> {
  const args = parseArgs(argv, ["hub", "key", "name", "data", "catalog"]);
  if (args.flags.has("help")) return (void console.log(CONNECT_HELP), 0);
  const flag = (f: string) => {
    const v = args.flags.get(f);
    if (v === true) throw new UsageError(`--${f} needs a value`);
    return v;
  };
  const dataDir =
    flag("data") ??
    process.env.SWITCHBOARD_WORKER_DATA ??
    join(process.env.XDG_DATA_HOME || join(homedir(), ".local", "share"), "switchboard-worker");
  prepareDataDir(dataDir);
  const file = join(dataDir, "credential.json");
  let hub = flag("hub");
  if (hub !== undefined && !/^https?:\/\/[^/]+/.test(hub))
    throw new UsageError("--hub must be an http(s) URL");
  hub = hub?.replace(/\/+$/, "");
  const key = flag("key");

  let cred: Credential | null = existsSync(file)
    ? (JSON.parse(readFileSync(file, "utf8")) as Credential)
    : null;
  if (key !== undefined) {
    if (!hub) throw new UsageError("registering needs --hub");
    const client = createClient(WorkerService, createConnectTransport({ baseUrl: `${hub}/api` }));
    const r = await client.registerWorker({
      key,
      name: flag("name") ?? hostname(),
      hostname: hostname(),
      version: WORKER_VERSION,
    });
    cred = { hub, workerId: r.workerId, credential: r.credential };
    const tmp = `${file}.tmp`;
    writeFileSync(tmp, JSON.stringify(cred), { mode: 0o600 });
    renameSync(tmp, file);
    console.error(`switchboard worker: registered as ${r.workerId}`);
  }
  if (!cred) throw new UsageError("not registered yet: give --key (a one-time key from the hub)");
  if (hub && hub !== cred.hub) {
    throw new UsageError(`registered with ${cred.hub}; register again with --key to use ${hub}`);
  }

  const worker = await startWorker({
    hubUrl: cred.hub,
    dataDir,
    credential: cred.credential,
    catalogPath: flag("catalog"),
    onState: (state) => {
      if (state === "online") console.error(`switchboard worker: connected to ${cred.hub}`);
    },
  });
  await new Promise<void>((resolve) => {
    for (const s of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.once(s, () => resolve());
  });
  await worker.stop();
  return 0;
}
