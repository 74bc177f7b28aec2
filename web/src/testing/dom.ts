/**
 * A browser DOM (happy-dom) for the component tests of one file: the preload's window put on
 * the global before its tests and taken off after, so the hub's and worker's tests keep Bun's
 * own fetch, WebSocket and events. It is the same window whose document Vue renders into.
 */
import { afterAll, beforeAll } from "bun:test";
import { TEST_WINDOW } from "./preload.ts";

const SKIP = new Set<PropertyKey>(["constructor", "undefined", "NaN", "global", "globalThis"]);

export function useDom(): void {
  const saved = new Map<PropertyKey, PropertyDescriptor | undefined>();
  const g = globalThis as Record<PropertyKey, unknown>;
  beforeAll(() => {
    const window = g[TEST_WINDOW] as object | undefined;
    if (!window) throw new Error("the test preload (web/src/testing/preload.ts) did not run");
    const descriptors = Object.getOwnPropertyDescriptors(window);
    for (const key of Reflect.ownKeys(descriptors)) {
      if (SKIP.has(key)) continue;
      const d = descriptors[key as keyof typeof descriptors]!;
      const current = Object.getOwnPropertyDescriptor(globalThis, key);
      if (current && "value" in current && current.value === d.value) continue;
      saved.set(key, current);
      const value = d.value === window ? globalThis : d.value;
      Object.defineProperty(globalThis, key, {
        ...d,
        ...("value" in d ? { value } : {}),
        configurable: true,
      });
    }
  });
  afterAll(() => {
    for (const [key, d] of saved) {
      if (d) Object.defineProperty(globalThis, key, d);
      else delete g[key];
    }
    saved.clear();
  });
}
