/**
 * The worker's own small database (bun:sqlite, WAL): the outbox of events the hub has not
 * acknowledged, and the agents it runs with their ACP session ids (for resuming after a
 * restart). Versioned with PRAGMA user_version; each step runs in a transaction.
 */
import { Database } from "bun:sqlite";
import { chmodSync, existsSync } from "node:fs";

const STEPS: string[] = [
  // 1: the outbox.
  `CREATE TABLE outbox (
     stream_id TEXT NOT NULL, seq INTEGER NOT NULL, time INTEGER NOT NULL, kind INTEGER NOT NULL,
     json TEXT NOT NULL, data BLOB, actor TEXT NOT NULL, PRIMARY KEY (stream_id, seq)) WITHOUT ROWID;
   CREATE TABLE streams (
     stream_id TEXT PRIMARY KEY, last_seq INTEGER NOT NULL, acked_seq INTEGER NOT NULL);`,
  // 2: agents this worker runs: the hub's spec (protobuf bytes) and the ACP session id.
  `CREATE TABLE agents (
     agent_id TEXT PRIMARY KEY, spec BLOB NOT NULL, session_id TEXT NOT NULL DEFAULT '');`,
];

export function openWorkerDb(path: string): Database {
  const fresh = path !== ":memory:" && !existsSync(path);
  const db = new Database(path, { create: true, strict: true });
  if (fresh) chmodSync(path, 0o600);
  db.run("PRAGMA journal_mode = WAL");
  db.run("PRAGMA synchronous = NORMAL");
  const v = (db.query("PRAGMA user_version").get() as { user_version: number }).user_version;
  if (v > STEPS.length) {
    db.close();
    throw new Error(
      `the worker database is at version ${v}, newer than this worker knows (${STEPS.length})`,
    );
  }
  for (let i = v; i < STEPS.length; i++) {
    db.transaction(() => {
      db.run(STEPS[i]!);
      db.run(`PRAGMA user_version = ${i + 1}`);
    })();
  }
  return db;
}
