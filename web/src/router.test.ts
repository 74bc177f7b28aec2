/** The router starts a route's lazy chunks beside the sign-in check. */
import { expect, test } from "bun:test";
import type { RouteLocationNormalized } from "vue-router";
import { prefetch } from "./router.ts";

test("prefetch calls each lazy loader of the matched records once, and never a functional component", async () => {
  const calls: string[] = [];
  const loader = (name: string) => () => {
    calls.push(name);
    return name === "broken" ? Promise.reject(new Error("offline")) : Promise.resolve({});
  };
  const functional = (props: unknown) => {
    calls.push(`rendered ${String(props)}`);
    return null;
  };
  const to = {
    matched: [
      { components: { default: loader("layout") } },
      { components: { default: loader("agent"), side: functional } },
      { components: { default: loader("broken") } },
      { components: undefined },
    ],
  } as unknown as RouteLocationNormalized;
  prefetch(to);
  expect(calls).toEqual(["layout", "agent", "broken"]);
  // A failed load is left to the router's own (no unhandled rejection here).
  await Promise.resolve();
});
