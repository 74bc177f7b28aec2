/**
 * The hub's database: one bun:sqlite file in WAL mode with foreign keys on, brought to the
 * newest schema at open by applying migrations/NNNN_name.sql in order, each in a transaction.
 */
import { Database } from "bun:sqlite";
import { chmodSync, existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

export const MIGRATIONS_DIR = join(import.meta.dir, "../../../migrations");

/** How long a writer waits for another connection's lock before failing. */
const BUSY_TIMEOUT_MS = 5_000;

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export class SchemaTooNewError extends Error {
  constructor(
    readonly found: number,
    readonly known: number,
  ) {
    super(
      `the database is at schema version ${found}, newer than this hub knows (${known}); ` +
        `run the newer Switchboard that wrote it, or restore a backup`,
    );
  }
}

/** Reads `NNNN_name.sql` files in version order; rejects gaps and repeats. */
export function loadMigrations(dir = MIGRATIONS_DIR): Migration[] {
  const list: Migration[] = [];
  for (const file of readdirSync(dir).sort()) {
    const m = /^(\d{4})_([a-z0-9_]+)\.sql$/.exec(file);
    if (!m) continue;
    list.push({ version: Number(m[1]), name: m[2]!, sql: readFileSync(join(dir, file), "utf8") });
  }
  list.forEach((m, i) => {
    if (m.version !== i + 1) throw new Error(`migration ${m.version}_${m.name}: expected ${i + 1}`);
  });
  return list;
}

/** Opens (creating, 0600) the database at `path` and migrates it. */
export function openDatabase(path: string, migrations = loadMigrations()): Database {
  const fresh = path !== ":memory:" && !existsSync(path);
  const db = new Database(path, { create: true, strict: true });
  if (fresh) chmodSync(path, 0o600);
  try {
    db.run("PRAGMA journal_mode = WAL");
    db.run("PRAGMA synchronous = NORMAL");
    db.run("PRAGMA foreign_keys = ON");
    db.run(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
    migrate(db, migrations);
  } catch (err) {
    db.close();
    throw err;
  }
  return db;
}

/** Applies every migration newer than the database's version; returns the versions applied. */
export function migrate(db: Database, migrations: Migration[]): number[] {
  db.run(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL) STRICT`);
  const row = db.query("SELECT max(version) AS v FROM schema_migrations").get() as {
    v: number | null;
  };
  const current = row.v ?? 0;
  const known = migrations.length;
  if (current > known) throw new SchemaTooNewError(current, known);
  const applied: number[] = [];
  for (const m of migrations.slice(current)) {
    db.transaction(() => {
      db.run(m.sql);
      db.query("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)").run(
        m.version,
        m.name,
        Date.now(),
      );
    })();
    applied.push(m.version);
  }
  return applied;
}
