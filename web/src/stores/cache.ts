/**
 * What the app keeps on the device so a cold start (or no network) shows the last known state
 * at once: the events of streams it has followed, and small lists (workspaces, agents, who is
 * signed in). IndexedDB in the browser (`idbCache`); in memory where there is none and in
 * tests (`memoryCache`). Values must be structured-cloneable: pass raw objects, never Vue
 * proxies.
 */
import { openDB, type DBSchema, type IDBPDatabase } from "idb";
import type { Event } from "@gen/switchboard/v1/common_pb.ts";

/**
 * Events kept per stream: enough for a long conversation; older ones are dropped (the hub
 * still has them). A terminal's snapshot replaces what came before it anyway.
 */
export const MAX_CACHED_EVENTS = 5000;

export interface Cache {
  /** The stream's cached events, by seq. */
  events(streamId: string): Promise<Event[]>;
  /** Adds events that follow the cached ones; with `reset`, they replace them. */
  append(streamId: string, events: readonly Event[], reset: boolean): Promise<void>;
  get<T>(key: string): Promise<T | undefined>;
  set(key: string, value: unknown): Promise<void>;
  /** Forgets everything (sign-out, another user). */
  clear(): Promise<void>;
}

export function memoryCache(max = MAX_CACHED_EVENTS): Cache {
  const streams = new Map<string, Event[]>();
  const kv = new Map<string, unknown>();
  return {
    events: async (id) => [...(streams.get(id) ?? [])],
    append: async (id, events, reset) => {
      const list = reset ? [] : (streams.get(id) ?? []);
      list.push(...events);
      streams.set(id, list.slice(-max));
    },
    get: async <T>(key: string) => structuredClone(kv.get(key)) as T | undefined,
    set: async (key, value) => void kv.set(key, structuredClone(value)),
    clear: async () => (streams.clear(), kv.clear()),
  };
}

interface CacheSchema extends DBSchema {
  events: { key: [string, number]; value: Event & { streamId: string } };
  kv: { key: string; value: unknown };
}

const DB_NAME = "switchboard";
const DB_VERSION = 1;

/** IndexedDB, falling back to memory when the browser refuses it (private modes, quotas). */
export function idbCache(max = MAX_CACHED_EVENTS, name = DB_NAME): Cache {
  let opened: Promise<IDBPDatabase<CacheSchema> | null> | null = null;
  const fallback = memoryCache(max);
  const open = async () => {
    try {
      return await openDB<CacheSchema>(name, DB_VERSION, {
        upgrade(d) {
          d.createObjectStore("events", { keyPath: ["streamId", "seq"] });
          d.createObjectStore("kv");
        },
      });
    } catch {
      // No IndexedDB here (or refused): the session runs on memory, only the cold start is slower.
      return null;
    }
  };
  const db = () => (opened ??= open());
  const range = (id: string, from = 0, to = Number.MAX_SAFE_INTEGER) =>
    IDBKeyRange.bound([id, from], [id, to]);

  return {
    async events(id) {
      const d = await db();
      if (!d) return fallback.events(id);
      const rows = await d.getAll("events", range(id));
      return rows.map(({ streamId: _, ...e }) => e as Event);
    },
    async append(id, events, reset) {
      const d = await db();
      if (!d) return fallback.append(id, events, reset);
      const tx = d.transaction("events", "readwrite");
      if (reset) await tx.store.delete(range(id));
      for (const e of events) void tx.store.put({ ...e, streamId: id });
      const last = events.at(-1)?.seq;
      if (last !== undefined && last > max) await tx.store.delete(range(id, 0, last - max));
      await tx.done;
    },
    async get<T>(key: string) {
      const d = await db();
      return d ? ((await d.get("kv", key)) as T | undefined) : fallback.get<T>(key);
    },
    async set(key, value) {
      const d = await db();
      if (!d) return fallback.set(key, value);
      await d.put("kv", value, key);
    },
    async clear() {
      const d = await db();
      if (!d) return fallback.clear();
      const tx = d.transaction(["events", "kv"], "readwrite");
      await Promise.all([tx.objectStore("events").clear(), tx.objectStore("kv").clear(), tx.done]);
    },
  };
}
