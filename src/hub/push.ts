/**
 * Web Push from the hub: a notification on a signed-in device when an agent asks permission,
 * finishes a turn or fails.
 *
 * **Keys.** On first start the hub makes a VAPID key pair (P-256) and keeps it in its data
 * folder as `vapid.json` (mode 0600, beside hub.db); later starts reuse it, so subscriptions
 * made against its public key keep working. The file may also hold a `subject` (a `mailto:` or
 * `https:` URL the push services can reach the hub's operator at; some, Apple's among them,
 * refuse a placeholder): without one the public URL is used when it is https, else a
 * placeholder address.
 *
 * **Who is notified.** After each stored batch (link.ts calls `onStored`), every device of every
 * user with a role on the workspace that has a subscription (services/push.ts) and wants that
 * kind of notification, except a device with a live socket whose visible page shows that
 * agent right now (the Viewing frame, live.ts). Viewers are notified too; their payload says
 * `canAnswer: false`. Events resent after a long outage are not announced when they are older
 * than STALE_AFTER_MS (a permission request still is, unless the same batch resolves it).
 *
 * **Sending.** Each request is built by web-push's `generateRequestDetails` (aes128gcm payload
 * encryption, the VAPID JWT for the endpoint's origin, TTL, Urgency and Topic headers) and sent
 * with fetch, fire and forget: never in the path of storing, at most PUSH_CONCURRENCY requests
 * at once, each bounded by PUSH_TIMEOUT_MS, in order per subscription (so an "answered" push
 * always follows the request it answers), at most PUSH_MAX_QUEUED waiting. A 404 or 410 from
 * the push service deletes the subscription; any other refusal or a network error is logged
 * and kept in its `last_error` (cleared by the next success). Redirects are not followed.
 *
 * **Endpoints** must be https:// URLs. Plain http is accepted only for loopback hosts, and only
 * when the hub runs with SWITCHBOARD_PUSH_LOOPBACK_HTTP=1 (the tests' fake push service);
 * otherwise a signed-in user could make the hub POST to plain-http services on its own machine.
 *
 * **The payload** (JSON, the service worker's `event.data.json()`), at most MAX_PAYLOAD_BYTES:
 *
 *   { type: "permission" | "permission_resolved" | "turn_finished" | "failed",
 *     title, body,            // ready to show
 *     tag,                    // the Notification tag: "answered" replaces its request's
 *     data: { workspaceId, agentId, streamId, seq, canAnswer,
 *             requestId?, options?: [{ optionId, name, kind }],   // permission only
 *             actor?, outcome? } }                                 // permission_resolved only
 *
 * `kind` is ACP's PermissionOptionKind: allow_once, allow_always, reject_once, reject_always.
 * A permission_resolved push goes only to the subscriptions that were sent the request, with
 * the same tag and Topic, so it replaces a shown notification or one still queued (who was sent
 * what is kept in memory: after a hub restart an answer to an earlier request is not pushed).
 *
 * **Answering from a notification.** When `canAnswer` is true the service worker shows Approve
 * (the first allow_once option, else the first allow_*) and Deny (the first reject_once, else
 * reject_*) and, on a click, calls the Connect API from the worker itself, same origin, so the
 * device's HttpOnly session cookie goes with it and the Origin check passes:
 *
 *   fetch("/api/switchboard.v1.AgentService/AnswerPermission", {
 *     method: "POST", credentials: "same-origin",
 *     headers: { "Content-Type": "application/json" },
 *     body: JSON.stringify({ agentId, requestId, optionId, idempotencyKey: crypto.randomUUID() }),
 *   })
 *
 * 200 means the worker has the answer (`{"duplicate": true}` when the key was seen before); a
 * Connect error (JSON `{code, message}`) such as failed_precondition "already resolved" means
 * someone else answered first, permission_denied that the role changed, unauthenticated that
 * the device was signed out: the worker then opens the app at that agent instead.
 */
import type { Database } from "bun:sqlite";
import {
  chmodSync,
  existsSync,
  linkSync,
  readFileSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { generateRequestDetails, generateVAPIDKeys } from "web-push";
import { EventKind, Role, type Event } from "../gen/switchboard/v1/common_pb.ts";
import { roleOf, usersOfWorkspace } from "./rights.ts";

export const VAPID_FILE = "vapid.json";
/** Requests in flight at once, over all subscriptions. */
export const PUSH_CONCURRENCY = 8;
/** One request to a push service, answer included. */
export const PUSH_TIMEOUT_MS = 15_000;
/** Requests waiting to be sent; past this new ones are dropped (and logged). */
export const PUSH_MAX_QUEUED = 2_000;
/** The push services' limit is 4096 bytes encrypted; this leaves room for the overhead. */
export const MAX_PAYLOAD_BYTES = 3_000;
/** Events older than this when stored (a worker's resend after an outage) are not announced. */
export const STALE_AFTER_MS = 15 * 60_000;
/** Permission requests remembered for their "answered" push. */
const MAX_OPEN_REQUESTS = 1_000;

const HOUR_S = 3600;
const PLACEHOLDER_SUBJECT = "mailto:switchboard-hub@example.invalid";

export interface VapidKeys {
  /** Uncompressed P-256 point (65 bytes), base64url. */
  publicKey: string;
  /** The private scalar (32 bytes), base64url. */
  privateKey: string;
  /** The VAPID `sub` claim: a mailto: or https: URL. */
  subject: string;
}

/**
 * The hub's VAPID keys from `<dataDir>/vapid.json`, made (and written 0600) when missing.
 * A file that is there but unreadable as keys is an error: new keys would silently break
 * every subscription made with the old ones.
 */
export function loadVapidKeys(dataDir: string, publicOrigin: string | null = null): VapidKeys {
  const path = join(dataDir, VAPID_FILE);
  if (!existsSync(path)) {
    const made = generateVAPIDKeys();
    // Written 0600 to a file of its own, then linked into place: a reader never sees half a
    // file, and of two hubs starting at once the second keeps the first's keys.
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(
      tmp,
      JSON.stringify({ publicKey: made.publicKey, privateKey: made.privateKey }, null, 2) + "\n",
      { mode: 0o600 },
    );
    try {
      linkSync(tmp, path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    } finally {
      unlinkSync(tmp);
    }
  }
  if ((statSync(path).mode & 0o077) !== 0) chmodSync(path, 0o600);
  let stored: Partial<VapidKeys>;
  try {
    stored = JSON.parse(readFileSync(path, "utf8")) as Partial<VapidKeys>;
  } catch (err) {
    throw new Error(`${path} is not JSON (${(err as Error).message}); restore it or remove it`);
  }
  const { publicKey, privateKey } = stored;
  if (
    typeof publicKey !== "string" ||
    typeof privateKey !== "string" ||
    !isB64url(publicKey, 65) ||
    Buffer.from(publicKey, "base64url")[0] !== 4 ||
    !isB64url(privateKey, 32)
  ) {
    throw new Error(`${path} does not hold a P-256 key pair; restore it or remove it`);
  }
  const subject =
    typeof stored.subject === "string" && /^(mailto:|https:\/\/)/.test(stored.subject)
      ? stored.subject
      : publicOrigin?.startsWith("https://")
        ? publicOrigin
        : PLACEHOLDER_SUBJECT;
  return { publicKey, privateKey, subject };
}

/** Whether `s` is base64url (no padding) of exactly `bytes` bytes. */
export function isB64url(s: string, bytes: number): boolean {
  return /^[A-Za-z0-9_-]*$/.test(s) && Buffer.from(s, "base64url").length === bytes;
}

/** What the hub holds for Web Push (HubDeps.push). */
export interface HubPush {
  vapid: VapidKeys;
  /** Whether http:// endpoints on loopback hosts are accepted (the tests' fake push service). */
  loopbackHttp: boolean;
  sender: PushSender;
  notifier: PushNotifier;
}

/** Web Push for a hub: its sender and its notifier. */
export function createPush(
  deps: Omit<PushNotifierDeps, "sender"> & { vapid: VapidKeys; fetch?: typeof fetch },
  loopbackHttp = false,
): HubPush {
  const sender = new PushSender({ vapid: deps.vapid, fetch: deps.fetch, log: deps.log });
  const notifier = new PushNotifier({ ...deps, sender });
  return { vapid: deps.vapid, loopbackHttp, sender, notifier };
}

// ---------------------------------------------------------------------------------------------
// Sending

export interface PushTarget {
  endpoint: string;
  p256dh: string;
  auth: string;
}

export interface PushMessage {
  payload: string;
  ttlSeconds: number;
  urgency: "high" | "normal" | "low";
  /** Coalescing key: a queued message with the same topic is replaced by the push service. */
  topic?: string;
}

export type PushOutcome = { ok: true } | { ok: false; gone: boolean; error: string };

interface Job {
  target: PushTarget;
  message: PushMessage;
  done: (outcome: PushOutcome) => void;
}

export interface PushSenderOptions {
  vapid: VapidKeys;
  fetch?: typeof fetch;
  timeoutMs?: number;
  concurrency?: number;
  maxQueued?: number;
  log?: (line: string) => void;
}

/**
 * Sends push messages: web-push builds each request, fetch sends it. A bounded queue, in
 * order per endpoint, a bounded number in flight, each with a timeout; never throws.
 */
export class PushSender {
  private readonly fetch: typeof fetch;
  private readonly timeoutMs: number;
  private readonly concurrency: number;
  private readonly maxQueued: number;
  private readonly log: (line: string) => void;
  /** Waiting jobs per endpoint; an endpoint is in `ready` when it has some and none in flight. */
  private readonly queues = new Map<string, Job[]>();
  private readonly ready: string[] = [];
  private readonly busy = new Set<string>();
  private queued = 0;
  private readonly stopping = new AbortController();
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly opts: PushSenderOptions) {
    this.fetch = opts.fetch ?? fetch;
    this.timeoutMs = opts.timeoutMs ?? PUSH_TIMEOUT_MS;
    this.concurrency = opts.concurrency ?? PUSH_CONCURRENCY;
    this.maxQueued = opts.maxQueued ?? PUSH_MAX_QUEUED;
    this.log = opts.log ?? (() => {});
  }

  /** Queues a message; false (and `done` never called) when the queue is full or stopped. */
  enqueue(target: PushTarget, message: PushMessage, done: (o: PushOutcome) => void): boolean {
    if (this.stopping.signal.aborted) return false;
    if (this.queued >= this.maxQueued) {
      this.log(`push: ${this.queued} messages waiting, dropping one for ${origin(target)}`);
      return false;
    }
    let q = this.queues.get(target.endpoint);
    if (!q) {
      this.queues.set(target.endpoint, (q = []));
      if (!this.busy.has(target.endpoint)) this.ready.push(target.endpoint);
    }
    q.push({ target, message, done });
    this.queued++;
    this.pump();
    return true;
  }

  /** Resolves when nothing is queued or in flight (for tests and shutdown). */
  idle(): Promise<void> {
    if (this.queued === 0 && this.busy.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Drops what waits and aborts what is in flight (their `done` is not called). */
  stop(): void {
    this.stopping.abort();
    this.queues.clear();
    this.ready.length = 0;
    this.queued = 0;
  }

  /** One request: build, send, classify the answer. */
  async send(target: PushTarget, message: PushMessage): Promise<PushOutcome> {
    let details;
    try {
      details = generateRequestDetails(
        { endpoint: target.endpoint, keys: { p256dh: target.p256dh, auth: target.auth } },
        message.payload,
        {
          vapidDetails: this.opts.vapid,
          TTL: message.ttlSeconds,
          urgency: message.urgency,
          contentEncoding: "aes128gcm",
          ...(message.topic ? { topic: message.topic } : {}),
        },
      );
    } catch (err) {
      return { ok: false, gone: false, error: `building the request: ${(err as Error).message}` };
    }
    const headers = new Headers();
    for (const [k, v] of Object.entries(details.headers)) {
      // fetch sets Content-Length from the body itself.
      if (k.toLowerCase() !== "content-length") headers.set(k, String(v));
    }
    try {
      const res = await this.fetch(details.endpoint, {
        method: details.method,
        headers,
        body: details.body,
        redirect: "manual",
        signal: AbortSignal.any([AbortSignal.timeout(this.timeoutMs), this.stopping.signal]),
      });
      const text = await readSome(res, 300);
      if (res.status >= 200 && res.status < 300) return { ok: true };
      const gone = res.status === 404 || res.status === 410;
      return { ok: false, gone, error: `${res.status} ${text}`.trim().slice(0, 300) };
    } catch (err) {
      const e = err as Error;
      const why = e.name === "TimeoutError" ? `no answer within ${this.timeoutMs} ms` : e.message;
      return { ok: false, gone: false, error: why.slice(0, 300) };
    }
  }

  private pump(): void {
    while (this.busy.size < this.concurrency && this.ready.length > 0) {
      const endpoint = this.ready.shift()!;
      const q = this.queues.get(endpoint);
      const job = q?.shift();
      if (!q || !job) continue;
      if (q.length === 0) this.queues.delete(endpoint);
      this.queued--;
      this.busy.add(endpoint);
      void this.send(job.target, job.message).then((outcome) => {
        this.busy.delete(endpoint);
        if (this.queues.has(endpoint)) this.ready.push(endpoint);
        if (!this.stopping.signal.aborted) {
          try {
            job.done(outcome);
          } catch (err) {
            this.log(`push: after sending to ${origin(job.target)}: ${(err as Error).message}`);
          }
        }
        this.pump();
        if (this.queued === 0 && this.busy.size === 0) {
          const waiters = this.idleWaiters;
          this.idleWaiters = [];
          for (const w of waiters) w();
        }
      });
    }
  }
}

/** At most `max` characters of a response body (a push service's answer is small). */
async function readSome(res: Response, max: number): Promise<string> {
  if (!res.body) return "";
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let n = 0;
  try {
    while (n < max) {
      const { value, done } = await reader.read();
      if (done) break;
      chunks.push(value);
      n += value.length;
    }
  } catch {
    // The body failed after the status arrived: the status is what counts.
  } finally {
    void reader.cancel().catch(() => {});
  }
  return new TextDecoder()
    .decode(Buffer.concat(chunks))
    .slice(0, max)
    .replace(/[\u0000-\u001f]+/g, " ");
}

/** The endpoint's origin, for logs (its path is a secret capability). */
function origin(t: PushTarget): string {
  try {
    return new URL(t.endpoint).origin;
  } catch {
    return "(bad endpoint)";
  }
}

// ---------------------------------------------------------------------------------------------
// What to notify

type Pref = "notify_permission" | "notify_turn_finished" | "notify_failed";

interface Notice {
  type: "permission" | "permission_resolved" | "turn_finished" | "failed";
  pref: Pref;
  title: string;
  body: string;
  tag: string;
  /** Fields of `data` beyond the common ones. */
  extra: Record<string, unknown>;
  seq: number;
  urgency: PushMessage["urgency"];
  ttlSeconds: number;
  topic: string;
  /** The request this notice answers (permission_resolved) or opens (permission). */
  requestKey?: string;
}

interface SubscriptionRow {
  endpoint: string;
  deviceId: string;
  p256dh: string;
  auth: string;
  notify_permission: number;
  notify_turn_finished: number;
  notify_failed: number;
}

export interface PushNotifierDeps {
  db: Database;
  live: { isViewing(deviceId: string, streamId: string): boolean };
  sender: PushSender;
  log: (line: string) => void;
  now: () => number;
}

/** Turns stored events into push messages for the devices that want them. */
export class PushNotifier {
  /** Endpoints sent each open permission request ("stream/request" → endpoints), oldest first. */
  private readonly openRequests = new Map<string, Set<string>>();

  constructor(private readonly deps: PushNotifierDeps) {}

  /** Called after a batch is stored; returns at once and never throws. */
  onStored(streamId: string, workspaceId: string, events: Event[]): void {
    try {
      const notices = this.noticesOf(streamId, events);
      if (notices.length > 0) this.deliver(streamId, workspaceId, notices);
    } catch (err) {
      this.deps.log(`push: stream ${streamId}: ${(err as Error).stack ?? err}`);
    }
  }

  private noticesOf(streamId: string, events: Event[]): Notice[] {
    const kinds = new Set([
      EventKind.PERMISSION_REQUEST,
      EventKind.PERMISSION_RESOLVED,
      EventKind.TURN_FINISHED,
      EventKind.AGENT_STATUS,
    ]);
    const relevant = events.filter((e) => kinds.has(e.kind));
    if (relevant.length === 0) return [];
    const agent = this.deps.db
      .query(
        "SELECT a.id, a.name, a.workspace_id AS workspaceId FROM streams s JOIN agents a ON a.id = s.agent_id WHERE s.id = ?",
      )
      .get(streamId) as { id: string; name: string; workspaceId: string } | null;
    if (!agent) return [];
    const name = clip(agent.name, 60);
    const fresh = (e: Event) => this.deps.now() - e.timeMs < STALE_AFTER_MS;
    const byTag = new Map<string, Notice>();
    for (const e of relevant) {
      const j = parseJson(e.json);
      if (!j) continue;
      if (e.kind === EventKind.PERMISSION_REQUEST) {
        const requestId = str(j.requestId);
        const req = (j.request ?? {}) as {
          toolCall?: { title?: unknown };
          options?: { optionId?: unknown; name?: unknown; kind?: unknown }[];
        };
        if (!requestId) continue;
        const options = (Array.isArray(req.options) ? req.options : []).slice(0, 6).map((o) => ({
          optionId: str(o.optionId),
          name: clip(str(o.name), 60),
          kind: str(o.kind).slice(0, 20),
        }));
        const tag = `permission:${streamId}:${clip(requestId, 100)}`;
        byTag.set(tag, {
          type: "permission",
          pref: "notify_permission",
          title: `${name} asks permission`,
          body: clip(str(req.toolCall?.title) || "A tool call waits for your answer", 200),
          tag,
          extra: { requestId, options },
          seq: e.seq,
          urgency: "high",
          ttlSeconds: 24 * HOUR_S,
          topic: topicOf(tag),
          requestKey: `${streamId}/${requestId}`,
        });
      } else if (e.kind === EventKind.PERMISSION_RESOLVED) {
        const requestId = str(j.requestId);
        const tag = `permission:${streamId}:${clip(requestId, 100)}`;
        // Asked and answered within one batch: nobody needs to hear of either.
        if (byTag.delete(tag)) continue;
        const outcome = (j.outcome ?? {}) as { outcome?: unknown; optionId?: unknown };
        const selected = outcome.outcome === "selected";
        const actor = clip(e.actor || "someone", 60);
        byTag.set(tag, {
          type: "permission_resolved",
          pref: "notify_permission",
          title: `${name}: permission ${selected ? "answered" : "withdrawn"}`,
          body: selected ? `Answered by ${actor}` : "The request was withdrawn",
          tag,
          extra: {
            requestId,
            actor,
            outcome: selected ? clip(str(outcome.optionId), 100) : "cancelled",
          },
          seq: e.seq,
          urgency: "normal",
          ttlSeconds: 24 * HOUR_S,
          topic: topicOf(tag),
          requestKey: `${streamId}/${requestId}`,
        });
      } else if (e.kind === EventKind.TURN_FINISHED && fresh(e)) {
        const error = str(j.error);
        const tag = `turn:${streamId}`;
        byTag.set(tag, {
          type: "turn_finished",
          pref: "notify_turn_finished",
          title: error ? `${name}: the turn failed` : `${name} finished`,
          body: clip(error || STOP_REASONS[str(j.stopReason)] || "The turn ended", 200),
          tag,
          extra: { stopReason: str(j.stopReason), error: clip(error, 200) },
          seq: e.seq,
          urgency: "normal",
          ttlSeconds: HOUR_S,
          topic: topicOf(tag),
        });
      } else if (e.kind === EventKind.AGENT_STATUS && j.status === "failed" && fresh(e)) {
        const tag = `failed:${streamId}`;
        byTag.set(tag, {
          type: "failed",
          pref: "notify_failed",
          title: `${name} failed`,
          body: clip(str(j.message) || "The agent stopped", 200),
          tag,
          extra: {},
          seq: e.seq,
          urgency: "normal",
          ttlSeconds: 24 * HOUR_S,
          topic: topicOf(tag),
        });
      }
    }
    return [...byTag.values()].map((n) => ({
      ...n,
      extra: { ...n.extra, workspaceId: agent.workspaceId, agentId: agent.id, streamId },
    }));
  }

  private deliver(streamId: string, workspaceId: string, notices: Notice[]): void {
    const { db, live, sender } = this.deps;
    const subsOf = db.query(
      `SELECT p.endpoint, p.device_id AS deviceId, p.p256dh, p.auth, p.notify_permission,
              p.notify_turn_finished, p.notify_failed
       FROM push_subscriptions p JOIN devices d ON d.id = p.device_id WHERE d.user_id = ?`,
    );
    const recipients: { sub: SubscriptionRow; canAnswer: boolean }[] = [];
    for (const userId of usersOfWorkspace(db, workspaceId)) {
      const role = roleOf(db, userId, workspaceId);
      if (role === Role.UNSPECIFIED) continue;
      for (const sub of subsOf.all(userId) as SubscriptionRow[]) {
        recipients.push({ sub, canAnswer: role >= Role.OPERATOR });
      }
    }
    for (const n of notices) {
      const asked = n.requestKey ? this.openRequests.get(n.requestKey) : undefined;
      if (n.type === "permission_resolved") {
        if (n.requestKey) this.openRequests.delete(n.requestKey);
        if (!asked) continue;
      }
      const sentTo = new Set<string>();
      for (const { sub, canAnswer } of recipients) {
        if (!sub[n.pref]) continue;
        if (n.type === "permission_resolved" && !asked!.has(sub.endpoint)) continue;
        if (live.isViewing(sub.deviceId, streamId)) continue;
        const payload = encodePayload(n, canAnswer);
        const queued = sender.enqueue(
          sub,
          { payload, urgency: n.urgency, ttlSeconds: n.ttlSeconds, topic: n.topic },
          (outcome) => this.settled(sub.endpoint, outcome),
        );
        if (queued) sentTo.add(sub.endpoint);
      }
      if (n.type === "permission" && n.requestKey && sentTo.size > 0) {
        this.openRequests.set(n.requestKey, sentTo);
        if (this.openRequests.size > MAX_OPEN_REQUESTS) {
          this.openRequests.delete(this.openRequests.keys().next().value!);
        }
      }
    }
  }

  /** Records what the push service said of a subscription. */
  private settled(endpoint: string, outcome: PushOutcome): void {
    const { db, log, now } = this.deps;
    if (outcome.ok) {
      db.query(
        "UPDATE push_subscriptions SET last_error = '', last_error_at = NULL WHERE endpoint = ? AND last_error != ''",
      ).run(endpoint);
      return;
    }
    const host = origin({ endpoint, p256dh: "", auth: "" });
    if (outcome.gone) {
      db.query("DELETE FROM push_subscriptions WHERE endpoint = ?").run(endpoint);
      log(`push: ${host} says a subscription is gone (${outcome.error}); removed it`);
      return;
    }
    db.query(
      "UPDATE push_subscriptions SET last_error = ?, last_error_at = ? WHERE endpoint = ?",
    ).run(outcome.error, now(), endpoint);
    log(`push: sending to ${host} failed: ${outcome.error}`);
  }
}

const STOP_REASONS: Record<string, string> = {
  end_turn: "Done: your turn",
  max_tokens: "Stopped: the token limit was reached",
  max_turn_requests: "Stopped: too many requests in one turn",
  refusal: "The agent refused to go on",
  cancelled: "Cancelled",
};

/** The JSON the service worker receives (see "The payload" above). */
export interface PushPayload {
  type: Notice["type"];
  title: string;
  body: string;
  tag: string;
  data: {
    workspaceId: string;
    agentId: string;
    streamId: string;
    seq: number;
    canAnswer: boolean;
    requestId?: string;
    options?: { optionId: string; name: string; kind: string }[];
    actor?: string;
    outcome?: string;
  };
}

/** The JSON the service worker receives, within MAX_PAYLOAD_BYTES. */
function encodePayload(n: Notice, canAnswer: boolean): string {
  const make = (extra: Record<string, unknown>) =>
    JSON.stringify({
      type: n.type,
      title: n.title,
      body: n.body,
      tag: n.tag,
      data: { ...extra, seq: n.seq, canAnswer },
    });
  let json = make(n.extra);
  // Only a permission with many long options could pass the limit: the app shows them all.
  if (Buffer.byteLength(json) > MAX_PAYLOAD_BYTES) json = make({ ...n.extra, options: [] });
  return json;
}

/** A Topic header (at most 32 base64url characters) that is the same for the same tag. */
function topicOf(tag: string): string {
  return new Bun.CryptoHasher("sha256").update(tag).digest("base64url").slice(0, 32);
}

function parseJson(json: string): Record<string, unknown> | null {
  try {
    const v = JSON.parse(json) as unknown;
    return typeof v === "object" && v !== null ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

const str = (v: unknown): string => (typeof v === "string" ? v : "");

/** At most `max` characters on one line. */
function clip(s: string, max: number): string {
  const one = s.replace(/\s+/g, " ").trim();
  return one.length > max ? `${one.slice(0, max - 1)}…` : one;
}
