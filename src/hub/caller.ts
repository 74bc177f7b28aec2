/**
 * Who is calling: resolved from the device session cookie before any service code runs, and
 * handed to Connect handlers through a context value.
 */
import { Code, ConnectError, createContextKey, type HandlerContext } from "@connectrpc/connect";

export interface Caller {
  userId: string;
  userName: string;
  isOwner: boolean;
  deviceId: string;
}

export const CALLER = createContextKey<Caller | null>(null, { description: "device session" });

/** The client's network address (for rate limits). */
export const CLIENT_ADDRESS = createContextKey<string>("", { description: "client address" });

/** The signed-in caller, or an `unauthenticated` error. */
export function callerOf(ctx: HandlerContext): Caller {
  const c = ctx.values.get(CALLER);
  if (!c) throw new ConnectError("sign in first", Code.Unauthenticated);
  return c;
}

/** The signed-in caller if they administer the hub, else `permission_denied`. */
export function ownerOf(ctx: HandlerContext): Caller {
  const c = callerOf(ctx);
  if (!c.isOwner) throw new ConnectError("only the hub's owner may do this", Code.PermissionDenied);
  return c;
}
