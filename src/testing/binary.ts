/** The compiled worker (`bun build --compile worker.ts`), built once per test process. */
import { join } from "node:path";
import { BUN, ROOT, WORKER } from "./clients.ts";
import { tempDir } from "./harness.ts";
import { runToEnd } from "./procs.ts";

/** The worker's entry points, as npm run build:worker lists them (the screen thread is one). */
export const WORKER_ENTRY_POINTS = [WORKER, join(ROOT, "src", "worker", "screen-thread.ts")];

let built: Promise<string> | null = null;

export function compiledWorker(): Promise<string> {
  built ??= (async () => {
    const out = join(tempDir("bin"), "switchboard-worker");
    const r = await runToEnd(
      [BUN, "build", "--compile", ...WORKER_ENTRY_POINTS, "--outfile", out],
      {
        cwd: ROOT,
        timeoutMs: 120_000,
      },
    );
    if (r.code !== 0) throw new Error(`bun build --compile failed:\n${r.stdout}\n${r.stderr}`);
    return out;
  })();
  return built;
}
