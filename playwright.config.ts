/**
 * Playwright: the end-to-end journeys in e2e/, on Debian's chromium (browsers cannot be
 * downloaded here), run under Bun by `npm test` (scripts/test.ts reads the JUnit report).
 * Every spec runs on a phone (Pixel 7) and a desktop profile; tests tagged "@journey" drive
 * both themselves and run in the phone project only (e2e/fixtures.ts).
 */
import { defineConfig, devices } from "@playwright/test";

/** Where scripts/test.ts finds the results; PLAYWRIGHT_JUNIT overrides it. */
export const JUNIT_REPORT = process.env.PLAYWRIGHT_JUNIT ?? "test-results/junit.xml";
// Debian's chromium (as e2e/fixtures.ts CHROMIUM).
const chromium = { launchOptions: { executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium" } };

export default defineConfig({
  testDir: "e2e",
  // PLAYWRIGHT_OUTPUT_DIR: a folder of one's own, when several runs share the tree (each run
  // empties its output folder first).
  outputDir: process.env.PLAYWRIGHT_OUTPUT_DIR ?? "test-results/e2e",
  globalSetup: "./e2e/global-setup.ts",
  // Two cores shared with the hub, its worker and the agents: one test at a time.
  workers: 1,
  fullyParallel: false,
  retries: 0,
  // A stray test.only would quietly leave the other tests out.
  forbidOnly: true,
  timeout: 60_000,
  expect: { timeout: 10_000 },
  reporter: [["list"], ["junit", { outputFile: JUNIT_REPORT }]],
  use: { trace: "retain-on-failure", screenshot: "only-on-failure" },
  projects: [
    { name: "phone", use: { ...devices["Pixel 7"], ...chromium } },
    { name: "desktop", use: { ...devices["Desktop Chrome"], ...chromium }, grepInvert: /@journey/ },
  ],
});
