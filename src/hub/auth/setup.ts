/** The one-time setup link, printed at start while the hub has no owner. */
import type { Database } from "bun:sqlite";
import { createTicket } from "./tickets.ts";

/** Whether the owner account still has to be created. */
export function needsSetup(db: Database): boolean {
  return db.query("SELECT 1 FROM users LIMIT 1").get() === null;
}

/**
 * A fresh setup link's path ("/setup#<token>"), or null when the owner exists. Each start
 * issues a new one and voids the earlier ones, so only the latest printed link works.
 */
export function issueSetupLink(db: Database, now = Date.now()): string | null {
  if (!needsSetup(db)) return null;
  db.query("DELETE FROM tickets WHERE kind = 'setup'").run();
  return `/setup#${createTicket(db, "setup", null, now).token}`;
}
