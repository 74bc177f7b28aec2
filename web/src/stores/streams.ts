/**
 * Streams the app follows: each stream's events in memory, in seq order with no hole, cached
 * on the device (so a cold start shows the history before the network answers), and the
 * cursor it resumes from. Views `open` a stream while they show it and `close` it after; the
 * events stay in memory for a quick return, the live subscription does not.
 */
import { defineStore } from "pinia";
import { markRaw, shallowReactive } from "vue";
import type { Event } from "@gen/switchboard/v1/common_pb.ts";
import type { StreamBatch, Subscription } from "../live/live-client.ts";
import { useServices } from "../services.ts";

export interface StreamState {
  readonly streamId: string;
  /** Events in seq order; after a terminal snapshot (reset) it comes first. */
  readonly events: Event[];
  /** The last seq held (0 for none). */
  cursor: number;
  /** The last stored seq the hub reported. */
  headSeq: number;
  /** Everything stored has arrived; what comes now is live. */
  live: boolean;
  /** The device's cache has been read. */
  restored: boolean;
  /** Why the hub refused the stream, if it did. */
  error: string | null;
}

interface Entry {
  state: StreamState;
  refs: number;
  subscription: Subscription | null;
  /** Cache writes in order: each waits for the one before. */
  writes: Promise<void>;
}

export const useStreamsStore = defineStore("streams", () => {
  const { live, cache } = useServices();
  const entries = new Map<string, Entry>();
  /** Reactive index of the states, for views and getters. */
  const states = shallowReactive(new Map<string, StreamState>());

  function entry(streamId: string): Entry {
    let e = entries.get(streamId);
    if (!e) {
      const state = shallowReactive<StreamState>({
        streamId,
        events: shallowReactive<Event[]>([]),
        cursor: 0,
        headSeq: 0,
        live: false,
        restored: false,
        error: null,
      });
      e = { state, refs: 0, subscription: null, writes: Promise.resolve() };
      entries.set(streamId, e);
      states.set(streamId, state);
    }
    return e;
  }

  /**
   * Starts following a stream (counted: each open needs a close). Resolves once the cached
   * events are shown; live ones follow.
   */
  async function open(streamId: string): Promise<StreamState> {
    const e = entry(streamId);
    e.refs++;
    if (!e.state.restored) {
      const cached = await cache.events(streamId);
      if (!e.state.restored) {
        e.state.restored = true;
        // Only a contiguous run from the first cached event; anything else is refetched.
        const run: Event[] = [];
        for (const ev of cached) {
          if (run.length > 0 && ev.seq !== run.at(-1)!.seq + 1) break;
          run.push(markRaw(ev));
        }
        if (e.state.events.length === 0 && run.length > 0) {
          e.state.events.push(...run);
          e.state.cursor = run.at(-1)!.seq;
          e.state.headSeq = Math.max(e.state.headSeq, e.state.cursor);
        }
      }
    }
    if (e.refs > 0 && !e.subscription) {
      e.subscription = live.subscribe(streamId, e.state.cursor, {
        onBatch: (b) => received(e, b),
        onError: (err) => void (e.state.error = err.message),
      });
    }
    return e.state;
  }

  /** Stops following (when the last opener closes); the events stay in memory. */
  function close(streamId: string): void {
    const e = entries.get(streamId);
    if (!e || e.refs === 0) return;
    e.refs--;
    if (e.refs === 0 && e.subscription) {
      e.subscription.unsubscribe();
      e.subscription = null;
      e.state.live = false;
    }
  }

  function received(e: Entry, b: StreamBatch): void {
    const s = e.state;
    s.error = null;
    if (b.reset) s.events.splice(0);
    if (b.events.length > 0) {
      s.events.push(...b.events.map((ev) => markRaw(ev)));
      s.cursor = b.events.at(-1)!.seq;
    }
    s.headSeq = Math.max(b.headSeq, s.cursor);
    s.live = b.live;
    if (b.events.length > 0 || b.reset) {
      const events = b.events;
      // Caching is best effort: a full or refused store only costs the cold-start speed-up.
      e.writes = e.writes.then(() => cache.append(s.streamId, events, b.reset)).catch(() => {});
    }
  }

  function state(streamId: string): StreamState | undefined {
    return states.get(streamId);
  }

  /** The newest seq known for a stream (held or reported by the hub), 0 if none. */
  function head(streamId: string): number {
    return states.get(streamId)?.headSeq ?? 0;
  }

  /** Waits for the cache writes made so far (tests; a page about to be hidden). */
  async function flushed(): Promise<void> {
    await Promise.all([...entries.values()].map((e) => e.writes));
  }

  return { states, open, close, state, head, flushed };
});
