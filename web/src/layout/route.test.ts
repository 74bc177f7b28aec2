import { expect, test } from "bun:test";
import { createMemoryHistory } from "vue-router";
import { createAppRouter } from "../router.ts";
import type { PaneContent } from "./layout.ts";
import { contentOfRoute, routeOfContent } from "./route.ts";

const contents: PaneContent[] = [
  { kind: "start" },
  { kind: "agent", agentId: "a1" },
  { kind: "terminal", agentId: "" },
  { kind: "terminal", agentId: "t1" },
  { kind: "files", path: "", file: "" },
  { kind: "files", path: "src/app", file: "src/app/x.ts" },
];

test("every pane content has a route of the app that shows the same content", () => {
  // The app's real routes, resolved without navigating (no guard runs on resolve).
  const router = createAppRouter(createMemoryHistory());
  for (const c of contents) {
    const r = router.resolve(routeOfContent("w1", c));
    expect(r.params.workspaceId).toBe("w1");
    expect(contentOfRoute(r)).toEqual(c);
  }
});

test("routes outside a workspace are no pane's content", () => {
  expect(contentOfRoute({ name: "settings", params: {}, query: {} })).toBeNull();
  expect(contentOfRoute({ name: "agent", params: {}, query: {} })).toBeNull();
  expect(contentOfRoute({ name: "files", params: {}, query: { path: ["a", "b"] } })).toEqual({
    kind: "files",
    path: "",
    file: "",
  });
});
