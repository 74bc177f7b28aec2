/**
 * The web app: web/dist served as static files, with index.html for any other path (the app
 * routes in the browser). Without a build, a short page says how to make one. A file the
 * build also wrote gzipped (`<file>.gz`, scripts/web-build.ts) is sent that way to browsers
 * that accept it: a third of the bytes on a phone's network.
 */
import { existsSync, statSync } from "node:fs";
import { join, normalize } from "node:path";
import type { Hono } from "hono";

const NOT_BUILT = `<!doctype html><meta charset="utf-8"><title>Switchboard</title>
<p>The hub is running, but the web app is not built. Run <code>npm run build</code> and reload.</p>`;

/**
 * What the app's pages may load: its own scripts only (no inline or injected script, so a
 * rendering slip cannot become script), images from itself or data:/blob: (no remote images:
 * they would tell a third party who reads what), sockets and requests to the hub only, and no
 * framing. Inline styles stay allowed: Vue style bindings and xterm's screen use them.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "worker-src 'self'",
  "manifest-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

export function serveWeb(app: Hono, webDir: string | null): void {
  const index = webDir ? join(webDir, "index.html") : null;
  app.use("*", async (c, next) => {
    await next();
    if (!c.req.path.startsWith("/api/"))
      c.header("Content-Security-Policy", CONTENT_SECURITY_POLICY);
  });
  app.get("*", (c) => {
    if (!webDir || !index || !existsSync(index)) return c.html(NOT_BUILT);
    let path: string;
    try {
      path = decodeURIComponent(new URL(c.req.url).pathname);
    } catch {
      // A stray % (a probe, a mistyped link) is the client's error, not the hub's.
      return c.text("malformed path", 400);
    }
    const rel = normalize(path).replace(/^(\.\.[/\\])+/, "");
    const file = join(webDir, rel);
    const gzip = /\bgzip\b/.test(c.req.header("accept-encoding") ?? "");
    if (file.startsWith(webDir) && existsSync(file) && statSync(file).isFile()) {
      const res = fileResponse(file, gzip);
      // Hashed assets never change; everything else is checked each time.
      res.headers.set(
        "Cache-Control",
        rel.startsWith("/assets/") ? "public, max-age=31536000, immutable" : "no-cache",
      );
      return res;
    }
    const res = fileResponse(index, gzip);
    res.headers.set("Content-Type", "text/html; charset=utf-8");
    res.headers.set("Cache-Control", "no-cache");
    return res;
  });
}

/** The file, or its gzipped copy (with the original's type) when there is one and it is wanted. */
function fileResponse(file: string, gzip: boolean): Response {
  const gz = `${file}.gz`;
  if (!existsSync(gz)) return new Response(Bun.file(file));
  if (!gzip) return new Response(Bun.file(file), { headers: { Vary: "Accept-Encoding" } });
  return new Response(Bun.file(gz), {
    headers: {
      "Content-Type": Bun.file(file).type,
      "Content-Encoding": "gzip",
      Vary: "Accept-Encoding",
    },
  });
}
