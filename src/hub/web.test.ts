/** The web app's files: gzipped copies for browsers that take gzip, the SPA fallback. */
import { afterAll, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { Hono } from "hono";
import { serveWeb } from "./web.ts";

const made: string[] = [];
afterAll(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

function built() {
  const dir = mkdtempSync(join(os.tmpdir(), "web-"));
  made.push(dir);
  mkdirSync(join(dir, "assets"));
  const js = "console.log('the app');".repeat(20);
  writeFileSync(join(dir, "index.html"), "<!doctype html><title>app</title>");
  writeFileSync(join(dir, "index.html.gz"), Bun.gzipSync("<!doctype html><title>app</title>"));
  writeFileSync(join(dir, "assets", "a.js"), js);
  writeFileSync(join(dir, "assets", "a.js.gz"), Bun.gzipSync(js));
  writeFileSync(join(dir, "icon.png"), "png");
  const app = new Hono();
  serveWeb(app, dir);
  return { app, js };
}

test("a file with a .gz copy goes gzipped with its own type to a browser that takes gzip", async () => {
  const { app, js } = built();
  const res = await app.request("/assets/a.js", { headers: { "accept-encoding": "gzip, br" } });
  expect(res.headers.get("content-encoding")).toBe("gzip");
  expect(res.headers.get("content-type")).toContain("javascript");
  expect(res.headers.get("vary")).toBe("Accept-Encoding");
  expect(res.headers.get("cache-control")).toContain("immutable");
  const body = new Uint8Array(await res.arrayBuffer());
  expect(new TextDecoder().decode(Bun.gunzipSync(body))).toBe(js);

  const plain = await app.request("/assets/a.js");
  expect(plain.headers.get("content-encoding")).toBeNull();
  expect(await plain.text()).toBe(js);
});

test("app routes get index.html (gzipped when taken); files without a copy go as they are", async () => {
  const { app } = built();
  const page = await app.request("/w/1/a/2", { headers: { "accept-encoding": "gzip" } });
  expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
  expect(page.headers.get("content-encoding")).toBe("gzip");
  expect(page.headers.get("cache-control")).toBe("no-cache");
  const html = Bun.gunzipSync(new Uint8Array(await page.arrayBuffer()));
  expect(new TextDecoder().decode(html)).toContain("<title>app</title>");
  const icon = await app.request("/icon.png", { headers: { "accept-encoding": "gzip" } });
  expect(icon.headers.get("content-encoding")).toBeNull();
  expect(await icon.text()).toBe("png");
});

test("pages and files carry a policy allowing only the hub's own scripts, no remote images, no framing", async () => {
  const { app } = built();
  for (const path of ["/", "/w/1/a/2", "/assets/a.js"]) {
    const csp = (await app.request(path)).headers.get("content-security-policy") ?? "";
    const directives = new Map(
      csp.split(";").map((d) => {
        const [name, ...values] = d.trim().split(/\s+/);
        return [name!, values];
      }),
    );
    expect(directives.get("script-src")).toEqual(["'self'"]);
    expect(directives.get("img-src")).toEqual(["'self'", "data:", "blob:"]);
    expect(directives.get("connect-src")).toEqual(["'self'"]);
    expect(directives.get("frame-ancestors")).toEqual(["'none'"]);
    expect(directives.get("object-src")).toEqual(["'none'"]);
  }
});

test("a path that does not decode is refused as the client's error, not failed as the hub's", async () => {
  const { app } = built();
  const res = await app.request("/assets/%E0%A4%A");
  expect(res.status).toBe(400);
  expect(await res.text()).toBe("malformed path");
});
