/** WorkerService: registration keys, registration, listing and revocation of workers. */
import type { Database } from "bun:sqlite";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import { WorkerSchema, type WorkerService } from "../../gen/switchboard/v1/worker_pb.ts";
import { CLIENT_ADDRESS, ownerOf } from "../caller.ts";
import { TICKET_LIMIT, type RateLimiter } from "../auth/rate-limit.ts";
import { createTicket, spendTicket } from "../auth/tickets.ts";
import type { HubDeps } from "../deps.ts";
import { ownersOfHub } from "../rights.ts";
import { createWorker } from "../store/workers.ts";
import { text } from "./validate.ts";

export function workerService(
  deps: HubDeps,
  limiter: RateLimiter,
): ServiceImpl<typeof WorkerService> {
  const { db, link } = deps;
  return {
    listWorkers(_req, ctx) {
      ownerOf(ctx);
      return { workers: listWorkers(db, (id) => link.online(id)) };
    },
    createWorkerKey(_req, ctx) {
      const c = ownerOf(ctx);
      const t = createTicket(db, "worker_key", c.userId, deps.now());
      return { key: t.token, expiresAtMs: t.expiresAt };
    },
    revokeWorker(req, ctx) {
      ownerOf(ctx);
      const r = db
        .query(
          "UPDATE workers SET revoked_at = ? WHERE id = ? AND is_local = 0 AND revoked_at IS NULL",
        )
        .run(deps.now(), req.workerId);
      if (r.changes === 0)
        throw new ConnectError("no such worker (or it is this hub's own)", Code.NotFound);
      link.revoke(req.workerId);
      deps.live.changed("workers", "", ownersOfHub(db));
      return {};
    },
    registerWorker(req, ctx) {
      limiter.take(`worker-key:${ctx.values.get(CLIENT_ADDRESS)}`, TICKET_LIMIT);
      const name = text(req.name || req.hostname || "worker", "name", 64);
      const t = spendTicket(db, "worker_key", req.key, deps.now());
      if (!t)
        throw new ConnectError(
          "this registration key is unknown, used or expired",
          Code.Unauthenticated,
        );
      const w = createWorker(
        db,
        name,
        text(req.hostname, "hostname", 200, true),
        text(req.version, "version", 50, true),
        deps.now(),
      );
      deps.log(`worker ${w.id} registered as ${JSON.stringify(name)}`);
      deps.live.changed("workers", "", ownersOfHub(db));
      return { workerId: w.id, credential: w.credential };
    },
  };
}

export function listWorkers(db: Database, online: (id: string) => boolean) {
  const rows = db
    .query(
      `SELECT id, name, hostname, version, is_local AS isLocal, created_at AS createdAt, last_seen_at AS lastSeen
       FROM workers WHERE revoked_at IS NULL ORDER BY is_local DESC, created_at`,
    )
    .all() as {
    id: string;
    name: string;
    hostname: string;
    version: string;
    isLocal: number;
    createdAt: number;
    lastSeen: number;
  }[];
  return rows.map((r) =>
    create(WorkerSchema, {
      id: r.id,
      name: r.name,
      online: online(r.id),
      hostname: r.hostname,
      version: r.version,
      createdAtMs: r.createdAt,
      lastSeenMs: r.lastSeen,
      local: r.isLocal === 1,
    }),
  );
}
