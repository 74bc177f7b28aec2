/** Migrations on real database files: from empty, from an older schema, refusing a newer one. */
import { Database } from "bun:sqlite";
import { expect, test } from "bun:test";
import { mkdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BUN } from "../../testing/clients.ts";
import { tempDir } from "../../testing/harness.ts";
import { SERVER } from "../../testing/hub.ts";
import { runToEnd } from "../../testing/procs.ts";
import { loadMigrations, migrate, openDatabase, SchemaTooNewError } from "./db.ts";

const version = (db: Database) =>
  (db.query("SELECT max(version) AS v FROM schema_migrations").get() as { v: number }).v;

test("an empty file gets every migration, WAL and foreign keys, and is private", () => {
  const path = join(tempDir("db"), "hub.db");
  const db = openDatabase(path);
  expect(version(db)).toBe(loadMigrations().length);
  expect((db.query("PRAGMA journal_mode").get() as { journal_mode: string }).journal_mode).toBe(
    "wal",
  );
  expect((db.query("PRAGMA foreign_keys").get() as { foreign_keys: number }).foreign_keys).toBe(1);
  expect(statSync(path).mode & 0o777).toBe(0o600);
  db.close();
});

test("an older database is brought forward with its data kept", () => {
  const path = join(tempDir("db"), "hub.db");
  const all = loadMigrations();
  const old = new Database(path, { create: true, strict: true });
  migrate(old, all.slice(0, 1));
  old
    .query(
      "INSERT INTO users (id, name, password_hash, is_owner, created_at) VALUES ('u1', 'ada', 'x', 1, 1)",
    )
    .run();
  old.close();

  const db = openDatabase(path);
  expect(version(db)).toBe(all.length);
  expect(db.query("SELECT name FROM users").all()).toEqual([{ name: "ada" }]);
  const indexes = db.query("SELECT name FROM sqlite_master WHERE type = 'index'").all() as {
    name: string;
  }[];
  expect(indexes.map((i) => i.name)).toContain("request_keys_by_time");
  // Opening again applies nothing.
  expect(migrate(db, all)).toEqual([]);
  db.close();
});

test("a failing migration leaves the database as it was", () => {
  const dir = tempDir("migrations");
  writeFileSync(join(dir, "0001_ok.sql"), "CREATE TABLE a (x INTEGER);");
  writeFileSync(
    join(dir, "0002_broken.sql"),
    "CREATE TABLE b (y INTEGER); INSERT INTO nowhere VALUES (1);",
  );
  const path = join(tempDir("db"), "hub.db");
  expect(() => openDatabase(path, loadMigrations(dir))).toThrow(/nowhere/);
  const db = new Database(path);
  expect(version(db)).toBe(1);
  expect(db.query("SELECT name FROM sqlite_master WHERE name = 'b'").get()).toBeNull();
  db.close();
});

test("migration files must be numbered without gaps", () => {
  const dir = tempDir("migrations");
  writeFileSync(join(dir, "0001_a.sql"), "SELECT 1;");
  writeFileSync(join(dir, "0003_c.sql"), "SELECT 1;");
  expect(() => loadMigrations(dir)).toThrow(/expected 2/);
});

test("a database newer than the code refuses to open, and the hub says why", async () => {
  const dataDir = tempDir("hub-newer");
  mkdirSync(dataDir, { recursive: true });
  const path = join(dataDir, "hub.db");
  const db = openDatabase(path);
  db.query(
    "INSERT INTO schema_migrations (version, name, applied_at) VALUES (99, 'future', 0)",
  ).run();
  db.close();
  expect(() => openDatabase(path)).toThrow(SchemaTooNewError);

  const run = await runToEnd([BUN, SERVER, "--port", "0", "--data", dataDir]);
  expect(run.code).toBe(2);
  expect(run.stderr).toContain("schema version 99, newer than this hub knows");
  expect(run.stderr).not.toContain("    at ");
});
