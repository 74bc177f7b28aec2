/**
 * Cross-site refusal. Browsers send Origin on every POST and WebSocket handshake; a request
 * whose Origin is not this hub's own (or the configured public URL's) is refused before any
 * handler runs. Clients that are not browsers (the worker, tests, curl) send no Origin.
 */

export function sameOrigin(req: Request, publicOrigin: string | null): boolean {
  if (req.headers.get("sec-fetch-site") === "cross-site") return false;
  const origin = req.headers.get("origin");
  if (origin === null) return true;
  if (publicOrigin !== null && origin === publicOrigin) return true;
  const host = req.headers.get("host");
  if (!host) return false;
  const scheme = new URL(req.url).protocol;
  return origin === `${scheme}//${host}`;
}
