/**
 * Registers the service worker (/sw.js) with workbox-window. An update is installed but waits
 * until the user chooses to reload (UpdateToast.vue); then the waiting worker takes over and
 * the page reloads once it controls it. A notification click asks the page to show an agent
 * (`navigate`), which the app's router does without a reload.
 */
import { Workbox } from "workbox-window";

/** How often an open app checks for a new build: phones keep a PWA open for days. */
export const UPDATE_CHECK_MS = 60 * 60_000;

export interface Registration {
  /** The user chose "Reload": the waiting worker takes over, then the page reloads. */
  reload(): void;
  unregister(): void;
}

/** Null where there is no service worker (an old browser, http on a LAN address, dev mode). */
export function registerServiceWorker(on: {
  waiting(): void;
  navigate(path: string): void;
}): Registration | null {
  if (!("serviceWorker" in navigator) || !import.meta.env.PROD) return null;
  const wb = new Workbox("/sw.js", { scope: "/" });
  wb.addEventListener("waiting", () => on.waiting());
  // The waiting worker took over (after reload()): load the new build.
  wb.addEventListener("controlling", (e) => {
    if (e.isUpdate) location.reload();
  });
  const onMessage = (e: MessageEvent) => {
    const m = e.data as { type?: string; url?: string } | null;
    // Only paths on this origin: the message comes from our worker, but stay strict.
    if (m?.type === "navigate" && typeof m.url === "string" && /^\/(?!\/)/.test(m.url)) {
      on.navigate(m.url);
    }
  };
  navigator.serviceWorker.addEventListener("message", onMessage);
  void wb.register().catch((err: unknown) => {
    // Without a worker the app still runs, only not offline: worth a line in the console.
    console.warn("service worker registration failed", err);
  });
  const timer = setInterval(() => void wb.update().catch(() => {}), UPDATE_CHECK_MS);
  return {
    reload: () => wb.messageSkipWaiting(),
    unregister: () => {
      clearInterval(timer);
      navigator.serviceWorker.removeEventListener("message", onMessage);
    },
  };
}
