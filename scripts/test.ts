/**
 * `npm test`: every check the project has, in order, ending with one line `N passed, N failed`.
 * Type checks, the format check and the builds count as one test each; bun's tests (src/ and
 * web/src/) are counted from its JUnit report. Any failure makes the exit code non-zero.
 */
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const root = join(import.meta.dir, "..");
const bin = (name: string) => join(root, "node_modules", ".bin", name);
let passed = 0;
let failed = 0;

async function step(name: string, cmd: string[]): Promise<boolean> {
  console.log(`\n== ${name}: ${cmd.map((c) => c.replace(root + "/", "")).join(" ")}`);
  const p = Bun.spawn({ cmd, cwd: root, stdout: "inherit", stderr: "inherit", stdin: "ignore" });
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

const report = join(mkdtempSync(join(tmpdir(), "switchboard-test-")), "junit.xml");
const ok = await step("unit and integration tests", [
  process.execPath,
  "test",
  // Tests start real processes; a shared 2-core machine needs more than bun's 5 s default.
  "--timeout",
  "60000",
  "--reporter=junit",
  `--reporter-outfile=${report}`,
]);
let counted = false;
try {
  const xml = readFileSync(report, "utf8");
  const top = /<testsuites[^>]*\btests="(\d+)"[^>]*\bfailures="(\d+)"/.exec(xml);
  const errors = /<testsuites[^>]*\berrors="(\d+)"/.exec(xml);
  const skipped = /<testsuites[^>]*\bskipped="(\d+)"/.exec(xml);
  if (top) {
    const total = Number(top[1]);
    const bad = Number(top[2]) + Number(errors?.[1] ?? 0);
    const skip = Number(skipped?.[1] ?? 0);
    passed += total - bad - skip;
    failed += bad + skip; // a skipped test is a defect here
    counted = true;
  }
} catch {
  // No report: bun itself failed before running tests; counted below.
}
if (!counted || (!ok && failed === 0)) failed++;
console.log(`\n${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
