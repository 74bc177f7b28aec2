/**
 * AuthService: the owner's setup, sign-in by password, phone pairing and invitations, and the
 * devices each user has signed in. Every call that signs a device in creates a devices row and
 * sets its HttpOnly session cookie; revoking a device deletes the row and closes its sockets.
 *
 * Passwords are stored as Argon2id hashes. A login for a name that does not exist still verifies
 * a password (against a fixed dummy hash) and fails with the same message as a wrong password,
 * so neither the answer nor its timing tells whether an account exists.
 */
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, type HandlerContext, type ServiceImpl } from "@connectrpc/connect";
import {
  DeviceSchema,
  UserSchema,
  type AuthService,
  type Device,
  type User,
} from "../../gen/switchboard/v1/auth_pb.ts";
import { CALLER, CLIENT_ADDRESS, callerOf, ownerOf } from "../caller.ts";
import type { HubDeps } from "../deps.ts";
import { newId, newSecret } from "../store/ids.ts";
import { LOGIN_LIMIT, TICKET_LIMIT, type RateLimiter } from "./rate-limit.ts";
import { clearedSessionCookie, createDevice, sessionCookie } from "./sessions.ts";
import { needsSetup } from "./setup.ts";
import { createTicket, spendTicket, ticketValid, type TicketKind } from "./tickets.ts";

/** Long enough for a full name, short enough to fit a device list on a phone. */
export const MAX_USER_NAME = 64;
/** NIST SP 800-63B's floor for a password a person chose. */
export const MIN_PASSWORD = 8;
/**
 * Generous for passphrases and password managers, but bounded: Argon2 works over the whole
 * input, so an unbounded password lets one request burn the hub's CPU.
 */
export const MAX_PASSWORD = 1024;
/** A device's label ("Chrome on Android", "Ana's phone") in the device list. */
export const MAX_DEVICE_NAME = 100;
/** Argon2id with Bun's defaults (64 MiB, 2 passes): OWASP's recommended password hash. */
const PASSWORD_HASH = { algorithm: "argon2id" } as const;

const WRONG_LOGIN = "wrong name or password";
const DEVICE_SIGNED_OUT = "this device was signed out";

/** Control characters (C0, DEL, C1) make names unreadable in lists and logs. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
/**
 * Invisible and direction-changing characters let one name pass for another
 * ("admin\u200b", right-to-left overrides); names are how users pick whom to share with.
 */
const INVISIBLE = /[\u00ad\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]/;

export function authService(deps: HubDeps, limiter: RateLimiter): ServiceImpl<typeof AuthService> {
  const { db } = deps;
  // Hashed once per start, with the same parameters as real ones, so that a login for an
  // unknown name costs what a wrong password costs.
  const dummyHash = Bun.password.hash(newSecret(), PASSWORD_HASH);
  const address = (ctx: HandlerContext) => ctx.values.get(CLIENT_ADDRESS);

  /** Creates the device, sets its cookie, and builds the sign-in answer. */
  function signIn(ctx: HandlerContext, userId: string, deviceName: string) {
    replacePreviousSession(ctx);
    const userAgent = ctx.requestHeader.get("user-agent") ?? "";
    const name = deviceName || deviceNameFrom(userAgent);
    const { deviceId, token } = createDevice(db, userId, name, userAgent, deps.now());
    ctx.responseHeader.append("Set-Cookie", sessionCookie(token, deps.secureCookies));
    return { user: userMessage(userId), device: deviceMessage(deviceId, deviceId) };
  }

  /**
   * A browser that signs in again (another account, a pairing link opened on a signed-in
   * phone) gets a new cookie in place of its old one; the old device session would stay valid
   * with nobody able to use or see it go, so it ends here.
   */
  function replacePreviousSession(ctx: HandlerContext) {
    const previous = ctx.values.get(CALLER);
    if (previous) endDevices([previous.deviceId]);
  }

  function endDevices(ids: string[]) {
    if (ids.length === 0) return;
    const del = db.query("DELETE FROM devices WHERE id = ?");
    db.transaction(() => {
      for (const id of ids) del.run(id);
    })();
    const gone = new Set(ids);
    deps.live.disconnect((c) => gone.has(c.deviceId), DEVICE_SIGNED_OUT);
  }

  function userMessage(userId: string): User {
    const row = db
      .query(
        "SELECT id, name, is_owner AS isOwner, created_at AS createdAt FROM users WHERE id = ?",
      )
      .get(userId) as UserRow | null;
    if (!row) throw new ConnectError("this account no longer exists", Code.Unauthenticated);
    return toUser(row);
  }

  function deviceMessage(deviceId: string, currentId: string): Device {
    const row = db.query(`${DEVICE_COLUMNS} WHERE id = ?`).get(deviceId) as DeviceRow | null;
    if (!row) throw new ConnectError("this device was signed out", Code.Unauthenticated);
    return toDevice(row, currentId);
  }

  async function verifyPassword(password: string, hash: string): Promise<boolean> {
    return Bun.password.verify(password, hash);
  }

  function ticketPath(kind: TicketKind, prefix: string, userId: string) {
    const t = createTicket(db, kind, userId, deps.now());
    return { path: `${prefix}#${t.token}`, token: t.token, expiresAtMs: t.expiresAt };
  }

  const impl: ServiceImpl<typeof AuthService> = {
    getSetupState() {
      return { needsSetup: needsSetup(db) };
    },

    async setup(req, ctx) {
      limiter.take(`setup:${address(ctx)}`, TICKET_LIMIT);
      const name = userName(req.name);
      const password = newPassword(req.password);
      const deviceName = deviceNameField(req.deviceName);
      if (!needsSetup(db)) {
        throw new ConnectError(
          "this hub already has its owner; sign in instead",
          Code.FailedPrecondition,
        );
      }
      // Checked before hashing (cheap) and spent after it (in the transaction below).
      if (!ticketValid(db, "setup", req.token, deps.now())) throw badLink("setup");
      const hash = await Bun.password.hash(password, PASSWORD_HASH);
      const userId = newId();
      db.transaction(() => {
        if (!needsSetup(db)) {
          throw new ConnectError(
            "this hub already has its owner; sign in instead",
            Code.FailedPrecondition,
          );
        }
        if (!spendTicket(db, "setup", req.token, deps.now())) throw badLink("setup");
        insertUser(userId, name, hash, true);
      })();
      deps.log(`owner account ${JSON.stringify(name)} created`);
      return signIn(ctx, userId, deviceName);
    },

    async login(req, ctx) {
      const name = req.name.trim().normalize("NFC");
      // Both limits count before anything else: one address trying many names, and many
      // addresses trying one name.
      limiter.take(`login:${address(ctx)}`, LOGIN_LIMIT);
      limiter.take(`login-name:${name.slice(0, MAX_USER_NAME).toLowerCase()}`, LOGIN_LIMIT);
      userName(req.name);
      if (req.password.length === 0) throw invalid("password is empty");
      if (req.password.length > MAX_PASSWORD)
        throw invalid(`password is longer than ${MAX_PASSWORD} characters`);
      const deviceName = deviceNameField(req.deviceName);
      const row = db
        .query("SELECT id, password_hash AS hash FROM users WHERE name = ?")
        .get(name) as {
        id: string;
        hash: string;
      } | null;
      const ok = await verifyPassword(
        req.password.normalize("NFC"),
        row?.hash ?? (await dummyHash),
      );
      if (!row || !ok) throw new ConnectError(WRONG_LOGIN, Code.Unauthenticated);
      return signIn(ctx, row.id, deviceName);
    },

    logout(_req, ctx) {
      const c = callerOf(ctx);
      endDevices([c.deviceId]);
      ctx.responseHeader.append("Set-Cookie", clearedSessionCookie(deps.secureCookies));
      return {};
    },

    getMe(_req, ctx) {
      const c = callerOf(ctx);
      return { user: userMessage(c.userId), device: deviceMessage(c.deviceId, c.deviceId) };
    },

    async changePassword(req, ctx) {
      const c = callerOf(ctx);
      // The old password is a guess for whoever holds a stolen session: same limit as login.
      limiter.take(`password:${c.userId}`, LOGIN_LIMIT);
      if (req.oldPassword.length === 0) throw invalid("the current password is empty");
      if (req.oldPassword.length > MAX_PASSWORD)
        throw new ConnectError("the current password is wrong", Code.PermissionDenied);
      const password = newPassword(req.newPassword, "new password");
      const row = db
        .query("SELECT password_hash AS hash FROM users WHERE id = ?")
        .get(c.userId) as {
        hash: string;
      } | null;
      if (!row) throw new ConnectError("this account no longer exists", Code.Unauthenticated);
      if (!(await verifyPassword(req.oldPassword.normalize("NFC"), row.hash))) {
        // Not unauthenticated: this device stays signed in, only the check failed.
        throw new ConnectError("the current password is wrong", Code.PermissionDenied);
      }
      const hash = await Bun.password.hash(password, PASSWORD_HASH);
      const others = db.transaction(() => {
        db.query("UPDATE users SET password_hash = ? WHERE id = ?").run(hash, c.userId);
        // A pairing link made before the change would sign in a device after it.
        db.query(
          "DELETE FROM tickets WHERE kind = 'pairing' AND user_id = ? AND used_at IS NULL",
        ).run(c.userId);
        return (
          db
            .query("SELECT id FROM devices WHERE user_id = ? AND id != ?")
            .all(c.userId, c.deviceId) as {
            id: string;
          }[]
        ).map((r) => r.id);
      })();
      endDevices(others);
      deps.log(
        `user ${c.userId} changed their password; ${others.length} other device(s) signed out`,
      );
      return {};
    },

    listDevices(_req, ctx) {
      const c = callerOf(ctx);
      const rows = db
        .query(`${DEVICE_COLUMNS} WHERE user_id = ? ORDER BY last_seen_at DESC, created_at DESC`)
        .all(c.userId) as DeviceRow[];
      return { devices: rows.map((r) => toDevice(r, c.deviceId)) };
    },

    revokeDevice(req, ctx) {
      const c = callerOf(ctx);
      const owned = db
        .query("SELECT 1 FROM devices WHERE id = ? AND user_id = ?")
        .get(req.deviceId, c.userId);
      // Someone else's device answers like a missing one: ids are not confirmed to strangers.
      if (!owned) throw new ConnectError("no such device", Code.NotFound);
      endDevices([req.deviceId]);
      if (req.deviceId === c.deviceId) {
        ctx.responseHeader.append("Set-Cookie", clearedSessionCookie(deps.secureCookies));
      }
      return {};
    },

    createPairing(_req, ctx) {
      const c = callerOf(ctx);
      return ticketPath("pairing", "/pair", c.userId);
    },

    redeemPairing(req, ctx) {
      limiter.take(`pairing:${address(ctx)}`, TICKET_LIMIT);
      const deviceName = deviceNameField(req.deviceName);
      const t = spendTicket(db, "pairing", req.token, deps.now());
      if (!t || !t.userId) throw badLink("pairing");
      return signIn(ctx, t.userId, deviceName);
    },

    createInvite(_req, ctx) {
      const c = ownerOf(ctx);
      return ticketPath("invite", "/invite", c.userId);
    },

    async acceptInvite(req, ctx) {
      limiter.take(`invite:${address(ctx)}`, TICKET_LIMIT);
      const name = userName(req.name);
      const password = newPassword(req.password);
      const deviceName = deviceNameField(req.deviceName);
      // Only someone holding a good link learns whether a name is taken.
      if (!ticketValid(db, "invite", req.token, deps.now())) throw badLink("invitation");
      if (nameTaken(name)) throw taken(name);
      const hash = await Bun.password.hash(password, PASSWORD_HASH);
      const userId = newId();
      db.transaction(() => {
        // A name taken meanwhile rolls back, and the invitation stays good for another try.
        if (nameTaken(name)) throw taken(name);
        if (!spendTicket(db, "invite", req.token, deps.now())) throw badLink("invitation");
        insertUser(userId, name, hash, false);
      })();
      deps.log(`user ${JSON.stringify(name)} joined by invitation`);
      return signIn(ctx, userId, deviceName);
    },

    listUsers(_req, ctx) {
      callerOf(ctx);
      const rows = db.query("SELECT id, name FROM users ORDER BY name").all() as {
        id: string;
        name: string;
      }[];
      return { users: rows.map((r) => create(UserSchema, { id: r.id, name: r.name })) };
    },
  };

  function insertUser(id: string, name: string, hash: string, owner: boolean) {
    db.query(
      "INSERT INTO users (id, name, password_hash, is_owner, created_at) VALUES (?, ?, ?, ?, ?)",
    ).run(id, name, hash, owner ? 1 : 0, deps.now());
  }

  function nameTaken(name: string): boolean {
    return db.query("SELECT 1 FROM users WHERE name = ?").get(name) !== null;
  }

  return guarded(impl, deps.log);
}

/**
 * Any error that is not a ConnectError (a database error, a bug) reaches the client as a bare
 * `internal` with no message or stack; the details go to the hub's log.
 */
function guarded<T extends object>(impl: T, log: (line: string) => void): T {
  const out: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(impl)) {
    out[name] = async (...args: unknown[]) => {
      try {
        return await (fn as (...a: unknown[]) => unknown)(...args);
      } catch (err) {
        if (err instanceof ConnectError) throw err;
        log(`AuthService.${name}: ${(err as Error)?.stack ?? String(err)}`);
        throw new ConnectError("internal error", Code.Internal);
      }
    };
  }
  return out as T;
}

interface UserRow {
  id: string;
  name: string;
  isOwner: number;
  createdAt: number;
}

interface DeviceRow {
  id: string;
  name: string;
  userAgent: string;
  createdAt: number;
  lastSeen: number;
}

const DEVICE_COLUMNS = `SELECT id, name, user_agent AS userAgent, created_at AS createdAt,
  last_seen_at AS lastSeen FROM devices`;

function toUser(r: UserRow): User {
  return create(UserSchema, {
    id: r.id,
    name: r.name,
    isOwner: r.isOwner === 1,
    createdAtMs: r.createdAt,
  });
}

function toDevice(r: DeviceRow, currentId: string): Device {
  return create(DeviceSchema, {
    id: r.id,
    name: r.name,
    userAgent: r.userAgent,
    createdAtMs: r.createdAt,
    lastSeenMs: r.lastSeen,
    current: r.id === currentId,
  });
}

const invalid = (message: string) => new ConnectError(message, Code.InvalidArgument);

const badLink = (what: string) =>
  new ConnectError(`this ${what} link is unknown, used or expired`, Code.Unauthenticated);

const taken = (name: string) =>
  new ConnectError(`the name ${JSON.stringify(name)} is taken`, Code.AlreadyExists);

/** A user's name: trimmed, NFC (so "é" is one name however it was typed), 1-64 characters. */
export function userName(value: string): string {
  const v = value.trim().normalize("NFC");
  if (v.length === 0) throw invalid("name is empty");
  if (v.length > MAX_USER_NAME) throw invalid(`name is longer than ${MAX_USER_NAME} characters`);
  if (CONTROL.test(v)) throw invalid("name has control characters");
  if (INVISIBLE.test(v)) throw invalid("name has invisible or direction-changing characters");
  return v;
}

/** A password being set: 8-1024 characters, kept as typed (spaces count) but NFC. */
export function newPassword(value: string, what = "password"): string {
  if (value.length < MIN_PASSWORD)
    throw invalid(`${what} is shorter than ${MIN_PASSWORD} characters`);
  if (value.length > MAX_PASSWORD)
    throw invalid(`${what} is longer than ${MAX_PASSWORD} characters`);
  return value.normalize("NFC");
}

/** A device name as given: trimmed, at most 100 characters; "" means "name it from the browser". */
export function deviceNameField(value: string): string {
  const v = value.trim();
  if (v.length > MAX_DEVICE_NAME)
    throw invalid(`device name is longer than ${MAX_DEVICE_NAME} characters`);
  if (CONTROL.test(v)) throw invalid("device name has control characters");
  return v;
}

/** A readable device name from a User-Agent: "Chrome on Android", "Safari on iPhone". */
export function deviceNameFrom(userAgent: string): string {
  const ua = userAgent;
  const browser = /\bEdg(e|A|iOS)?\//.test(ua)
    ? "Edge"
    : /\b(OPR|Opera)\//.test(ua)
      ? "Opera"
      : /\bSamsungBrowser\//.test(ua)
        ? "Samsung Internet"
        : /\b(Firefox|FxiOS)\//.test(ua)
          ? "Firefox"
          : /\b(Chrome|CriOS|Chromium)\//.test(ua)
            ? "Chrome"
            : /\bVersion\/[\d.]+.*\bSafari\//.test(ua)
              ? "Safari"
              : null;
  const os = /\biPhone\b/.test(ua)
    ? "iPhone"
    : /\biPad\b/.test(ua)
      ? "iPad"
      : /\bAndroid\b/.test(ua)
        ? "Android"
        : /\bCrOS\b/.test(ua)
          ? "ChromeOS"
          : /\bMac OS X\b|\bMacintosh\b/.test(ua)
            ? "macOS"
            : /\bWindows\b/.test(ua)
              ? "Windows"
              : /\bLinux\b/.test(ua)
                ? "Linux"
                : null;
  if (browser && os) return `${browser} on ${os}`;
  if (browser ?? os) return (browser ?? os)!;
  // Not a browser (curl, a script): its first product name, else a placeholder.
  const product = /^([A-Za-z][\w.-]{0,30})\//.exec(ua.trim());
  return product ? product[1]! : "Unknown device";
}
