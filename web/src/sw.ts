/**
 * The service worker (built by vite-plugin-pwa's injectManifest into /sw.js).
 *
 * - Offline shell: the build's files are precached; any navigation gets index.html (the app
 *   routes in the browser), except the hub's own paths. Nothing from /api, /live or /link is
 *   ever cached: the app keeps its data in IndexedDB itself.
 * - Updates wait: a new worker is installed but takes over only when the page asks
 *   (SKIP_WAITING, after the user chose "Reload"), so a page never runs on two builds.
 * - Web Push: the hub's payload (src/hub/push.ts) is shown as a notification; Approve / Deny on
 *   a permission request answer it from here, without opening the app.
 */
import {
  cleanupOutdatedCaches,
  createHandlerBoundToURL,
  precacheAndRoute,
} from "workbox-precaching";
import { clientsClaim } from "workbox-core";
import { NavigationRoute, registerRoute } from "workbox-routing";
import {
  answerRequest,
  notificationFor,
  parsePayload,
  type NotificationData,
} from "./pwa/notify.ts";
import type { WorkerScope } from "./pwa/worker-scope.ts";

// The worker's global scope (typed in worker-scope.ts, not with the WebWorker library).
const sw = globalThis as unknown as WorkerScope;

/** The hub's own paths: the API, the live socket, the editors' link. */
const HUB_PATHS = [/^\/api\//, /^\/live/, /^\/link/];

const ICON = "/icons/icon-192.png";
const BADGE = "/icons/icon-192.png";

// The plugin writes the file list in place of `self.__WB_MANIFEST`, spelt just so.
precacheAndRoute((self as unknown as WorkerScope).__WB_MANIFEST);
cleanupOutdatedCaches();
// Once active, the worker serves the pages already open too: a first visit is offline-capable
// without a reload. (An update only becomes active when the user chose "Reload".)
clientsClaim();
registerRoute(new NavigationRoute(createHandlerBoundToURL("/index.html"), { denylist: HUB_PATHS }));

sw.addEventListener("message", (event) => {
  const m = event.data as { type?: string; tag?: string; action?: string } | null;
  if (m?.type === "SKIP_WAITING") void sw.skipWaiting();
  // A click on a shown notification, asked by a page of this origin: what e2e/push.spec.ts
  // does, since headless Chromium shows no notification to click. It runs the same code as a
  // real click and grants a page nothing it lacks (the page can call the API itself).
  if (m?.type === "NOTIFICATION_CLICK" && typeof m.tag === "string") {
    event.waitUntil(clickShown(m.tag, m.action ?? ""));
  }
});

sw.addEventListener("push", (event) => {
  let raw: unknown = null;
  try {
    raw = event.data?.json();
  } catch {
    // Not JSON: not the hub's; a generic line is still shown (browsers require one).
  }
  const payload = parsePayload(raw);
  const shown = payload
    ? notificationFor(payload, ICON, BADGE)
    : { title: "Switchboard", options: { body: "Something happened", icon: ICON } };
  event.waitUntil(sw.registration.showNotification(shown.title, shown.options));
});

sw.addEventListener("notificationclick", (event) => {
  const n = event.notification;
  const data = n.data as NotificationData | undefined;
  n.close();
  if (!data) return;
  event.waitUntil(clicked(data, event.action));
});

async function clickShown(tag: string, action: string): Promise<void> {
  const [n] = await sw.registration.getNotifications({ tag });
  if (!n) return;
  n.close();
  await clicked(n.data as NotificationData, action);
}

/** An action answers the request (or opens the app when that fails); a plain click opens it. */
async function clicked(data: NotificationData, action: string): Promise<void> {
  const call = action ? answerRequest(data, action, crypto.randomUUID()) : null;
  if (call) {
    try {
      const res = await fetch(call.url, call.init);
      if (res.ok) return;
    } catch {
      // No network: the app opens at the request, where the answer can wait in its outbox.
    }
  }
  await openAgent(data.url);
}

/** Focuses a window of the app and shows the agent there, or opens one. */
async function openAgent(url: string): Promise<void> {
  const windows = await sw.clients.matchAll({ type: "window", includeUncontrolled: true });
  const win = windows.find((w) => new URL(w.url).origin === sw.location.origin);
  if (win) {
    await win.focus();
    // The page's router moves there (register.ts): no reload, the app's state stays.
    win.postMessage({ type: "navigate", url });
    return;
  }
  await sw.clients.openWindow(url);
}
