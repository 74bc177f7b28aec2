/** Workers as the hub knows them. */
import type { Database } from "bun:sqlite";
import { hashSecret, newId, newSecret } from "./ids.ts";

/**
 * The worker that runs inside the hub process: created on first start, and given a fresh
 * credential at each start (it is handed over in memory, never written down).
 */
export function ensureLocalWorker(db: Database, now = Date.now()): string {
  const credential = newSecret();
  const row = db.query("SELECT id FROM workers WHERE is_local = 1").get() as { id: string } | null;
  if (row) {
    db.query("UPDATE workers SET credential_hash = ?, revoked_at = NULL WHERE id = ?").run(
      hashSecret(credential),
      row.id,
    );
  } else {
    db.query(
      "INSERT INTO workers (id, name, credential_hash, is_local, created_at) VALUES (?, 'this machine', ?, 1, ?)",
    ).run(newId(), hashSecret(credential), now);
  }
  return credential;
}

/** Registers a worker; returns its id and its credential (shown once, stored hashed). */
export function createWorker(
  db: Database,
  name: string,
  hostname: string,
  version: string,
  now = Date.now(),
) {
  const id = newId();
  const credential = newSecret();
  db.query(
    "INSERT INTO workers (id, name, credential_hash, hostname, version, created_at) VALUES (?, ?, ?, ?, ?, ?)",
  ).run(id, name, hashSecret(credential), hostname, version, now);
  return { id, credential };
}
