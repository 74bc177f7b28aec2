/**
 * The browser API: Connect services answered from Bun's fetch through @connectrpc/connect's
 * universal handlers, under /api. Every call passes here first: cross-site and non-Connect
 * requests are refused, the device session is resolved, and only the few sign-in calls run
 * without one.
 */
import { Code, ConnectError, createConnectRouter, createContextValues } from "@connectrpc/connect";
import type { ConnectRouter } from "@connectrpc/connect";
import { codeToString } from "@connectrpc/connect/protocol-connect";
import {
  universalServerRequestFromFetch,
  universalServerResponseToFetch,
} from "@connectrpc/connect/protocol";
import type { UniversalHandler } from "@connectrpc/connect/protocol";
import { CALLER, CLIENT_ADDRESS, type Caller } from "./caller.ts";
import { sameOrigin } from "./origin.ts";

export const API_PREFIX = "/api";

/** The largest request body a call may carry (a prompt with a few phone photos fits). */
export const MAX_REQUEST_BYTES = 32 * 1024 * 1024;
/** The largest answer (a listing, a file read) the hub sends. */
export const MAX_RESPONSE_BYTES = 64 * 1024 * 1024;

/** Calls that answer without a device session: each carries its own secret or password. */
export const OPEN_METHODS = new Set([
  "/switchboard.v1.AuthService/GetSetupState",
  "/switchboard.v1.AuthService/Setup",
  "/switchboard.v1.AuthService/Login",
  "/switchboard.v1.AuthService/RedeemPairing",
  "/switchboard.v1.AuthService/AcceptInvite",
  "/switchboard.v1.WorkerService/RegisterWorker",
]);

/** Content types of the Connect protocol (unary); anything a plain HTML form can send is not. */
const CONNECT_CONTENT_TYPE = /^application\/(proto|json)(;|$)/i;

export interface ApiOptions {
  register: (router: ConnectRouter) => void;
  /** The caller for a request (from its session cookie), or null. */
  resolveCaller: (req: Request) => Caller | null;
  publicOrigin: string | null;
}

/** Returns a fetch handler for `/api/<service>/<method>` requests. */
export function createApi(opts: ApiOptions): (req: Request, address: string) => Promise<Response> {
  const router = createConnectRouter({
    grpc: false,
    grpcWeb: false,
    readMaxBytes: MAX_REQUEST_BYTES,
    writeMaxBytes: MAX_RESPONSE_BYTES,
  });
  opts.register(router);
  const handlers = new Map<string, UniversalHandler>();
  for (const h of router.handlers) handlers.set(h.requestPath, h);

  return async (req, address) => {
    const path = new URL(req.url).pathname.slice(API_PREFIX.length);
    if (!sameOrigin(req, opts.publicOrigin)) {
      return errorResponse(new ConnectError("cross-site request refused", Code.PermissionDenied));
    }
    const handler = handlers.get(path);
    if (!handler) return errorResponse(new ConnectError(`no such method ${path}`, Code.NotFound));
    if (
      req.method !== "POST" ||
      !CONNECT_CONTENT_TYPE.test(req.headers.get("content-type") ?? "")
    ) {
      return new Response(
        "Connect requests only: POST with application/proto or application/json",
        {
          status: 415,
          headers: { "content-type": "text/plain; charset=utf-8" },
        },
      );
    }
    const caller = opts.resolveCaller(req);
    if (!caller && !OPEN_METHODS.has(path)) {
      return errorResponse(new ConnectError("sign in first", Code.Unauthenticated));
    }
    const ureq = universalServerRequestFromFetch(req, {});
    ureq.contextValues = createContextValues().set(CALLER, caller).set(CLIENT_ADDRESS, address);
    return universalServerResponseToFetch(await handler(ureq));
  };
}

/** A Connect unary error body, for refusals made before a handler runs. */
export function errorResponse(err: ConnectError): Response {
  const status: Partial<Record<Code, number>> = {
    [Code.Unauthenticated]: 401,
    [Code.PermissionDenied]: 403,
    [Code.NotFound]: 404,
    [Code.ResourceExhausted]: 429,
    [Code.InvalidArgument]: 400,
  };
  return Response.json(
    { code: codeToString(err.code), message: err.rawMessage },
    { status: status[err.code] ?? 500 },
  );
}
