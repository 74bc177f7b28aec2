/**
 * One-time secrets (setup, phone pairing, invitations, worker registration keys): stored
 * hashed, expiring, and spent by the same statement that checks them, so two racing uses
 * cannot both succeed.
 */
import type { Database } from "bun:sqlite";
import { hashSecret, newSecret } from "../store/ids.ts";

export type TicketKind = "setup" | "pairing" | "invite" | "worker_key";

/** Lifetimes, from the product's promises: a pairing QR code is good for 5 minutes. */
export const TICKET_TTL_MS: Record<TicketKind, number> = {
  setup: 24 * 60 * 60 * 1000,
  pairing: 5 * 60 * 1000,
  invite: 7 * 24 * 60 * 60 * 1000,
  worker_key: 60 * 60 * 1000,
};

export interface Ticket {
  token: string;
  expiresAt: number;
}

export function createTicket(
  db: Database,
  kind: TicketKind,
  userId: string | null,
  now = Date.now(),
): Ticket {
  const token = newSecret();
  const expiresAt = now + TICKET_TTL_MS[kind];
  db.query(
    "INSERT INTO tickets (token_hash, kind, user_id, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
  ).run(hashSecret(token), kind, userId, now, expiresAt);
  return { token, expiresAt };
}

/** Spends a ticket; returns its user (or "" when it has none), or null when not valid. */
export function spendTicket(
  db: Database,
  kind: TicketKind,
  token: string,
  now = Date.now(),
): { userId: string } | null {
  if (token.length === 0 || token.length > 200) return null;
  const row = db
    .query(
      `UPDATE tickets SET used_at = ?1
       WHERE token_hash = ?2 AND kind = ?3 AND used_at IS NULL AND expires_at > ?1
       RETURNING user_id AS userId`,
    )
    .get(now, hashSecret(token), kind) as { userId: string | null } | null;
  return row ? { userId: row.userId ?? "" } : null;
}

/** Whether a ticket is still good, without spending it. */
export function ticketValid(db: Database, kind: TicketKind, token: string, now = Date.now()) {
  return (
    db
      .query(
        "SELECT 1 FROM tickets WHERE token_hash = ? AND kind = ? AND used_at IS NULL AND expires_at > ?",
      )
      .get(hashSecret(token), kind, now) !== null
  );
}

/** Drops spent and expired tickets (kept a day for the record). */
export function pruneTickets(db: Database, now = Date.now()) {
  db.query("DELETE FROM tickets WHERE expires_at < ? OR used_at < ?").run(
    now - 86_400_000,
    now - 86_400_000,
  );
}
