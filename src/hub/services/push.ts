/**
 * PushService: the hub's VAPID public key, and each device's push subscription with what it
 * wants to hear of. Sending is push.ts's. A device has at most one subscription (its browser's
 * PushSubscription): subscribing again replaces it. An endpoint is a secret URL only its
 * browser knows, so a Subscribe naming one that another device holds moves it here.
 */
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import {
  PushSubscriptionSchema,
  type PushService,
  type PushSubscription,
} from "../../gen/switchboard/v1/push_pb.ts";
import { callerOf } from "../caller.ts";
import type { HubDeps } from "../deps.ts";
import { isB64url } from "../push.ts";

/** Push services' endpoints are a few hundred characters; this is generous. */
export const MAX_ENDPOINT_LENGTH = 2048;

interface Row {
  endpoint: string;
  notifyPermission: number;
  notifyTurnFinished: number;
  notifyFailed: number;
  createdAt: number;
  lastError: string;
  lastErrorAt: number | null;
}

export function pushService(deps: HubDeps): ServiceImpl<typeof PushService> {
  const { db } = deps;
  const push = () => {
    if (!deps.push) throw new ConnectError("push is not set up on this hub", Code.Unimplemented);
    return deps.push;
  };

  const subscriptionOf = (deviceId: string): PushSubscription | undefined => {
    const r = db
      .query(
        `SELECT endpoint, notify_permission AS notifyPermission,
                notify_turn_finished AS notifyTurnFinished, notify_failed AS notifyFailed,
                created_at AS createdAt, last_error AS lastError, last_error_at AS lastErrorAt
         FROM push_subscriptions WHERE device_id = ?`,
      )
      .get(deviceId) as Row | null;
    if (!r) return undefined;
    return create(PushSubscriptionSchema, {
      endpoint: r.endpoint,
      notifyPermission: r.notifyPermission === 1,
      notifyTurnFinished: r.notifyTurnFinished === 1,
      notifyFailed: r.notifyFailed === 1,
      createdAtMs: r.createdAt,
      lastError: r.lastError,
      lastErrorAtMs: r.lastErrorAt ?? 0,
    });
  };

  return {
    getPushConfig(_req, ctx) {
      const c = callerOf(ctx);
      return {
        vapidPublicKey: push().vapid.publicKey,
        subscription: subscriptionOf(c.deviceId),
      };
    },

    async subscribe(req, ctx) {
      const c = callerOf(ctx);
      push();
      const endpoint = checkEndpoint(req.endpoint, deps.push!.loopbackHttp);
      if (!isB64url(req.p256dh, 65) || !(await isP256Point(req.p256dh))) {
        throw new ConnectError(
          "p256dh is not a P-256 public key (65 bytes, base64url)",
          Code.InvalidArgument,
        );
      }
      if (!isB64url(req.auth, 16)) {
        throw new ConnectError("auth is not a 16-byte secret (base64url)", Code.InvalidArgument);
      }
      db.transaction(() => {
        db.query("DELETE FROM push_subscriptions WHERE device_id = ? AND endpoint != ?").run(
          c.deviceId,
          endpoint,
        );
        db.query(
          `INSERT INTO push_subscriptions (endpoint, device_id, p256dh, auth, notify_permission,
             notify_turn_finished, notify_failed, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (endpoint) DO UPDATE SET device_id = excluded.device_id,
             p256dh = excluded.p256dh, auth = excluded.auth,
             notify_permission = excluded.notify_permission,
             notify_turn_finished = excluded.notify_turn_finished,
             notify_failed = excluded.notify_failed, last_error = '', last_error_at = NULL`,
        ).run(
          endpoint,
          c.deviceId,
          req.p256dh,
          req.auth,
          req.notifyPermission ? 1 : 0,
          req.notifyTurnFinished ? 1 : 0,
          req.notifyFailed ? 1 : 0,
          deps.now(),
        );
      })();
      return {};
    },

    unsubscribe(req, ctx) {
      const c = callerOf(ctx);
      if (req.endpoint === "") {
        db.query("DELETE FROM push_subscriptions WHERE device_id = ?").run(c.deviceId);
      } else {
        db.query(
          `DELETE FROM push_subscriptions WHERE endpoint = ?
             AND device_id IN (SELECT id FROM devices WHERE user_id = ?)`,
        ).run(req.endpoint, c.userId);
      }
      return {};
    },
  };
}

/**
 * An https:// URL without credentials or fragment, whose host is a name or a public address;
 * plain http only to a loopback host and only when the hub allows it (tests). So a signed-in
 * user cannot point the hub's requests at plain-http services, or at the hub's own machine and
 * network by address. (A name that resolves to a private address is not caught here: push
 * services are public names, and the request carries only an encrypted payload.)
 */
export function checkEndpoint(raw: string, loopbackHttp: boolean): string {
  const bad = (why: string) => new ConnectError(`endpoint ${why}`, Code.InvalidArgument);
  if (raw.length === 0) throw bad("is empty");
  if (raw.length > MAX_ENDPOINT_LENGTH) throw bad(`is longer than ${MAX_ENDPOINT_LENGTH}`);
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw bad("is not a URL");
  }
  if (u.username || u.password || u.hash) throw bad("has credentials or a fragment");
  if (u.protocol === "http:" && loopbackHttp && isLoopback(u.hostname)) return raw;
  if (u.protocol !== "https:") throw bad("must be an https:// URL");
  if (isPrivateHost(u.hostname)) throw bad("must not name a local or private address");
  return raw;
}

/**
 * localhost, and address literals that are not public unicast: loopback, private, link-local,
 * CGNAT, benchmarking (198.18/15, often a lab's own network), multicast, reserved and broadcast,
 * unspecified, unique-local IPv6 and IPv4-mapped forms of those. `host` is URL.hostname (IPv6
 * in brackets, IPv4 already normalised by the URL parser: 0x7f.1 is 127.0.0.1).
 */
export function isPrivateHost(host: string): boolean {
  const h = host.toLowerCase().replace(/\.$/, "");
  if (h === "localhost" || h.endsWith(".localhost")) return true;
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(h);
  if (v4) return isPrivateV4(v4.slice(1).map(Number));
  if (!h.startsWith("[")) return false;
  const v6 = h.slice(1, -1);
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(v6);
  if (mapped) return isPrivateV4(mapped[1]!.split(".").map(Number));
  // The URL parser writes a mapped address in hex: ::ffff:7f00:1.
  const mappedHex = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(v6);
  if (mappedHex) {
    const hi = parseInt(mappedHex[1]!, 16);
    const lo = parseInt(mappedHex[2]!, 16);
    return isPrivateV4([hi >> 8, hi & 255, lo >> 8, lo & 255]);
  }
  if (v6 === "::" || v6 === "::1") return true;
  return /^(fc|fd|fe[89ab]|ff)/.test(v6);
}

function isPrivateV4([a, b]: number[]): boolean {
  return (
    a === 0 ||
    a === 10 ||
    a === 127 ||
    (a === 100 && b! >= 64 && b! <= 127) ||
    (a === 169 && b === 254) ||
    (a === 172 && b! >= 16 && b! <= 31) ||
    (a === 192 && b === 168) ||
    (a === 198 && (b === 18 || b === 19)) ||
    a! >= 224
  );
}

function isLoopback(host: string): boolean {
  return host === "localhost" || host === "[::1]" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** Whether the bytes are a point on P-256 (what encryption to it needs). */
async function isP256Point(b64: string): Promise<boolean> {
  try {
    await crypto.subtle.importKey(
      "raw",
      Buffer.from(b64, "base64url"),
      { name: "ECDH", namedCurve: "P-256" },
      false,
      [],
    );
    return true;
  } catch {
    return false;
  }
}
