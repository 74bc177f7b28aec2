/**
 * Device sessions: each signed-in browser or phone holds a random token in an HttpOnly cookie;
 * the hub keeps only its hash, so a copy of the database signs nobody in.
 */
import type { Database } from "bun:sqlite";
import type { Caller } from "../caller.ts";
import { hashSecret, newId, newSecret } from "../store/ids.ts";

export const SESSION_COOKIE = "switchboard_session";

/** Device sessions last until revoked; the cookie is renewed for this long on each sign-in. */
export const SESSION_COOKIE_MAX_AGE_S = 400 * 24 * 60 * 60;

/** last_seen is written at most this often per device, not on every call. */
const LAST_SEEN_EVERY_MS = 60_000;

export function createDevice(
  db: Database,
  userId: string,
  name: string,
  userAgent: string,
  now = Date.now(),
): { deviceId: string; token: string } {
  const deviceId = newId();
  const token = newSecret();
  db.query(
    `INSERT INTO devices (id, user_id, name, user_agent, token_hash, created_at, last_seen_at)
     VALUES (?, ?, ?, ?, ?, ?, ?)`,
  ).run(deviceId, userId, name, userAgent.slice(0, 300), hashSecret(token), now, now);
  return { deviceId, token };
}

/** The caller a session token stands for, or null. */
export function resolveSession(db: Database, token: string, now = Date.now()): Caller | null {
  if (token.length === 0 || token.length > 200) return null;
  const row = db
    .query(
      `SELECT d.id AS deviceId, d.last_seen_at AS lastSeen, u.id AS userId, u.name AS userName,
              u.is_owner AS isOwner
       FROM devices d JOIN users u ON u.id = d.user_id WHERE d.token_hash = ?`,
    )
    .get(hashSecret(token)) as {
    deviceId: string;
    lastSeen: number;
    userId: string;
    userName: string;
    isOwner: number;
  } | null;
  if (!row) return null;
  if (now - row.lastSeen > LAST_SEEN_EVERY_MS) {
    db.query("UPDATE devices SET last_seen_at = ? WHERE id = ?").run(now, row.deviceId);
  }
  return {
    deviceId: row.deviceId,
    userId: row.userId,
    userName: row.userName,
    isOwner: row.isOwner === 1,
  };
}

/** The session token in a Cookie header, or "". */
export function sessionToken(cookieHeader: string | null): string {
  if (!cookieHeader) return "";
  for (const part of cookieHeader.split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === SESSION_COOKIE) return part.slice(eq + 1).trim();
  }
  return "";
}

/** Set-Cookie for a new device session: HttpOnly, SameSite=Strict, Secure over https. */
export function sessionCookie(token: string, secure: boolean): string {
  return [
    `${SESSION_COOKIE}=${token}`,
    "Path=/",
    "HttpOnly",
    "SameSite=Strict",
    `Max-Age=${SESSION_COOKIE_MAX_AGE_S}`,
    ...(secure ? ["Secure"] : []),
  ].join("; ");
}

export function clearedSessionCookie(secure: boolean): string {
  return [`${SESSION_COOKIE}=`, "Path=/", "HttpOnly", "SameSite=Strict", "Max-Age=0"]
    .concat(secure ? ["Secure"] : [])
    .join("; ");
}
