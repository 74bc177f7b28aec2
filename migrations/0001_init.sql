-- The hub's first schema. Ids are random text (UUIDv7), times are Unix milliseconds.

CREATE TABLE settings (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
) STRICT;

CREATE TABLE users (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE COLLATE NOCASE,
  password_hash TEXT NOT NULL,
  is_owner INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL
) STRICT;

-- One signed-in browser or phone. The cookie holds a random token; only its SHA-256 is kept.
CREATE TABLE devices (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  user_agent TEXT NOT NULL DEFAULT '',
  token_hash TEXT NOT NULL UNIQUE,
  created_at INTEGER NOT NULL,
  last_seen_at INTEGER NOT NULL
) STRICT;
CREATE INDEX devices_by_user ON devices (user_id);

-- One-time secrets: setup, phone pairing, invitations, worker registration. Hashed, expiring,
-- spent once (used_at set in the same statement that checks it).
CREATE TABLE tickets (
  token_hash TEXT PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('setup', 'pairing', 'invite', 'worker_key')),
  user_id TEXT REFERENCES users (id) ON DELETE CASCADE,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  used_at INTEGER
) STRICT;

CREATE TABLE workers (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  credential_hash TEXT NOT NULL UNIQUE,
  hostname TEXT NOT NULL DEFAULT '',
  version TEXT NOT NULL DEFAULT '',
  is_local INTEGER NOT NULL DEFAULT 0,
  catalog_json TEXT NOT NULL DEFAULT '[]',
  created_at INTEGER NOT NULL,
  last_seen_at INTEGER NOT NULL DEFAULT 0,
  revoked_at INTEGER
) STRICT;

CREATE TABLE workspaces (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  worker_id TEXT NOT NULL REFERENCES workers (id) ON DELETE CASCADE,
  path TEXT NOT NULL,
  owner_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  created_at INTEGER NOT NULL
) STRICT;

-- role: 1 viewer, 2 operator (the proto's Role numbers).
CREATE TABLE shares (
  workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
  user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  role INTEGER NOT NULL CHECK (role IN (1, 2)),
  PRIMARY KEY (workspace_id, user_id)
) WITHOUT ROWID, STRICT;

-- kind and status: the proto's AgentKind and AgentStatus numbers.
CREATE TABLE agents (
  id TEXT PRIMARY KEY,
  workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
  kind INTEGER NOT NULL,
  name TEXT NOT NULL,
  catalog_id TEXT NOT NULL DEFAULT '',
  command_json TEXT NOT NULL DEFAULT '[]',
  status INTEGER NOT NULL,
  status_message TEXT NOT NULL DEFAULT '',
  created_by TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL
) STRICT;
CREATE INDEX agents_by_workspace ON agents (workspace_id);

-- One ordered log per session or terminal; head_seq is the last stored seq.
CREATE TABLE streams (
  id TEXT PRIMARY KEY,
  workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
  agent_id TEXT REFERENCES agents (id) ON DELETE CASCADE,
  head_seq INTEGER NOT NULL DEFAULT 0,
  -- The newest terminal snapshot's seq, 0 when none.
  snapshot_seq INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE TABLE events (
  stream_id TEXT NOT NULL REFERENCES streams (id) ON DELETE CASCADE,
  seq INTEGER NOT NULL,
  time INTEGER NOT NULL,
  kind INTEGER NOT NULL,
  json TEXT NOT NULL DEFAULT '',
  data BLOB,
  actor TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (stream_id, seq)
) WITHOUT ROWID, STRICT;

-- Idempotency keys of prompts and answers, so a retried send is dropped.
CREATE TABLE request_keys (
  user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  key TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (user_id, key)
) WITHOUT ROWID, STRICT;

CREATE TABLE layouts (
  user_id TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
  json TEXT NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;
