/** WorkspaceService: named folders on workers, their shares, and each user's pane layout. */
import type { Database } from "bun:sqlite";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import { Role } from "../../gen/switchboard/v1/common_pb.ts";
import {
  ShareSchema,
  WorkspaceSchema,
  type Workspace,
  type WorkspaceService,
} from "../../gen/switchboard/v1/workspace_pb.ts";
import { callerOf, ownerOf } from "../caller.ts";
import type { HubDeps } from "../deps.ts";
import { requireRole, usersOfWorkspace } from "../rights.ts";
import { RUNNING_SQL } from "../store/agents.ts";
import { newId } from "../store/ids.ts";
import { id, text } from "./validate.ts";

/** A layout is the web app's own JSON; this bounds what one user can store. */
export const MAX_LAYOUT_BYTES = 256 * 1024;
/** The longest folder path accepted (Linux PATH_MAX). */
const MAX_PATH = 4096;

interface Row {
  id: string;
  name: string;
  workerId: string;
  workerName: string;
  path: string;
  role: number;
  ownerName: string;
  createdAt: number;
}

const SELECT = `SELECT w.id, w.name, w.worker_id AS workerId, k.name AS workerName, w.path,
    CASE WHEN w.owner_id = ?1 THEN 3 ELSE s.role END AS role, u.name AS ownerName,
    w.created_at AS createdAt
  FROM workspaces w JOIN workers k ON k.id = w.worker_id JOIN users u ON u.id = w.owner_id
  LEFT JOIN shares s ON s.workspace_id = w.id AND s.user_id = ?1`;

const toWorkspace = (r: Row): Workspace =>
  create(WorkspaceSchema, { ...r, role: r.role as Role, createdAtMs: r.createdAt });

export function getWorkspace(db: Database, userId: string, workspaceId: string): Workspace | null {
  const r = db
    .query(`${SELECT} WHERE w.id = ?2 AND (w.owner_id = ?1 OR s.role IS NOT NULL)`)
    .get(userId, workspaceId) as Row | null;
  return r ? toWorkspace(r) : null;
}

export function workspaceService(deps: HubDeps): ServiceImpl<typeof WorkspaceService> {
  const { db, link, live } = deps;
  return {
    listWorkspaces(_req, ctx) {
      const c = callerOf(ctx);
      const rows = db
        .query(`${SELECT} WHERE w.owner_id = ?1 OR s.role IS NOT NULL ORDER BY w.created_at`)
        .all(c.userId) as Row[];
      return { workspaces: rows.map(toWorkspace) };
    },
    async createWorkspace(req, ctx) {
      const c = ownerOf(ctx);
      const name = text(req.name, "name", 100);
      const path = text(req.path, "path", MAX_PATH);
      if (!path.startsWith("/"))
        throw new ConnectError("path must be absolute", Code.InvalidArgument);
      const worker = db
        .query("SELECT id FROM workers WHERE id = ? AND revoked_at IS NULL")
        .get(id(req.workerId, "worker_id")) as { id: string } | null;
      if (!worker) throw new ConnectError("no such worker", Code.NotFound);
      // The folder must exist on that machine (the worker answers; offline means unavailable).
      await link.command(worker.id, c.userName, { case: "checkFolder", value: { path } });
      const wsId = newId();
      db.query(
        "INSERT INTO workspaces (id, name, worker_id, path, owner_id, created_at) VALUES (?, ?, ?, ?, ?, ?)",
      ).run(wsId, name, worker.id, path, c.userId, deps.now());
      live.changed("workspaces", wsId);
      return { workspace: getWorkspace(db, c.userId, wsId)! };
    },
    async deleteWorkspace(req, ctx) {
      const c = callerOf(ctx);
      const wsId = id(req.workspaceId, "workspace_id");
      requireRole(db, c.userId, wsId, Role.OWNER);
      const users = usersOfWorkspace(db, wsId);
      const ws = db
        .query("SELECT worker_id AS workerId FROM workspaces WHERE id = ?")
        .get(wsId) as { workerId: string };
      const running = db
        .query(`SELECT id FROM agents WHERE workspace_id = ? AND status IN (${RUNNING_SQL})`)
        .all(wsId) as { id: string }[];
      // Its agents end with it; if the worker is offline it stops them when it learns they are gone.
      await Promise.allSettled(
        running.map((a) =>
          link.command(ws.workerId, c.userName, { case: "stopAgent", value: { agentId: a.id } }),
        ),
      );
      db.query("DELETE FROM workspaces WHERE id = ?").run(wsId);
      live.changed("workspaces", wsId, users);
      return {};
    },
    shareWorkspace(req, ctx) {
      const c = callerOf(ctx);
      const wsId = id(req.workspaceId, "workspace_id");
      requireRole(db, c.userId, wsId, Role.OWNER);
      if (req.role !== Role.VIEWER && req.role !== Role.OPERATOR) {
        throw new ConnectError("a share is ROLE_VIEWER or ROLE_OPERATOR", Code.InvalidArgument);
      }
      const user = db
        .query("SELECT id, name FROM users WHERE name = ?")
        .get(text(req.userName, "user_name", 64)) as {
        id: string;
        name: string;
      } | null;
      if (!user) throw new ConnectError("no such user", Code.NotFound);
      if (user.id === c.userId)
        throw new ConnectError("you already own this workspace", Code.InvalidArgument);
      db.query(
        "INSERT INTO shares (workspace_id, user_id, role) VALUES (?, ?, ?) ON CONFLICT DO UPDATE SET role = excluded.role",
      ).run(wsId, user.id, req.role);
      // Their open sockets re-subscribe under the new rights.
      live.disconnect((x) => x.userId === user.id, "your rights changed");
      live.changed("workspaces", wsId);
      return {
        share: create(ShareSchema, { userId: user.id, userName: user.name, role: req.role }),
      };
    },
    unshareWorkspace(req, ctx) {
      const c = callerOf(ctx);
      const wsId = id(req.workspaceId, "workspace_id");
      requireRole(db, c.userId, wsId, Role.OWNER);
      const r = db
        .query("DELETE FROM shares WHERE workspace_id = ? AND user_id = ?")
        .run(wsId, req.userId);
      if (r.changes === 0) throw new ConnectError("no such share", Code.NotFound);
      live.disconnect((x) => x.userId === req.userId, "your rights changed");
      live.changed("workspaces", wsId, [c.userId, req.userId]);
      return {};
    },
    listShares(req, ctx) {
      const c = callerOf(ctx);
      const wsId = id(req.workspaceId, "workspace_id");
      requireRole(db, c.userId, wsId, Role.OWNER);
      const rows = db
        .query(
          "SELECT s.user_id AS userId, u.name AS userName, s.role FROM shares s JOIN users u ON u.id = s.user_id WHERE s.workspace_id = ? ORDER BY u.name",
        )
        .all(wsId) as { userId: string; userName: string; role: number }[];
      return { shares: rows.map((r) => create(ShareSchema, { ...r, role: r.role as Role })) };
    },
    getLayout(_req, ctx) {
      const c = callerOf(ctx);
      const r = db
        .query("SELECT json, updated_at AS updatedAt FROM layouts WHERE user_id = ?")
        .get(c.userId) as {
        json: string;
        updatedAt: number;
      } | null;
      return { json: r?.json ?? "", updatedAtMs: r?.updatedAt ?? 0 };
    },
    saveLayout(req, ctx) {
      const c = callerOf(ctx);
      if (Buffer.byteLength(req.json) > MAX_LAYOUT_BYTES) {
        throw new ConnectError(
          `a layout is at most ${MAX_LAYOUT_BYTES} bytes`,
          Code.InvalidArgument,
        );
      }
      try {
        JSON.parse(req.json);
      } catch {
        throw new ConnectError("a layout is JSON", Code.InvalidArgument);
      }
      const now = deps.now();
      db.query(
        "INSERT INTO layouts (user_id, json, updated_at) VALUES (?, ?, ?) ON CONFLICT DO UPDATE SET json = excluded.json, updated_at = excluded.updated_at",
      ).run(c.userId, req.json, now);
      live.changed("layout", "", [c.userId]);
      return { updatedAtMs: now };
    },
  };
}
