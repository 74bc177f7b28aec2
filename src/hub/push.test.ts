/**
 * Web Push, on the real `bun server.ts` process and a fake push service on loopback: who is
 * notified of what (and who is not), what the push service is sent (VAPID JWT signed by the
 * hub's key, aes128gcm payload decrypted with the subscription's own keys), answering from a
 * notification, subscriptions removed when gone or when their device is revoked, and the keys
 * kept across a restart. The sender's queue is tested in process with an injected fetch.
 */
import { Database } from "bun:sqlite";
import { afterEach, expect, test } from "bun:test";
import { Code, ConnectError, type Client } from "@connectrpc/connect";
import { statSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { AgentService } from "../gen/switchboard/v1/agent_pb.ts";
import { AuthService } from "../gen/switchboard/v1/auth_pb.ts";
import { AgentKind, AgentStatus, EventKind, Role } from "../gen/switchboard/v1/common_pb.ts";
import { PushService } from "../gen/switchboard/v1/push_pb.ts";
import { WorkerService } from "../gen/switchboard/v1/worker_pb.ts";
import { WorkspaceService } from "../gen/switchboard/v1/workspace_pb.ts";
import { FAKE_AGENT } from "../testing/clients.ts";
import {
  fakePushService,
  pushSubscriber,
  verifyVapid,
  type PushRequest,
  type PushSubscriber,
} from "../testing/fake-push.ts";
import { tempDir } from "../testing/harness.ts";
import { browser, liveSocket, startHub, until, type HubRun } from "../testing/hub.ts";
import { PushSender, loadVapidKeys, type PushOutcome, type PushPayload } from "./push.ts";

const PASSWORD = "correct horse battery";
const LOOPBACK_ENV = { SWITCHBOARD_PUSH_LOOPBACK_HTTP: "1" };

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

type Browser = ReturnType<typeof browser>;

async function ownerHub(opts: Parameters<typeof startHub>[0] = {}) {
  const hub = await startHub({ env: LOOPBACK_ENV, ...opts });
  cleanups.push(() => hub.stop());
  const desk = browser(hub.url);
  await desk.client(AuthService).setup({ token: hub.setupToken!, name: "ada", password: PASSWORD });
  return { hub, desk };
}

async function pushService() {
  const push = await fakePushService();
  cleanups.push(() => push.stop());
  return push;
}

/** Another browser signed in as `name` (a second device of that user). */
async function signIn(hub: HubRun, name: string, password = PASSWORD): Promise<Browser> {
  const b = browser(hub.url);
  await b.client(AuthService).login({ name, password });
  return b;
}

async function invite(hub: HubRun, owner: Browser, name: string): Promise<Browser> {
  const { token } = await owner.client(AuthService).createInvite({});
  const other = browser(hub.url);
  await other.client(AuthService).acceptInvite({ token, name, password: PASSWORD });
  return other;
}

async function workspaceWithAgent(b: Browser) {
  await until(
    async () =>
      (await b.client(WorkerService).listWorkers({})).workers.find((w) => w.local)?.online,
    10_000,
    "local worker online",
  );
  const local = (await b.client(WorkerService).listWorkers({})).workers.find((w) => w.local)!;
  const { workspace } = await b
    .client(WorkspaceService)
    .createWorkspace({ name: "demo", workerId: local.id, path: tempDir("ws") });
  const { agent } = await b.client(AgentService).startAgent({
    workspaceId: workspace!.id,
    kind: AgentKind.ACP,
    command: FAKE_AGENT,
    name: "fake",
  });
  await statusIs(b.client(AgentService), workspace!.id, AgentStatus.IDLE);
  return { workspace: workspace!, agent: agent! };
}

async function statusIs(agents: Client<typeof AgentService>, wsId: string, s: AgentStatus) {
  await until(
    async () => (await agents.listAgents({ workspaceId: wsId })).agents[0]?.status === s,
    15_000,
    `status ${AgentStatus[s]}`,
  );
}

/** Subscribes the browser's device to `path` on the fake push service, every choice on. */
async function subscribe(b: Browser, origin: string, path: string, prefs = {}) {
  const sub = await pushSubscriber(`${origin}${path}`);
  await b.client(PushService).subscribe({
    endpoint: sub.endpoint,
    p256dh: sub.p256dh,
    auth: sub.auth,
    notifyPermission: true,
    notifyTurnFinished: true,
    notifyFailed: true,
    ...prefs,
  });
  return sub;
}

/** Checks one request as a push service would, and decrypts it as the browser would. */
async function open(r: PushRequest, sub: PushSubscriber, vapidKey: string): Promise<PushPayload> {
  expect(r.headers.get("content-encoding")).toBe("aes128gcm");
  expect(Number(r.headers.get("ttl"))).toBeGreaterThan(0);
  expect(r.headers.get("urgency")).toMatch(/^(high|normal|low)$/);
  const claims = await verifyVapid(r.headers.get("authorization") ?? "", vapidKey);
  expect(claims.aud).toBe(new URL(sub.endpoint).origin);
  const nowS = Date.now() / 1000;
  expect(claims.exp).toBeGreaterThan(nowS);
  expect(claims.exp).toBeLessThanOrEqual(nowS + 24 * 3600);
  expect(claims.sub).toMatch(/^(mailto:|https:)/);
  return JSON.parse(await sub.decrypt(r.body)) as PushPayload;
}

/** Waits for the push service to have at least `n` requests for the subscription's path. */
async function received(
  push: Awaited<ReturnType<typeof fakePushService>>,
  sub: PushSubscriber,
  vapidKey: string,
  n: number,
): Promise<{ requests: PushRequest[]; payloads: PushPayload[] }> {
  const path = new URL(sub.endpoint).pathname;
  await until(() => push.to(path).length >= n, 15_000, `${n} pushes to ${path}`);
  const requests = push.to(path);
  const payloads = await Promise.all(requests.map((r) => open(r, sub, vapidKey)));
  return { requests, payloads };
}

function hubDb(hub: HubRun): Database {
  const db = new Database(join(hub.dataDir, "hub.db"));
  db.run("PRAGMA busy_timeout = 5000");
  cleanups.push(() => db.close());
  return db;
}

const text = (t: string) => JSON.stringify([{ type: "text", text: t }]);

test("a permission request is pushed to the owner's other device, an operator and a viewer, not to the device watching; answered from the notification", async () => {
  const push = await pushService();
  const { hub, desk } = await ownerHub();
  const { workspace, agent } = await workspaceWithAgent(desk);
  const phone = await signIn(hub, "ada");
  const olga = await invite(hub, desk, "olga");
  const vic = await invite(hub, desk, "vic");
  const shares = desk.client(WorkspaceService);
  await shares.shareWorkspace({ workspaceId: workspace.id, userName: "olga", role: Role.OPERATOR });
  await shares.shareWorkspace({ workspaceId: workspace.id, userName: "vic", role: Role.VIEWER });

  const { vapidPublicKey } = await phone.client(PushService).getPushConfig({});
  expect(Buffer.from(vapidPublicKey, "base64url")).toHaveLength(65);
  const subs = {
    desk: await subscribe(desk, push.origin, "/desk"),
    phone: await subscribe(phone, push.origin, "/phone"),
    olga: await subscribe(olga, push.origin, "/olga"),
    vic: await subscribe(vic, push.origin, "/vic"),
  };
  // The desk shows this agent, visibly, in its second pane.
  const deskLive = await liveSocket(hub.url, desk.jar);
  cleanups.push(() => deskLive.close());
  deskLive.subscribe(agent.streamId, 0);
  deskLive.viewing("another-stream", true, [agent.streamId]);
  await deskLive.settled();

  await desk
    .client(AgentService)
    .prompt({ agentId: agent.id, promptJson: text("permission Deploy") });
  const phoneGot = await received(push, subs.phone, vapidPublicKey, 1);
  const olgaGot = await received(push, subs.olga, vapidPublicKey, 1);
  const vicGot = await received(push, subs.vic, vapidPublicKey, 1);
  expect(phoneGot.requests[0]!.headers.get("urgency")).toBe("high");
  const asked = phoneGot.payloads[0]!;
  expect(asked).toMatchObject({
    type: "permission",
    title: "fake asks permission",
    body: "Deploy",
    data: {
      workspaceId: workspace.id,
      agentId: agent.id,
      streamId: agent.streamId,
      canAnswer: true,
      options: [
        { optionId: "allow", name: "Allow", kind: "allow_once" },
        { optionId: "reject", name: "Reject", kind: "reject_once" },
      ],
    },
  });
  const requestId = asked.data.requestId!;
  expect(requestId).not.toBe("");
  expect(olgaGot.payloads[0]).toMatchObject({ type: "permission", data: { canAnswer: true } });
  // A viewer hears of it but may not answer.
  expect(vicGot.payloads[0]).toMatchObject({
    type: "permission",
    data: { requestId, canAnswer: false },
  });

  // The service worker answers with a same-origin JSON Connect call carrying the cookie.
  const res = await fetch(`${hub.url}/api/switchboard.v1.AgentService/AnswerPermission`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      cookie: phone.jar.header(),
      origin: hub.url,
      "sec-fetch-site": "same-origin",
    },
    body: JSON.stringify({
      agentId: asked.data.agentId,
      requestId,
      optionId: asked.data.options![0]!.optionId,
      idempotencyKey: crypto.randomUUID(),
    }),
  });
  expect(res.status).toBe(200);
  expect(await res.json()).toEqual({});
  await until(
    () =>
      deskLive
        .events(agent.streamId)
        .some((e) => e.kind === EventKind.PERMISSION_RESOLVED && e.actor === "ada"),
    10_000,
    "resolved by ada",
  );

  // Each device that was shown the request is told it was answered (same tag), then the turn end.
  const after = await received(push, subs.phone, vapidPublicKey, 3);
  expect(after.payloads.map((p) => p.type)).toEqual([
    "permission",
    "permission_resolved",
    "turn_finished",
  ]);
  expect(after.payloads[1]).toMatchObject({
    tag: asked.tag,
    data: { requestId, actor: "ada", outcome: "allow" },
  });
  expect(after.payloads[2]).toMatchObject({ title: "fake finished", data: { canAnswer: true } });
  expect((await received(push, subs.vic, vapidPublicKey, 3)).payloads[2]!.type).toBe(
    "turn_finished",
  );

  // Once the desk's page is hidden it is notified too; nothing came before (one queue per
  // subscription keeps the order, so a push for the permission would have come first).
  deskLive.viewing(agent.streamId, false);
  await deskLive.settled();
  await desk.client(AgentService).prompt({ agentId: agent.id, promptJson: text("say again") });
  const deskGot = await received(push, subs.desk, vapidPublicKey, 1);
  expect(deskGot.payloads[0]).toMatchObject({
    type: "turn_finished",
    data: { streamId: agent.streamId },
  });
});

test("gone from the push service removes the subscription, other errors are kept, failures are pushed", async () => {
  const push = await pushService();
  const { hub, desk } = await ownerHub();
  const { agent } = await workspaceWithAgent(desk);
  const phone = await signIn(hub, "ada");
  const tablet = await signIn(hub, "ada");
  push.answer("/gone", 410);
  push.answer("/broken", 500);
  const { vapidPublicKey } = await desk.client(PushService).getPushConfig({});
  const ok = await subscribe(desk, push.origin, "/ok");
  await subscribe(phone, push.origin, "/gone");
  await subscribe(tablet, push.origin, "/broken");
  const db = hubDb(hub);
  const endpoints = () =>
    (
      db.query("SELECT endpoint FROM push_subscriptions ORDER BY endpoint").all() as {
        endpoint: string;
      }[]
    ).map((r) => new URL(r.endpoint).pathname);
  expect(endpoints()).toEqual(["/broken", "/gone", "/ok"]);

  await desk.client(AgentService).prompt({ agentId: agent.id, promptJson: text("say hi") });
  await until(() => push.to("/gone").length === 1, 15_000, "a push to /gone");
  await until(() => !endpoints().includes("/gone"), 10_000, "/gone removed");
  expect((await phone.client(PushService).getPushConfig({})).subscription).toBeUndefined();
  const broken = await until(
    async () => (await tablet.client(PushService).getPushConfig({})).subscription?.lastError,
    10_000,
    "last_error kept",
  );
  expect(broken).toContain("500");
  expect(endpoints()).toEqual(["/broken", "/ok"]);

  const first = await received(push, ok, vapidPublicKey, 1);
  expect(first.payloads[0]).toMatchObject({ type: "turn_finished", body: "Done: your turn" });

  // An agent that fails is announced.
  await desk
    .client(AgentService)
    .prompt({ agentId: agent.id, promptJson: text("crash 7") })
    .catch(() => {});
  const failed = await until(
    async () =>
      (await received(push, ok, vapidPublicKey, 1)).payloads.find((p) => p.type === "failed"),
    15_000,
    "a failed push",
  );
  expect(failed).toMatchObject({ title: "fake failed", data: { agentId: agent.id } });
  expect(push.to("/gone")).toHaveLength(1);
});

test("subscriptions: checked, one per device, choices respected, dropped with a revoked device", async () => {
  const push = await pushService();
  const { hub, desk } = await ownerHub();
  const { agent } = await workspaceWithAgent(desk);
  const phone = await signIn(hub, "ada");
  const pushApi = phone.client(PushService);
  const good = await pushSubscriber(`${push.origin}/phone`);
  const refused = async (patch: Record<string, string>) => {
    const err = await pushApi
      .subscribe({ endpoint: good.endpoint, p256dh: good.p256dh, auth: good.auth, ...patch })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectError);
    return (err as ConnectError).code;
  };
  expect(await refused({ endpoint: "http://push.example/x" })).toBe(Code.InvalidArgument);
  expect(await refused({ endpoint: "ftp://push.example/x" })).toBe(Code.InvalidArgument);
  expect(await refused({ endpoint: `https://push.example/${"x".repeat(3000)}` })).toBe(
    Code.InvalidArgument,
  );
  expect(await refused({ endpoint: "https://user:pw@push.example/x" })).toBe(Code.InvalidArgument);
  expect(await refused({ p256dh: good.auth })).toBe(Code.InvalidArgument);
  // 65 bytes starting with 4, but not a point on the curve.
  const offCurve = Buffer.alloc(65, 1);
  offCurve[0] = 4;
  expect(await refused({ p256dh: offCurve.toString("base64url") })).toBe(Code.InvalidArgument);
  expect(await refused({ auth: good.p256dh })).toBe(Code.InvalidArgument);
  const anon = await browser(hub.url)
    .client(PushService)
    .getPushConfig({})
    .catch((e: unknown) => e);
  expect((anon as ConnectError).code).toBe(Code.Unauthenticated);

  // A second subscription replaces the device's first; choices are kept per device.
  await subscribe(phone, push.origin, "/old");
  const sub = await subscribe(phone, push.origin, "/phone", { notifyTurnFinished: false });
  const mine = (await pushApi.getPushConfig({})).subscription!;
  expect(mine).toMatchObject({
    endpoint: sub.endpoint,
    notifyPermission: true,
    notifyTurnFinished: false,
    notifyFailed: true,
    lastError: "",
  });
  const deskSub = await subscribe(desk, push.origin, "/desk", { notifyPermission: false });
  const db = hubDb(hub);
  const rows = () =>
    db.query("SELECT count(*) AS n FROM push_subscriptions").get() as { n: number };
  expect(rows().n).toBe(2);

  // The phone does not want turn ends, the desk no permissions: each gets only the other.
  const { vapidPublicKey } = await pushApi.getPushConfig({});
  await desk.client(AgentService).prompt({ agentId: agent.id, promptJson: text("permission") });
  const phoneGot = await received(push, sub, vapidPublicKey, 1);
  expect(phoneGot.payloads[0]!.type).toBe("permission");
  await desk.client(AgentService).answerPermission({
    agentId: agent.id,
    requestId: phoneGot.payloads[0]!.data.requestId!,
    optionId: "reject",
  });
  const deskGot = await received(push, deskSub, vapidPublicKey, 1);
  expect(deskGot.payloads[0]!.type).toBe("turn_finished");
  // The phone hears the answer (it was shown the request), and nothing more.
  const phoneAll = await received(push, sub, vapidPublicKey, 2);
  expect(phoneAll.payloads[1]).toMatchObject({
    type: "permission_resolved",
    data: { outcome: "reject" },
  });

  // Revoking the phone drops its subscription; unsubscribing drops the desk's.
  const phoneId = (await desk.client(AuthService).listDevices({})).devices.find(
    (d) => !d.current,
  )!.id;
  await desk.client(AuthService).revokeDevice({ deviceId: phoneId });
  expect(
    db.query("SELECT count(*) AS n FROM push_subscriptions WHERE device_id = ?").get(phoneId),
  ).toEqual({ n: 0 });
  expect(rows().n).toBe(1);
  await desk.client(PushService).unsubscribe({ endpoint: deskSub.endpoint });
  expect(rows().n).toBe(0);
  expect(push.to("/old")).toHaveLength(0);
});

test("the VAPID keys are made once, kept private in the data folder, and the same after a restart", async () => {
  const dataDir = tempDir("hub-vapid");
  const first = await startHub({ dataDir });
  cleanups.push(() => first.stop());
  const b = browser(first.url);
  await b.client(AuthService).setup({ token: first.setupToken!, name: "ada", password: PASSWORD });
  const { vapidPublicKey } = await b.client(PushService).getPushConfig({});
  const file = join(dataDir, "vapid.json");
  expect(statSync(file).mode & 0o777).toBe(0o600);
  const stored = JSON.parse(readFileSync(file, "utf8")) as { publicKey: string };
  expect(stored.publicKey).toBe(vapidPublicKey);
  // Without SWITCHBOARD_PUSH_LOOPBACK_HTTP, plain http is refused even on loopback.
  const sub = await pushSubscriber("http://127.0.0.1:9/push");
  const err = await b
    .client(PushService)
    .subscribe({ endpoint: sub.endpoint, p256dh: sub.p256dh, auth: sub.auth })
    .catch((e: unknown) => e);
  expect((err as ConnectError).code).toBe(Code.InvalidArgument);
  await first.stop();

  const second = await startHub({ dataDir });
  cleanups.push(() => second.stop());
  const again = await signIn(second, "ada");
  expect((await again.client(PushService).getPushConfig({})).vapidPublicKey).toBe(vapidPublicKey);
  expect(loadVapidKeys(dataDir).publicKey).toBe(vapidPublicKey);
});

test("the sender: in order per subscription, a bounded number in flight, timeouts and gone answers", async () => {
  const vapid = loadVapidKeys(tempDir("vapid"));
  const pending: { url: string; resolve: (r: Response) => void }[] = [];
  let inFlight = 0;
  let most = 0;
  const fakeFetch = ((url: string, init: RequestInit) => {
    inFlight++;
    most = Math.max(most, inFlight);
    return new Promise<Response>((resolve, reject) => {
      if (url.endsWith("/hang")) {
        init.signal!.addEventListener("abort", () => {
          inFlight--;
          reject(init.signal!.reason);
        });
        return;
      }
      pending.push({
        url,
        resolve: (r) => {
          inFlight--;
          resolve(r);
        },
      });
    });
  }) as unknown as typeof fetch;
  const sender = new PushSender({ vapid, fetch: fakeFetch, concurrency: 2, timeoutMs: 50 });
  const a = await pushSubscriber("https://push.example/a");
  const b = await pushSubscriber("https://push.example/b");
  const c = await pushSubscriber("https://push.example/c");
  const outcomes: string[] = [];
  const note = (name: string) => (o: PushOutcome) =>
    outcomes.push(`${name} ${o.ok ? "ok" : o.gone ? "gone" : o.error}`);
  const msg = (n: number) => ({
    payload: `{"n":${n}}`,
    ttlSeconds: 60,
    urgency: "normal" as const,
  });
  sender.enqueue(a, msg(1), note("a1"));
  sender.enqueue(a, msg(2), note("a2"));
  sender.enqueue(b, msg(3), note("b3"));
  sender.enqueue(c, msg(4), note("c4"));
  // Two at once: a's first and b's; a's second waits for a's first.
  await until(() => pending.length === 2, 5_000, "two in flight");
  expect(pending.map((p) => p.url)).toEqual([a.endpoint, b.endpoint]);
  pending.shift()!.resolve(new Response(null, { status: 201 }));
  await until(() => pending.length === 2, 5_000, "next in flight");
  expect(pending.map((p) => p.url)).toEqual([b.endpoint, c.endpoint]);
  pending.shift()!.resolve(new Response("gone", { status: 410 }));
  await until(() => pending.length === 2, 5_000, "a2 in flight");
  expect(pending.at(-1)!.url).toBe(a.endpoint);
  pending.shift()!.resolve(new Response("nope", { status: 429 }));
  pending.shift()!.resolve(new Response(null, { status: 201 }));
  await sender.idle();
  expect(outcomes.slice(0, 2)).toEqual(["a1 ok", "b3 gone"]);
  expect(outcomes.slice(2).sort()).toEqual(["a2 ok", "c4 429 nope"]);
  expect(most).toBe(2);

  const hang = await pushSubscriber("https://push.example/hang");
  const timedOut = await sender.send(hang, msg(5));
  expect(timedOut).toEqual({ ok: false, gone: false, error: "no answer within 50 ms" });
  expect(inFlight).toBe(0);
});
