/**
 * Routes. Every view is its own lazy chunk, so the first load carries only the shell. Pages
 * other than sign-in need a signed-in device; the guard sends the rest to /login.
 */
import {
  createRouter,
  createWebHistory,
  type RouteLocationNormalized,
  type Router,
  type RouterHistory,
} from "vue-router";
import { useAuthStore } from "./stores/auth.ts";

declare module "vue-router" {
  interface RouteMeta {
    /** Reachable without signing in. */
    public?: boolean;
  }
}

export function createAppRouter(history: RouterHistory = createWebHistory()): Router {
  const router = createRouter({
    history,
    routes: [
      {
        path: "/setup",
        name: "setup",
        component: () => import("./views/SetupView.vue"),
        meta: { public: true },
      },
      {
        path: "/login",
        name: "login",
        component: () => import("./views/LoginView.vue"),
        meta: { public: true },
      },
      {
        path: "/pair",
        name: "pair",
        component: () => import("./views/PairView.vue"),
        meta: { public: true },
      },
      {
        path: "/invite",
        name: "invite",
        component: () => import("./views/InviteView.vue"),
        meta: { public: true },
      },
      { path: "/", name: "workspaces", component: () => import("./views/WorkspacesView.vue") },
      { path: "/settings", name: "settings", component: () => import("./views/SettingsView.vue") },
      {
        path: "/w/:workspaceId",
        component: () => import("./views/WorkspaceLayout.vue"),
        props: true,
        children: [
          {
            path: "",
            name: "agents",
            component: () => import("./views/AgentsView.vue"),
            props: true,
          },
          {
            path: "a/:agentId",
            name: "agent",
            component: () => import("./views/AgentView.vue"),
            props: true,
          },
          {
            path: "terminal",
            name: "terminal",
            component: () => import("./terminal/TerminalView.vue"),
            props: (r) => ({
              workspaceId: String(r.params.workspaceId),
              agent: typeof r.query.agent === "string" ? r.query.agent : undefined,
            }),
          },
          {
            path: "files",
            name: "files",
            component: () => import("./views/FilesView.vue"),
            props: (r) => ({
              workspaceId: String(r.params.workspaceId),
              path: typeof r.query.path === "string" ? r.query.path : "",
              file: typeof r.query.file === "string" ? r.query.file : "",
            }),
          },
        ],
      },
      {
        path: "/:rest(.*)*",
        name: "not-found",
        component: () => import("./views/NotFoundView.vue"),
        meta: { public: true },
      },
    ],
  });

  router.beforeEach(async (to) => {
    const auth = useAuthStore();
    // The route's chunks start downloading now, beside the sign-in check, instead of after it:
    // one round trip less on a phone's network. The router's own load later finds them loaded.
    if (auth.status !== "signed-in") prefetch(to);
    try {
      await auth.init();
    } catch {
      // The hub answered with an error other than "signed out": treated as not signed in, and
      // the sign-in page shows what the next call says.
    }
    if (to.meta.public) return true;
    if (auth.status === "signed-in") return true;
    return { name: "login", query: to.fullPath === "/" ? {} : { next: to.fullPath } };
  });
  return router;
}

/** Starts the lazy components of a route loading; errors are left to the router's own load. */
export function prefetch(to: RouteLocationNormalized): void {
  for (const record of to.matched) {
    for (const c of Object.values(record.components ?? {})) {
      // A lazy route component is a loader taking no arguments (a functional component takes props).
      if (typeof c === "function" && c.length === 0)
        void (c as () => Promise<unknown>)().catch(() => {});
    }
  }
}
