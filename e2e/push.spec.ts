/**
 * Issue 6, Web Push, and issue 7's journey 6: with the phone page hidden, a permission request
 * arrives as a push and Deny on the notification answers it.
 *
 * Everything on the hub's side is real: the hub runs with SWITCHBOARD_PUSH_LOOPBACK_HTTP=1 and
 * sends to a fake push service on loopback (src/testing/fake-push.ts), for a subscription made
 * by the phone's own page (its device cookie), and the push's body is the hub's: encrypted by
 * it, decrypted with the subscription's keys, its VAPID signature checked.
 *
 * Honest limits, each a stand-in for one thing Chromium here cannot do:
 * - The browser's own push service (Google's, for Chromium) cannot be reached, so the
 *   subscription's keys are the fake subscriber's, and the decrypted JSON is handed to the
 *   phone's service worker through the DevTools protocol (ServiceWorker.deliverPushMessage):
 *   the step a browser does after its push service delivers.
 * - Headless Chromium keeps a background page "visible" (a second page brought to the front,
 *   another window, a minimised one: none makes it hidden), so the phone page is told it is
 *   hidden as the browser would tell it: visibilityState "hidden" and a visibilitychange event.
 *   The app's own code reacts; the test then sees its Viewing frame (visible: false) handled
 *   by the hub before the request is asked.
 * - Headless Chromium shows no notification to click, so the click is asked of the worker by a
 *   message (NOTIFICATION_CLICK, web/src/sw.ts), which runs the same code as a real click: the
 *   worker's own same-origin fetch to AnswerPermission.
 */
import { fromBinary } from "@bufbuild/protobuf";
import type { BrowserContext, Page } from "@playwright/test";
import { EventKind } from "../src/gen/switchboard/v1/common_pb.ts";
import {
  ClientFrameSchema,
  ServerFrameSchema,
  type ClientFrame,
  type ServerFrame,
} from "../src/gen/switchboard/v1/live_pb.ts";
import {
  fakePushService,
  pushSubscriber,
  verifyVapid,
  type PushRequest,
  type PushSubscriber,
} from "../src/testing/fake-push.ts";
import { liveSocket } from "../src/testing/hub.ts";
import type { PushPayload } from "../src/hub/push.ts";
import {
  JOURNEY,
  createWorkspace,
  type Api,
  expect,
  newContext,
  prompt,
  saveScreen,
  signIn,
  startFakeAgent,
  test,
  until,
  useSession,
} from "./fixtures.ts";

/**
 * How long a push the hub should not send is given to show up. The hub sends right after
 * storing (to a push service on loopback: milliseconds), and the test also proves afterwards
 * that nothing was queued (see below), so a short window is enough.
 */
const NO_PUSH_MS = 1_500;

test.use({ hubOptions: { env: { SWITCHBOARD_PUSH_LOOPBACK_HTTP: "1" } } });

interface Shown {
  title: string;
  tag: string;
  actions: string[];
  data: { requestId: string; approve: string; deny: string; url: string };
}

test(
  "journey 6: a permission push reaches the hidden phone, and Deny on it answers the agent",
  { tag: JOURNEY },
  async ({ browser, hub, owner }, info) => {
    const push = await fakePushService();
    const contexts: BrowserContext[] = [];
    try {
      const { workspace } = await createWorkspace(owner, "demo");
      const agent = await startFakeAgent(owner, workspace.id, "pusher");
      // The owner's other session follows the stream (its API; a desktop page comes later).
      const live = await liveSocket(hub.url, owner.jar);
      live.subscribe(agent.streamId);
      const finished = () =>
        live.events(agent.streamId).filter((e) => e.kind === EventKind.TURN_FINISHED).length;
      // A turn ended before the phone subscribes: nothing of it can be pushed to the phone.
      await prompt(owner, agent.id, "say ready when you are");
      await until(() => finished() === 1, 20_000, "the first turn's end");
      const agentUrl = `${hub.url}/w/${workspace.id}/a/${agent.id}`;

      // The phone: signed in as its own device, which subscribes to pushes.
      const phoneContext = await newContext(browser, "phone");
      contexts.push(phoneContext);
      await phoneContext.grantPermissions(["notifications"], { origin: hub.url });
      const phone = await phoneContext.newPage();
      const frames = liveFrames(phone);
      await signIn(phone, hub);
      const sub = await pushSubscriber(`${push.origin}/phone`);
      const path = new URL(sub.endpoint).pathname;
      const subscribed = await connectCall(phone, "PushService/Subscribe", {
        endpoint: sub.endpoint,
        p256dh: sub.p256dh,
        auth: sub.auth,
        notifyPermission: true,
        notifyTurnFinished: true,
        notifyFailed: true,
      });
      expect(subscribed.status).toBe(200);
      const config = await connectCall(phone, "PushService/GetPushConfig", {});
      const { vapidPublicKey, subscription } = config.json as {
        vapidPublicKey: string;
        subscription?: { endpoint: string; notifyPermission: boolean };
      };
      expect(subscription).toMatchObject({ endpoint: sub.endpoint, notifyPermission: true });
      // It is the phone's device that holds it, not the owner's other session.
      const ownerConfig = await sessionCall(owner, "PushService/GetPushConfig", {});
      expect((ownerConfig as { subscription?: unknown }).subscription).toBeUndefined();

      // The phone shows the agent's conversation, visibly.
      await phone.goto(agentUrl);
      const phoneConversation = phone.getByRole("list", { name: "Conversation" });
      await expect(phoneConversation.getByText("ready when you are").first()).toBeVisible();
      const { cdp, registrationId } = await swRegistration(phone, hub.url);
      await frames.handled(
        (f) => f.case === "viewing" && f.value.visible && viewed(f.value).includes(agent.streamId),
        "the phone's Viewing of the agent",
      );

      // A desktop page of the owner's other session on the conversation.
      const desktopContext = await newContext(browser, "desktop");
      contexts.push(desktopContext);
      await useSession(desktopContext, hub, owner);
      const desktop = await desktopContext.newPage();
      await desktop.goto(agentUrl);
      const desktopConversation = desktop.getByRole("list", { name: "Conversation" });
      await expect(desktopConversation.getByText("ready when you are").first()).toBeVisible();

      // While the phone visibly shows the agent, a finished turn is not pushed to it.
      await prompt(owner, agent.id, "say while the phone watches");
      await until(() => finished() === 2, 20_000, "the watched turn's end");
      await expect(phoneConversation.getByText("while the phone watches").first()).toBeVisible();
      await Bun.sleep(NO_PUSH_MS);
      expect(push.to(path)).toHaveLength(0);

      // The phone page becomes hidden (see the top comment), and the hub hears so.
      const hiding = frames.mark();
      const other = await phoneContext.newPage();
      await other.bringToFront();
      let hidden = (await phone.evaluate("document.visibilityState")) === "hidden";
      if (!hidden) {
        await phone.evaluate(`(() => {
          Object.defineProperty(document, "visibilityState", { configurable: true, get: () => "hidden" });
          Object.defineProperty(document, "hidden", { configurable: true, get: () => true });
          document.dispatchEvent(new Event("visibilitychange"));
        })()`);
        hidden = (await phone.evaluate("document.visibilityState")) === "hidden";
        info.annotations.push({
          type: "stand-in",
          description: "the phone page was told it is hidden: bringToFront left it visible",
        });
      }
      expect(hidden).toBe(true);
      await frames.handled(
        (f) => f.case === "viewing" && !f.value.visible,
        "the phone's Viewing, hidden",
        hiding,
      );

      await prompt(owner, agent.id, "permission Delete the logs");
      const asked = await until(
        () => live.events(agent.streamId).find((e) => e.kind === EventKind.PERMISSION_REQUEST),
        20_000,
        "the permission request",
      ).then((e) => e!);

      // The hub's push. It is the first this subscription got: the hub sends in order per
      // subscription, so a push for the watched turn, had there been one, would have come
      // first. That is what makes the empty window above a real check.
      await until(() => push.to(path).length >= 1, 15_000, "a push to the phone");
      const first = await opened(push.to(path)[0]!, sub, vapidPublicKey);
      const payload = JSON.parse(first.text) as PushPayload;
      expect(payload).toMatchObject({
        type: "permission",
        title: "pusher asks permission",
        body: "Delete the logs",
        data: {
          workspaceId: workspace.id,
          agentId: agent.id,
          streamId: agent.streamId,
          seq: asked.seq,
          canAnswer: true,
        },
      });
      const requestId = (JSON.parse(asked.json) as { requestId: string }).requestId;
      expect(payload.data.requestId).toBe(requestId);
      expect(payload.tag).toBe(`permission:${agent.streamId}:${requestId}`);
      const reject = payload.data.options!.find((o) => o.kind.startsWith("reject"))!;
      expect(reject).toBeDefined();

      // The browser hands it to the phone's service worker, which shows it.
      await cdp.send("ServiceWorker.deliverPushMessage", {
        origin: hub.url,
        registrationId,
        data: first.text,
      });
      const shown = (await until(
        async () => (await notifications(phone))[0],
        10_000,
        "a notification",
      ))!;
      expect(shown.title).toBe("pusher asks permission");
      expect(shown.tag).toBe(payload.tag);
      expect(shown.actions).toEqual(["approve", "deny"]);
      expect(shown.data).toMatchObject({ requestId, deny: reject.optionId });
      expect(shown.data.url).toBe(`/w/${workspace.id}/a/${agent.id}`);
      const desktopRequest = desktop.getByRole("group", { name: /Permission: Delete the logs/ });
      await expect(desktopRequest.getByRole("button", { name: reject.name })).toBeVisible();

      // Deny, as a click on the notification's action would.
      const click = { type: "NOTIFICATION_CLICK", tag: payload.tag, action: "deny" };
      await phone.evaluate(
        `navigator.serviceWorker.ready.then((r) => r.active.postMessage(${JSON.stringify(click)}))`,
      );
      const resolved = await until(
        () => live.events(agent.streamId).find((e) => e.kind === EventKind.PERMISSION_RESOLVED),
        20_000,
        "the request answered",
      ).then((e) => e!);
      expect(JSON.parse(resolved.json)).toMatchObject({
        requestId,
        outcome: { outcome: "selected", optionId: reject.optionId },
      });
      expect(resolved.actor).toBe("ada");
      await until(
        () =>
          live
            .events(agent.streamId)
            .some((e) => e.json.includes(`permission: selected ${reject.optionId}`)),
        20_000,
        "the agent told of the answer",
      );
      await expect(desktopRequest.getByText(`ada chose ${reject.name}`)).toBeVisible();
      await expect(desktopRequest.getByRole("button")).toHaveCount(0);
      await expect(
        desktopConversation.getByText(`permission: selected ${reject.optionId}`).first(),
      ).toBeVisible();
      expect(await notifications(phone)).toEqual([]);

      // The hub also tells the phone the request was answered (same tag, replacing it).
      await until(() => push.to(path).length >= 2, 15_000, "the answered push");
      const answered = JSON.parse((await opened(push.to(path)[1]!, sub, vapidPublicKey)).text);
      expect(answered).toMatchObject({
        type: "permission_resolved",
        tag: payload.tag,
        data: { requestId, actor: "ada", outcome: reject.optionId },
      });

      await saveScreen(desktop, info, "push-desktop");
      await saveScreen(phone, info, "push-phone");
      await other.close();
      live.close();
    } finally {
      for (const c of contexts) await c.close();
      push.stop();
    }
  },
);

/** Checks a request as a push service would, and decrypts it as the subscribed browser would. */
async function opened(r: PushRequest, sub: PushSubscriber, vapidKey: string) {
  expect(r.headers.get("content-encoding")).toBe("aes128gcm");
  const claims = await verifyVapid(r.headers.get("authorization") ?? "", vapidKey);
  expect(claims.aud).toBe(new URL(sub.endpoint).origin);
  return { text: await sub.decrypt(r.body) };
}

/** A Connect call (JSON) made from the page, same origin: its device cookie goes along. */
async function connectCall(
  page: Page,
  method: string,
  body: unknown,
): Promise<{ status: number; json: unknown }> {
  return await page.evaluate(
    async ({ url, body }) => {
      const res = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
      return { status: res.status, json: (await res.json()) as unknown };
    },
    { url: `/api/switchboard.v1.${method}`, body },
  );
}

/** The same call from an API session (its cookie jar), as a page of the hub's origin. */
async function sessionCall(a: Api, method: string, body: unknown): Promise<unknown> {
  const res = await fetch(`${a.url}/api/switchboard.v1.${method}`, {
    method: "POST",
    headers: { "content-type": "application/json", cookie: a.jar.header(), origin: a.url },
    body: JSON.stringify(body),
  });
  expect(res.status).toBe(200);
  return await res.json();
}

type Frame<F> = F extends { frame: infer X } ? X : never;
type Sent = Frame<ClientFrame>;
type Heard = Frame<ServerFrame>;

const viewed = (v: { streamId: string; streamIds: string[] }) => [v.streamId, ...v.streamIds];

/**
 * The page's live sockets, frame by frame in both directions (decoded), from now on.
 * `handled(pred, what, since)` waits until the page sent a frame matching `pred` (at or after
 * the `mark()` given as `since`), then wakes the page's live client ("pageshow": it pings an
 * open socket) and waits for the pong to a ping sent after that frame: the hub handles one
 * socket's frames in order and answers a ping at once, so by then it has handled the frame.
 */
function liveFrames(page: Page) {
  const log: { socket: number; sent?: Sent; heard?: Heard }[] = [];
  let sockets = 0;
  page.on("websocket", (ws) => {
    if (!new URL(ws.url()).pathname.startsWith("/live")) return;
    const socket = ++sockets;
    const bytes = (p: string | Buffer) => (typeof p === "string" ? Buffer.from(p) : p);
    ws.on("framesent", (f) => {
      log.push({ socket, sent: fromBinary(ClientFrameSchema, bytes(f.payload)).frame });
    });
    ws.on("framereceived", (f) => {
      log.push({ socket, heard: fromBinary(ServerFrameSchema, bytes(f.payload)).frame });
    });
  });
  return {
    /** Where the log is now. */
    mark: () => log.length,
    async handled(pred: (f: Sent) => boolean, what: string, since = 0): Promise<void> {
      const at = (await until(
        () => {
          const i = log.findLastIndex((r, j) => j >= since && r.sent && pred(r.sent));
          return i >= 0 ? { i, socket: log[i]!.socket } : null;
        },
        10_000,
        `${what} sent`,
      ))!;
      await page.evaluate('window.dispatchEvent(new Event("pageshow"))');
      const ping = await until(
        () =>
          log.find((r, j) => j > at.i && r.socket === at.socket && r.sent?.case === "ping")?.sent,
        10_000,
        `a ping after ${what}`,
      );
      const nonce = ping!.case === "ping" ? ping!.value.nonce : -1;
      await until(
        () =>
          log.some(
            (r) =>
              r.socket === at.socket && r.heard?.case === "pong" && r.heard.value.nonce === nonce,
          ),
        10_000,
        `the hub's pong after ${what}`,
      );
    },
  };
}

/** A DevTools session with its ServiceWorker domain on, and the worker's registration id. */
async function swRegistration(page: Page, origin: string) {
  await page.evaluate("navigator.serviceWorker.ready.then(() => true)");
  const cdp = await page.context().newCDPSession(page);
  const ids: string[] = [];
  cdp.on("ServiceWorker.workerRegistrationUpdated", (e) => {
    for (const r of e.registrations) if (r.scopeURL === `${origin}/`) ids.push(r.registrationId);
  });
  await cdp.send("ServiceWorker.enable");
  const registrationId = (await until(() => ids[0], 10_000, "the service worker's registration"))!;
  return { cdp, registrationId };
}

/** The service worker's shown notifications. (Strings run in the page: no DOM types here.) */
async function notifications(page: Page): Promise<Shown[]> {
  return (await page.evaluate(`navigator.serviceWorker.ready
    .then((r) => r.getNotifications())
    .then((shown) => shown.map((n) => ({
      title: n.title,
      tag: n.tag,
      actions: (n.actions ?? []).map((a) => a.action),
      data: n.data,
    })))`)) as Shown[];
}
