/**
 * A Vue app (never mounted) with Pinia and the app's services, for store tests: the Connect
 * API answered in memory by the handlers a test gives (createRouterTransport), a LiveClient on
 * a FakeSocket, a memory cache (or the ones a test passes: a real hub's API and socket).
 */
import type { ConnectRouter, Transport } from "@connectrpc/connect";
import { createRouterTransport } from "@connectrpc/connect";
import { createPinia, setActivePinia } from "pinia";
import { createApp } from "vue";
import { createApi, type Api } from "../api/clients.ts";
import { LiveClient } from "../live/live-client.ts";
import { SERVICES, type Services } from "../services.ts";
import { memoryCache, type Cache } from "../stores/cache.ts";
import { FakeClock, FakeSocket } from "./fake-socket.ts";

export interface TestApp {
  services: Services;
  sockets: FakeSocket[];
  clock: FakeClock;
  /** The socket opened last. */
  socket(): FakeSocket;
  /** Runs `fn` where stores can be made (the app's injection context). */
  run<T>(fn: () => T): T;
}

export function testApp(
  opts: {
    routes?: (router: ConnectRouter) => void;
    transport?: Transport;
    api?: Api;
    live?: LiveClient;
    cache?: Cache;
  } = {},
): TestApp {
  const sockets: FakeSocket[] = [];
  const clock = new FakeClock();
  const services: Services = {
    api: opts.api ?? createApi(opts.transport ?? createRouterTransport(opts.routes ?? (() => {}))),
    live:
      opts.live ??
      new LiveClient({
        url: "ws://hub/live",
        createSocket: (url) => {
          const s = new FakeSocket(url);
          sockets.push(s);
          return s;
        },
        window: null,
        document: null,
        clock,
        random: () => 0,
      }),
    cache: opts.cache ?? memoryCache(),
    origin: "https://hub.example",
  };
  const app = createApp({ render: () => null });
  app.provide(SERVICES, services);
  const pinia = createPinia();
  app.use(pinia);
  setActivePinia(pinia);
  return {
    services,
    sockets,
    clock,
    socket: () => sockets.at(-1)!,
    run: (fn) => app.runWithContext(fn),
  };
}
