/**
 * Journey 1: a new user runs the README's first command (`npm start`, which is
 * `bun scripts/start.ts`: it builds the web app when stale, then runs the hub), opens the setup
 * link the hub printed, creates the owner account and lands on an empty workspace list.
 */
import { join } from "node:path";
import { BUN, ROOT } from "../src/testing/clients.ts";
import { tempDir } from "../src/testing/harness.ts";
import { until } from "../src/testing/hub.ts";
import { expect, saveScreen, test } from "./fixtures.ts";

test("first run: the printed setup link makes the owner account", async ({ page }, info) => {
  // What `npm start -- --port 0 --data <dir>` runs; a port of its own and a fresh data folder.
  const start = Bun.spawn({
    cmd: [BUN, join(ROOT, "scripts", "start.ts"), "--port", "0", "--data", tempDir("first-run")],
    cwd: ROOT,
    env: { ...process.env, SWITCHBOARD_SOCKET_DIR: tempDir("first-run-sock") },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  let out = "";
  void (async () => {
    for await (const c of start.stdout.pipeThrough(new TextDecoderStream())) out += c;
  })();
  try {
    const link = await until(
      () => /Create the owner account: (http\S+\/setup#\S+)\n/.exec(out)?.[1],
      60_000,
      `the setup link on stdout (got: ${out})`,
    );
    expect(out).toMatch(/Switchboard hub on http:\/\/127\.0\.0\.1:\d+\n/);

    await page.goto(link!);
    await expect(page.getByRole("heading", { name: "Create the owner account" })).toBeVisible();
    // The token leaves the address bar once read (it is a one-time secret).
    await expect(page).not.toHaveURL(/#/);
    await page.getByLabel("Your name").fill("Grace");
    await page.getByLabel("Password", { exact: true }).fill("a long enough password");
    await page.getByLabel("Password again").fill("a long enough password");
    await page.getByRole("button", { name: "Create account" }).click();

    await expect(page.getByRole("heading", { name: "Workspaces" })).toBeVisible();
    await expect(page.getByText("No workspace yet")).toBeVisible();
    await expect(page.getByRole("list").getByRole("link")).toHaveCount(0);
    await expect(page.getByRole("heading", { name: "New workspace" })).toBeVisible();
    await saveScreen(page, info, `first-run-${info.project.name}`);

    // The link works once: opened again, the hub refuses it.
    await page.goto(link!);
    await page.getByLabel("Your name").fill("Mallory");
    await page.getByLabel("Password", { exact: true }).fill("another long password");
    await page.getByLabel("Password again").fill("another long password");
    await page.getByRole("button", { name: "Create account" }).click();
    await expect(page.getByRole("alert")).toBeVisible();
  } finally {
    start.kill("SIGTERM");
    await start.exited;
  }
});
