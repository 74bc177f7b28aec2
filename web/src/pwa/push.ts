/**
 * Web Push on this device: whether it can have it, whether it is on, and which events it
 * wants (PushService's three choices). Turning it on asks the browser's permission, subscribes
 * its PushManager with the hub's VAPID public key and gives the subscription to the hub;
 * turning it off does the reverse. The browser side is passed in (`PushPlatform`) so tests
 * can use a fake one.
 */
import { defineStore } from "pinia";
import { computed, reactive, ref } from "vue";
import { useServices } from "../services.ts";

/** What the device is notified of. */
export interface PushChoices {
  permission: boolean;
  turnFinished: boolean;
  failed: boolean;
}

export const DEFAULT_CHOICES: PushChoices = { permission: true, turnFinished: true, failed: true };

/** The browser's part: permission and the PushManager of the app's service worker. */
export interface PushPlatform {
  /** Why this device cannot have push, or null when it can. */
  unsupported(): string | null;
  permission(): NotificationPermission;
  requestPermission(): Promise<NotificationPermission>;
  /** The PushManager of the registered service worker (null when none is registered). */
  pushManager(): Promise<PushManager | null>;
}

export function browserPush(): PushPlatform {
  return {
    unsupported() {
      if (typeof window === "undefined") return "Notifications need a browser.";
      if (!window.isSecureContext) {
        return "Notifications need the hub on https:// (or localhost); this page is not.";
      }
      if (!("serviceWorker" in navigator) || !("PushManager" in window)) {
        return "This browser cannot receive notifications. On an iPhone, add the app to the Home Screen first.";
      }
      if (!("Notification" in window)) return "This browser cannot show notifications.";
      return null;
    },
    permission: () => Notification.permission,
    requestPermission: () => Notification.requestPermission(),
    async pushManager() {
      const reg = await navigator.serviceWorker.getRegistration("/");
      return reg?.pushManager ?? null;
    },
  };
}

export function toB64url(buf: ArrayBuffer | null): string {
  if (!buf) return "";
  let s = "";
  for (const b of new Uint8Array(buf)) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export function fromB64url(s: string): Uint8Array<ArrayBuffer> {
  const bin = atob(s.replace(/-/g, "+").replace(/_/g, "/"));
  const out = new Uint8Array(new ArrayBuffer(bin.length));
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

export const usePushStore = defineStore("push", () => {
  const { api } = useServices();
  let platform: PushPlatform = browserPush();
  /** The hub has a subscription for this device. */
  const enabled = ref(false);
  const choices = reactive<PushChoices>({ ...DEFAULT_CHOICES });
  const lastError = ref("");
  const permission = ref<NotificationPermission>("default");
  const unsupported = ref<string | null>(null);
  let vapidKey = "";

  /** Tests hand in a fake browser. */
  function usePlatform(p: PushPlatform): void {
    platform = p;
  }

  /** What the hub has for this device, and whether the browser still has it. */
  async function load(): Promise<void> {
    unsupported.value = platform.unsupported();
    if (unsupported.value) return;
    permission.value = platform.permission();
    const config = await api.push.getPushConfig({});
    vapidKey = config.vapidPublicKey;
    const sub = config.subscription;
    const mine = await (await platform.pushManager())?.getSubscription();
    // The hub's subscription only counts when it is this browser's current one.
    enabled.value = !!sub && !!mine && mine.endpoint === sub.endpoint;
    if (sub) {
      choices.permission = sub.notifyPermission;
      choices.turnFinished = sub.notifyTurnFinished;
      choices.failed = sub.notifyFailed;
      lastError.value = sub.lastError;
    }
  }

  /** Turns push on (or saves new choices): permission, the browser's subscription, the hub. */
  async function enable(): Promise<void> {
    if (!vapidKey) await load();
    if (unsupported.value) throw new Error(unsupported.value);
    permission.value = await platform.requestPermission();
    if (permission.value !== "granted") {
      throw new Error("Notifications are blocked for this site; allow them in the browser.");
    }
    const pm = await platform.pushManager();
    if (!pm) throw new Error("The app's service worker is not running; reload the page.");
    const key = fromB64url(vapidKey);
    let sub = await pm.getSubscription();
    // Made with another key (the hub's vapid.json was replaced): that one cannot be used.
    if (sub && !sameKey(sub.options.applicationServerKey, key)) {
      await sub.unsubscribe();
      sub = null;
    }
    sub ??= await pm.subscribe({ userVisibleOnly: true, applicationServerKey: key });
    await api.push.subscribe({
      endpoint: sub.endpoint,
      p256dh: toB64url(sub.getKey("p256dh")),
      auth: toB64url(sub.getKey("auth")),
      notifyPermission: choices.permission,
      notifyTurnFinished: choices.turnFinished,
      notifyFailed: choices.failed,
    });
    enabled.value = true;
    lastError.value = "";
  }

  /** Turns push off on this device: the hub forgets it, the browser drops it. */
  async function disable(): Promise<void> {
    await api.push.unsubscribe({ endpoint: "" });
    enabled.value = false;
    const sub = await (await platform.pushManager())?.getSubscription();
    await sub?.unsubscribe();
  }

  const blocked = computed(() => permission.value === "denied");

  return {
    enabled,
    choices,
    lastError,
    permission,
    unsupported,
    blocked,
    usePlatform,
    load,
    enable,
    disable,
  };
});

function sameKey(a: ArrayBuffer | null, b: Uint8Array): boolean {
  if (!a) return false;
  const x = new Uint8Array(a);
  return x.length === b.length && x.every((v, i) => v === b[i]);
}
