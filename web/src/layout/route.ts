/**
 * The route and the focused pane say the same thing: what a route shows as a pane's content,
 * and the route that shows a content. Pure, so tested alone.
 */
import type { RouteLocationRaw } from "vue-router";
import type { PaneContent } from "./layout.ts";

/** The part of a route read here. */
export interface RouteLike {
  name?: unknown;
  params: Record<string, unknown>;
  query: Record<string, unknown>;
}

const str = (v: unknown) => (typeof v === "string" ? v : "");

/** A workspace route's content; null for routes that are no pane's (outside a workspace). */
export function contentOfRoute(r: RouteLike): PaneContent | null {
  switch (r.name) {
    case "agents":
      return { kind: "start" };
    case "agent":
      return str(r.params.agentId) ? { kind: "agent", agentId: str(r.params.agentId) } : null;
    case "terminal":
      return { kind: "terminal", agentId: str(r.query.agent) };
    case "files":
      return { kind: "files", path: str(r.query.path), file: str(r.query.file) };
  }
  return null;
}

export function routeOfContent(workspaceId: string, c: PaneContent): RouteLocationRaw {
  const params = { workspaceId };
  switch (c.kind) {
    case "start":
      return { name: "agents", params };
    case "agent":
      return { name: "agent", params: { workspaceId, agentId: c.agentId } };
    case "terminal":
      return { name: "terminal", params, query: c.agentId ? { agent: c.agentId } : {} };
    case "files": {
      const query: Record<string, string> = {};
      if (c.path) query.path = c.path;
      if (c.file) query.file = c.file;
      return { name: "files", params, query };
    }
  }
}
