/** server.ts as a user meets it: its flags, its data folder, worker keys, and the web app. */
import { expect, test } from "bun:test";
import { mkdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { WorkerService } from "../gen/switchboard/v1/worker_pb.ts";
import { BUN } from "../testing/clients.ts";
import { tempDir } from "../testing/harness.ts";
import { browser, SERVER, startHub } from "../testing/hub.ts";
import { runToEnd } from "../testing/procs.ts";
import { createHub } from "./hub.ts";
import { openDatabase } from "./store/db.ts";

test("--help, --version and a wrong flag", async () => {
  const help = await runToEnd([BUN, SERVER, "--help"]);
  expect(help.code).toBe(0);
  expect(help.stdout).toContain("--no-local-worker");
  const version = await runToEnd([BUN, SERVER, "--version"]);
  expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  const wrong = await runToEnd([BUN, SERVER, "--prot", "80"]);
  expect(wrong.code).toBe(2);
  expect(wrong.stderr).toContain("unknown option --prot");
  const port = await runToEnd([BUN, SERVER, "--port", "99999"]);
  expect(port.code).toBe(2);
  expect(port.stderr).toContain("--port must be 0-65535");
});

test("the data folder is private, and `worker-key` prints a key a worker can register with", async () => {
  const dataDir = join(tempDir("data"), "nested", "switchboard");
  const hub = await startHub({ dataDir, args: ["--no-local-worker"] });
  try {
    expect(statSync(dataDir).mode & 0o777).toBe(0o700);
    expect(statSync(join(dataDir, "hub.db")).mode & 0o777).toBe(0o600);
    // Run while the hub runs, against the same database.
    const key = await runToEnd([BUN, SERVER, "worker-key", "--data", dataDir]);
    expect(key.code).toBe(0);
    expect(key.stderr).toContain("switchboard-worker connect --hub");
    const b = browser(hub.url);
    const r = await b.client(WorkerService).registerWorker({ key: key.stdout.trim(), name: "box" });
    expect(r.credential).toMatch(/^[A-Za-z0-9_-]{43}$/);
  } finally {
    await hub.stop();
  }
});

test("the web app: files, the app's routes, no path out of its folder, safe headers", async () => {
  const webDir = tempDir("web");
  mkdirSync(join(webDir, "assets"));
  writeFileSync(join(webDir, "index.html"), "<!doctype html><title>app</title>");
  writeFileSync(join(webDir, "assets", "app-1234.js"), "console.log(1)");
  const secret = join(tempDir("outside"), "secret.txt");
  writeFileSync(secret, "do not serve");
  const db = openDatabase(join(tempDir("db"), "hub.db"));
  const hub = createHub({ db, webDir, log: () => {} });
  const server = Bun.serve({ port: 0, fetch: hub.fetch, websocket: hub.websocket });
  hub.bind(server);
  const base = `http://127.0.0.1:${server.port}`;
  try {
    const asset = await fetch(`${base}/assets/app-1234.js`);
    expect(await asset.text()).toBe("console.log(1)");
    expect(asset.headers.get("cache-control")).toContain("immutable");
    const route = await fetch(`${base}/workspaces/123`);
    expect(await route.text()).toContain("<title>app</title>");
    expect(route.headers.get("x-frame-options")).toBe("DENY");
    expect(route.headers.get("x-content-type-options")).toBe("nosniff");
    const escape = await fetch(`${base}/%2e%2e/%2e%2e/%2e%2e${secret.replace(/\//g, "%2f")}`);
    expect(await escape.text()).not.toContain("do not serve");
  } finally {
    hub.stop();
    await server.stop(true);
    db.close();
  }
});
