/**
 * The parts of a service worker's global scope that sw.ts uses, typed here so the app's
 * tsconfig (DOM) need not take in TypeScript's WebWorker library: its globals (`clients`,
 * `registration`, …) would then look valid, wrongly, in the page's own code.
 */

export interface ExtendableEvent extends Event {
  waitUntil(work: Promise<unknown>): void;
}

export interface PushEvent extends ExtendableEvent {
  readonly data: { json(): unknown } | null;
}

export interface NotificationEvent extends ExtendableEvent {
  readonly notification: Notification;
  /** The action's id, "" for a click on the notification itself. */
  readonly action: string;
}

export interface ExtendableMessageEvent extends ExtendableEvent {
  readonly data: unknown;
}

export interface WindowClient {
  readonly url: string;
  focus(): Promise<unknown>;
  postMessage(message: unknown): void;
}

export interface WorkerScope {
  /** The build's file list, injected by vite-plugin-pwa (injectManifest). */
  __WB_MANIFEST: (string | { url: string; revision: string | null })[];
  readonly location: { readonly origin: string };
  readonly registration: ServiceWorkerRegistration;
  readonly clients: {
    matchAll(options: { type: "window"; includeUncontrolled: boolean }): Promise<WindowClient[]>;
    openWindow(url: string): Promise<unknown>;
  };
  skipWaiting(): Promise<void>;
  addEventListener(type: "push", listener: (e: PushEvent) => void): void;
  addEventListener(type: "notificationclick", listener: (e: NotificationEvent) => void): void;
  addEventListener(type: "message", listener: (e: ExtendableMessageEvent) => void): void;
}
