/**
 * The hub, assembled: the Connect API under /api, the live socket at /live, the worker link
 * at /link, and the web app. `createHub` returns what Bun.serve needs; server.ts starts it.
 */
import type { Database } from "bun:sqlite";
import type { Server, ServerWebSocket, WebSocketHandler } from "bun";
import { Hono } from "hono";
import { resolveSession, sessionToken } from "./auth/sessions.ts";
import { authService } from "./auth/service.ts";
import { RateLimiter } from "./auth/rate-limit.ts";
import { API_PREFIX, createApi } from "./connect.ts";
import type { HubDeps } from "./deps.ts";
import { LinkHub, MAX_LINK_FRAME_BYTES, type LinkData } from "./link.ts";
import { LiveHub, type LiveData } from "./live.ts";
import { createPush, type VapidKeys } from "./push.ts";
import { sameOrigin } from "./origin.ts";
import { agentService } from "./services/agents.ts";
import { fileService } from "./services/files.ts";
import { pushService } from "./services/push.ts";
import { workerService } from "./services/workers.ts";
import { workspaceService } from "./services/workspaces.ts";
import { EventLog } from "./store/events.ts";
import { HOUSEKEEPING_EVERY_MS, housekeeping } from "./store/housekeeping.ts";
import { AgentService } from "../gen/switchboard/v1/agent_pb.ts";
import { AuthService } from "../gen/switchboard/v1/auth_pb.ts";
import { FileService } from "../gen/switchboard/v1/files_pb.ts";
import { PushService } from "../gen/switchboard/v1/push_pb.ts";
import { WorkerService } from "../gen/switchboard/v1/worker_pb.ts";
import { WorkspaceService } from "../gen/switchboard/v1/workspace_pb.ts";
import { serveWeb } from "./web.ts";

export interface HubOptions {
  db: Database;
  log?: (line: string) => void;
  now?: () => number;
  publicOrigin?: string | null;
  /** The built web app (web/dist), or null when not built. */
  webDir?: string | null;
  /** Web Push: the hub's VAPID keys (push.ts loadVapidKeys); without them push is off. */
  vapid?: VapidKeys | null;
  /** Accept http:// push endpoints on loopback hosts (tests only). */
  pushLoopbackHttp?: boolean;
  /** What sends push requests (tests may pass their own). */
  pushFetch?: typeof fetch;
}

type SocketData = LiveData | LinkData;

/** A quiet socket is closed by Bun after this long; both ends ping well within it. */
const SOCKET_IDLE_TIMEOUT_S = 120;
/**
 * Bytes queued to one socket past which Bun drops what it is given. The live hub stops
 * sending live events to a socket at LIVE_BEHIND_BYTES (LIVE_BEHIND_TERMINAL_BYTES for terminal
 * output), far below, so this is never reached by one frame more (frames are at most a replay
 * page or one stored batch, which the worker keeps within RESEND_PAGE_BYTES).
 */
const SOCKET_BACKPRESSURE_BYTES = 64 * 1024 * 1024;

export interface Hub {
  deps: HubDeps;
  fetch(req: Request, server: Server<SocketData>): Response | Promise<Response> | undefined;
  websocket: WebSocketHandler<SocketData>;
  bind(server: Server<SocketData>): void;
  stop(): void;
}

export function createHub(opts: HubOptions): Hub {
  const db = opts.db;
  const log = opts.log ?? ((line: string) => console.error(line));
  const now = opts.now ?? Date.now;
  const publicOrigin = opts.publicOrigin ?? null;
  const events = new EventLog(db);
  const live = new LiveHub(db, events);
  const link = new LinkHub(db, events, live, log, now);
  live.forwardTo(link);
  const push = opts.vapid
    ? createPush(
        { db, live, log, now, vapid: opts.vapid, fetch: opts.pushFetch },
        opts.pushLoopbackHttp,
      )
    : null;
  if (push) link.onStored = (s, w, e) => push.notifier.onStored(s, w, e);
  const deps: HubDeps = {
    db,
    events,
    live,
    link,
    log,
    now,
    publicOrigin,
    secureCookies: publicOrigin?.startsWith("https:") ?? false,
    push,
  };
  const limiter = new RateLimiter(now);
  housekeeping(db, now());
  const chores = setInterval(() => housekeeping(db, now()), HOUSEKEEPING_EVERY_MS);

  const api = createApi({
    publicOrigin,
    resolveCaller: (req) => resolveSession(db, sessionToken(req.headers.get("cookie")), now()),
    register: (router) => {
      router.service(AuthService, authService(deps, limiter));
      router.service(WorkspaceService, workspaceService(deps));
      router.service(AgentService, agentService(deps));
      router.service(WorkerService, workerService(deps, limiter));
      router.service(FileService, fileService(deps));
      router.service(PushService, pushService(deps));
    },
  });

  const app = new Hono();
  app.use(async (c, next) => {
    await next();
    c.header("X-Content-Type-Options", "nosniff");
    c.header("Referrer-Policy", "no-referrer");
    c.header("X-Frame-Options", "DENY");
  });
  app.onError((err, c) => {
    log(`request ${c.req.method} ${c.req.path}: ${err.stack ?? err}`);
    return c.text("internal error; the hub's log has the details", 500);
  });
  app.all(`${API_PREFIX}/*`, (c) => api(c.req.raw, addressOf(c.req.raw)));
  serveWeb(app, opts.webDir ?? null);

  let server: Server<SocketData> | null = null;
  const addressOf = (req: Request) => server?.requestIP(req)?.address ?? "";

  return {
    deps,
    fetch(req, server) {
      const path = new URL(req.url).pathname;
      if (path === "/live") {
        if (!sameOrigin(req, publicOrigin))
          return new Response("cross-site refused", { status: 403 });
        const caller = resolveSession(db, sessionToken(req.headers.get("cookie")), now());
        if (!caller) return new Response("sign in first", { status: 401 });
        const data: LiveData = { kind: "live", caller, subs: new Map() };
        return server.upgrade(req, { data })
          ? undefined
          : new Response("WebSocket only", { status: 426 });
      }
      if (path === "/link") {
        if (req.headers.get("origin") !== null)
          return new Response("workers only", { status: 403 });
        const workerId = link.authenticate(req);
        if (!workerId) return new Response("unknown or revoked worker credential", { status: 401 });
        const data: LinkData = { kind: "link", workerId, lastHeard: now(), hello: false };
        return server.upgrade(req, { data })
          ? undefined
          : new Response("WebSocket only", { status: 426 });
      }
      return app.fetch(req);
    },
    websocket: {
      maxPayloadLength: MAX_LINK_FRAME_BYTES,
      idleTimeout: SOCKET_IDLE_TIMEOUT_S,
      backpressureLimit: SOCKET_BACKPRESSURE_BYTES,
      closeOnBackpressureLimit: false,
      sendPings: true,
      // Offered to clients; only event batches are sent compressed (see live.ts).
      perMessageDeflate: { compress: "shared", decompress: "shared" },
      open(ws) {
        if (ws.data.kind === "live") live.open(ws as ServerWebSocket<LiveData>);
        else link.open(ws as ServerWebSocket<LinkData>);
      },
      message(ws, msg) {
        try {
          if (ws.data.kind === "live") live.message(ws as ServerWebSocket<LiveData>, msg);
          else link.message(ws as ServerWebSocket<LinkData>, msg);
        } catch (err) {
          // One bad socket never takes the hub down: log it and close only that socket.
          log(`socket error: ${(err as Error).stack ?? err}`);
          ws.close(1011, "internal error");
        }
      },
      drain(ws) {
        if (ws.data.kind === "live") live.drain(ws as ServerWebSocket<LiveData>);
      },
      close(ws) {
        if (ws.data.kind === "live") live.close(ws as ServerWebSocket<LiveData>);
        else link.close(ws as ServerWebSocket<LinkData>);
      },
    },
    bind(s) {
      server = s;
      live.bind(s);
    },
    stop() {
      clearInterval(chores);
      link.stop();
      push?.sender.stop();
    },
  };
}
