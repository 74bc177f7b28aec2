/** Periodic clean-up of what only matters for a while: one-time tickets and idempotency keys. */
import type { Database } from "bun:sqlite";
import { pruneTickets } from "../auth/tickets.ts";

/**
 * A phone's outbox may hold a prompt for as long as it stays offline; a key is kept long
 * past any plausible absence, so a very late resend is still recognised.
 */
export const REQUEST_KEY_TTL_MS = 30 * 24 * 60 * 60 * 1000;
export const HOUSEKEEPING_EVERY_MS = 60 * 60 * 1000;

export function housekeeping(db: Database, now = Date.now()): void {
  pruneTickets(db, now);
  db.query("DELETE FROM request_keys WHERE created_at < ?").run(now - REQUEST_KEY_TTL_MS);
}
