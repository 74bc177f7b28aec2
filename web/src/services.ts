/**
 * The app's dependencies, made once in main.ts and provided to the whole app (stores included:
 * Pinia runs setup stores in the app's injection context). Tests provide their own: a Connect
 * API over a test transport, a LiveClient over a fake or real socket, a memory cache.
 */
import { inject, type InjectionKey } from "vue";
import type { Api } from "./api/clients.ts";
import type { LiveClient } from "./live/live-client.ts";
import type { Cache } from "./stores/cache.ts";

export interface Services {
  api: Api;
  live: LiveClient;
  cache: Cache;
  /** The page's origin, put in front of the links the hub gives as paths. */
  origin: string;
}

export const SERVICES: InjectionKey<Services> = Symbol("services");

export function useServices(): Services {
  const s = inject(SERVICES, null);
  if (!s) throw new Error("services were not provided to the app");
  return s;
}
