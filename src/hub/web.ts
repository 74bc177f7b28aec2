/**
 * The web app: web/dist served as static files, with index.html for any other path (the app
 * routes in the browser). Without a build, a short page says how to make one.
 */
import { existsSync, statSync } from "node:fs";
import { join, normalize } from "node:path";
import type { Hono } from "hono";

const NOT_BUILT = `<!doctype html><meta charset="utf-8"><title>Switchboard</title>
<p>The hub is running, but the web app is not built. Run <code>npm run build</code> and reload.</p>`;

export function serveWeb(app: Hono, webDir: string | null): void {
  const index = webDir ? join(webDir, "index.html") : null;
  app.get("*", (c) => {
    if (!webDir || !index || !existsSync(index)) return c.html(NOT_BUILT);
    const rel = normalize(decodeURIComponent(new URL(c.req.url).pathname)).replace(
      /^(\.\.[/\\])+/,
      "",
    );
    const file = join(webDir, rel);
    if (file.startsWith(webDir) && existsSync(file) && statSync(file).isFile()) {
      const res = new Response(Bun.file(file));
      // Hashed assets never change; everything else is checked each time.
      res.headers.set(
        "Cache-Control",
        rel.startsWith("/assets/") ? "public, max-age=31536000, immutable" : "no-cache",
      );
      return res;
    }
    return new Response(Bun.file(index), {
      headers: { "Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-cache" },
    });
  });
}
