/**
 * Rights on a workspace, checked on every call and every subscription: the workspace's owner,
 * then its shares. A user with no role sees nothing, and is told "not found", not "forbidden",
 * so they learn nothing about what exists.
 */
import type { Database } from "bun:sqlite";
import { Code, ConnectError } from "@connectrpc/connect";
import { Role } from "../gen/switchboard/v1/common_pb.ts";

export function roleOf(db: Database, userId: string, workspaceId: string): Role {
  const row = db
    .query(
      `SELECT CASE WHEN w.owner_id = ?1 THEN 3 ELSE coalesce(s.role, 0) END AS role
       FROM workspaces w LEFT JOIN shares s ON s.workspace_id = w.id AND s.user_id = ?1
       WHERE w.id = ?2`,
    )
    .get(userId, workspaceId) as { role: number } | null;
  return (row?.role ?? Role.UNSPECIFIED) as Role;
}

const VERB: Record<number, string> = {
  [Role.VIEWER]: "watch",
  [Role.OPERATOR]: "steer",
  [Role.OWNER]: "manage",
};

/** Throws unless the user has at least `need` on the workspace. */
export function requireRole(db: Database, userId: string, workspaceId: string, need: Role): Role {
  const role = roleOf(db, userId, workspaceId);
  if (role === Role.UNSPECIFIED) throw new ConnectError("no such workspace", Code.NotFound);
  if (role < need) {
    throw new ConnectError(
      `your role in this workspace does not let you ${VERB[need]} it`,
      Code.PermissionDenied,
    );
  }
  return role;
}

/** The workspace of a stream, or null. */
export function workspaceOfStream(db: Database, streamId: string): string | null {
  const row = db.query("SELECT workspace_id AS w FROM streams WHERE id = ?").get(streamId) as {
    w: string;
  } | null;
  return row?.w ?? null;
}

/** Users with any role on the workspace (its owner and shares). */
export function usersOfWorkspace(db: Database, workspaceId: string): string[] {
  return (
    db
      .query(
        `SELECT owner_id AS u FROM workspaces WHERE id = ?1
         UNION SELECT user_id FROM shares WHERE workspace_id = ?1`,
      )
      .all(workspaceId) as { u: string }[]
  ).map((r) => r.u);
}

/** The users who administer the hub (its owner). */
export function ownersOfHub(db: Database): string[] {
  return (db.query("SELECT id FROM users WHERE is_owner = 1").all() as { id: string }[]).map(
    (r) => r.id,
  );
}
