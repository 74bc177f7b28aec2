/**
 * `npm test`: every check the project has, in order, ending with one line `N passed, N failed`.
 * Type checks, the format check and the builds count as one test each; bun's tests (src/ and
 * web/src/) and the Playwright journeys (e2e/) are counted from their JUnit reports. Any failure
 * makes the exit code non-zero.
 */
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const root = join(import.meta.dir, "..");
const bin = (name: string) => join(root, "node_modules", ".bin", name);
let passed = 0;
let failed = 0;

async function step(
  name: string,
  cmd: string[],
  env: Record<string, string> = {},
): Promise<boolean> {
  console.log(`\n== ${name}: ${cmd.map((c) => c.replace(root + "/", "")).join(" ")}`);
  // The environment is passed whole: a child does not see later assignments to process.env.
  const p = Bun.spawn({
    cmd,
    cwd: root,
    env: { ...process.env, ...env },
    stdout: "inherit",
    stderr: "inherit",
    stdin: "ignore",
  });
  return (await p.exited) === 0;
}

for (const [name, cmd] of [
  ["type check", [bin("tsc"), "--noEmit", "-p", "."]],
  ["web type check", [bin("vue-tsc"), "--noEmit", "-p", "web"]],
  ["format check", [bin("prettier"), "--check", "."]],
  ["compile worker", [process.execPath, "run", "build:worker"]],
  // Builds web/dist and fails past the initial-load budget (scripts/web-build.ts).
  ["web build", [process.execPath, "run", "build"]],
] as const) {
  if (await step(name, [...cmd])) passed++;
  else failed++;
}

const reports = mkdtempSync(join(tmpdir(), "switchboard-test-"));

/** Passed and failed from a JUnit report; a skipped test counts as failed. Null: no report. */
function junit(path: string): { passed: number; failed: number } | null {
  let xml: string;
  try {
    xml = readFileSync(path, "utf8");
  } catch {
    return null;
  }
  const attr = (name: string) => {
    const m = new RegExp(`<testsuites[^>]*\\b${name}="(\\d+)"`).exec(xml);
    return m ? Number(m[1]) : null;
  };
  const total = attr("tests");
  if (total === null) return null;
  const bad = (attr("failures") ?? 0) + (attr("errors") ?? 0) + (attr("skipped") ?? 0);
  return { passed: total - bad, failed: bad };
}

/** Runs a step that writes a JUnit report and adds its counts; a failed step counts at least 1. */
async function counted(
  name: string,
  cmd: string[],
  report: string,
  env: Record<string, string> = {},
): Promise<void> {
  const ok = await step(name, cmd, env);
  const r = junit(report);
  if (r) {
    passed += r.passed;
    failed += r.failed;
  }
  // No report (the runner failed before its tests), or a failure no test accounts for.
  if (!r || (!ok && r.failed === 0)) failed++;
}

const bunReport = join(reports, "bun.xml");
await counted(
  "unit and integration tests",
  [
    process.execPath,
    "test",
    // Tests start real processes; a shared 2-core machine needs more than bun's 5 s default.
    "--timeout",
    "60000",
    "--reporter=junit",
    `--reporter-outfile=${bunReport}`,
  ],
  bunReport,
);

// Playwright under Bun (the journeys reuse src/testing/, which uses Bun's APIs), on Debian's
// chromium; playwright.config.ts writes its JUnit report where PLAYWRIGHT_JUNIT says. A flaky
// test cannot pass on a retry: the config allows none.
const e2eReport = join(reports, "e2e.xml");
await counted(
  "end-to-end journeys",
  [process.execPath, "--bun", bin("playwright"), "test"],
  e2eReport,
  { PLAYWRIGHT_JUNIT: e2eReport },
);

console.log(`\n${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
