/**
 * A running worker: its data folder, outbox, catalog, agents and link. The hub runs one in
 * its own process (agents on the hub's machine with no second process), the same as a
 * remote one: it dials /link over loopback with its credential and keeps its own outbox.
 */
import { hostname } from "node:os";
import { join } from "node:path";
import { prepareDataDir } from "../hub/data-dir.ts";
import { AgentStore } from "./agent-store.ts";
import { loadCatalog } from "./catalog.ts";
import { AgentHost } from "./host.ts";
import { WorkerLink } from "./link.ts";
import { Outbox } from "./outbox.ts";
import { openWorkerDb } from "./worker-db.ts";
import { WORKER_VERSION } from "./version.ts";

export interface WorkerRunOptions {
  hubUrl: string;
  dataDir: string;
  credential: string;
  /** The catalog file; default `<dataDir>/catalog.json`. */
  catalogPath?: string;
  log?: (line: string) => void;
  onState?: (state: "connecting" | "online" | "offline") => void;
}

export interface RunningWorker {
  link: WorkerLink;
  host: AgentHost;
  stop(): Promise<void>;
}

/** Opens the worker's data folder and outbox, loads its catalog, and dials the hub. */
export async function startWorker(opts: WorkerRunOptions): Promise<RunningWorker> {
  const log = opts.log ?? ((line: string) => console.error(`switchboard worker: ${line}`));
  prepareDataDir(opts.dataDir);
  const db = openWorkerDb(join(opts.dataDir, "worker.db"));
  const outbox = new Outbox(db);
  const catalog = loadCatalog(
    opts.catalogPath ?? process.env.SWITCHBOARD_CATALOG ?? join(opts.dataDir, "catalog.json"),
  );
  const host = new AgentHost({ outbox, store: new AgentStore(db), catalog, log });
  const link = new WorkerLink({
    hubUrl: opts.hubUrl,
    credential: opts.credential,
    outbox,
    hello: () => ({
      version: WORKER_VERSION,
      hostname: hostname(),
      catalog: catalog.map((e) => ({
        id: e.id,
        name: e.name,
        kind: e.kind,
        description: e.description,
      })),
      runningAgentIds: host.runningIds,
    }),
    onCommand: (cmd) => host.handle(cmd),
    onWelcome: (w) => host.welcome(w),
    onState: opts.onState,
    log,
  });
  link.start();
  return {
    link,
    host,
    async stop() {
      await host.shutdown();
      link.stop();
      outbox.close();
      db.close();
    },
  };
}
