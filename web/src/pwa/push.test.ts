/** Push on this device: the browser's subscription given to the hub, with the choices. */
import { expect, test } from "bun:test";
import { create } from "@bufbuild/protobuf";
import {
  PushService,
  PushSubscriptionSchema,
  type SubscribeRequest,
} from "@gen/switchboard/v1/push_pb.ts";
import { testApp } from "../testing/app.ts";
import { fromB64url, toB64url, usePushStore, type PushPlatform } from "./push.ts";

const VAPID = toB64url(new Uint8Array(65).fill(4).buffer);

/** A browser whose PushManager hands out one subscription per key. */
function fakeBrowser(permission: NotificationPermission = "granted") {
  let current: PushSubscription | null = null;
  let made = 0;
  const pm = {
    getSubscription: async () => current,
    subscribe: async (o: PushSubscriptionOptionsInit) => {
      made++;
      const key = o.applicationServerKey as Uint8Array;
      current = {
        endpoint: `https://push.example/ep${made}`,
        options: { applicationServerKey: key.slice().buffer, userVisibleOnly: true },
        getKey: (n: string) => new Uint8Array(n === "auth" ? 16 : 65).fill(made).buffer,
        unsubscribe: async () => ((current = null), true),
      } as unknown as PushSubscription;
      return current;
    },
  } as unknown as PushManager;
  const platform: PushPlatform = {
    unsupported: () => null,
    permission: () => permission,
    requestPermission: async () => permission,
    pushManager: async () => pm,
  };
  return { platform, current: () => current, made: () => made };
}

function setup(permission?: NotificationPermission) {
  const subs: SubscribeRequest[] = [];
  let unsubscribed = 0;
  const t = testApp({
    routes: (r) =>
      r.service(PushService, {
        getPushConfig: () => {
          const last = subs.at(-1);
          if (!last) return { vapidPublicKey: VAPID };
          const { endpoint, notifyPermission, notifyTurnFinished, notifyFailed } = last;
          const sub = { endpoint, notifyPermission, notifyTurnFinished, notifyFailed };
          return { vapidPublicKey: VAPID, subscription: create(PushSubscriptionSchema, sub) };
        },
        subscribe: (req) => (subs.push(req), {}),
        unsubscribe: () => (unsubscribed++, {}),
      }),
  });
  const browser = fakeBrowser(permission);
  const push = t.run(() => usePushStore());
  push.usePlatform(browser.platform);
  return { push, subs, browser, unsubscribed: () => unsubscribed };
}

test("turning on subscribes with the hub's key and gives the hub the keys and choices", async () => {
  const s = setup();
  await s.push.load();
  expect(s.push.enabled).toBe(false);
  s.push.choices.turnFinished = false;
  await s.push.enable();
  expect(s.push.enabled).toBe(true);
  expect(s.subs).toHaveLength(1);
  expect(s.subs[0]).toMatchObject({
    endpoint: "https://push.example/ep1",
    p256dh: toB64url(new Uint8Array(65).fill(1).buffer),
    auth: toB64url(new Uint8Array(16).fill(1).buffer),
    notifyPermission: true,
    notifyTurnFinished: false,
    notifyFailed: true,
  });
  expect(new Uint8Array(s.browser.current()!.options.applicationServerKey!)).toEqual(
    fromB64url(VAPID),
  );

  // New choices reuse the browser's subscription; a reload reads them back from the hub.
  s.push.choices.failed = false;
  await s.push.enable();
  expect(s.browser.made()).toBe(1);
  expect(s.subs[1]).toMatchObject({ endpoint: "https://push.example/ep1", notifyFailed: false });
  s.push.choices.failed = true;
  await s.push.load();
  expect(s.push.choices.failed).toBe(false);
  expect(s.push.enabled).toBe(true);

  await s.push.disable();
  expect(s.unsubscribed()).toBe(1);
  expect(s.push.enabled).toBe(false);
  expect(s.browser.current()).toBeNull();
});

test("blocked notifications are an error and nothing is subscribed", async () => {
  const s = setup("denied");
  const err = await s.push.enable().catch((e: unknown) => e);
  expect(String(err)).toContain("blocked");
  expect(s.push.blocked).toBe(true);
  expect(s.subs).toHaveLength(0);
});

test("base64url both ways", () => {
  const bytes = new Uint8Array([251, 255, 0, 1, 62, 63]);
  expect(toB64url(bytes.buffer)).toBe("-_8AAT4_");
  expect(fromB64url("-_8AAT4_")).toEqual(bytes);
});
