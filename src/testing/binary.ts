/** The compiled worker (`bun build --compile worker.ts`), built once per test process. */
import { join } from "node:path";
import { BUN, ROOT, WORKER } from "./clients.ts";
import { tempDir } from "./harness.ts";
import { runToEnd } from "./procs.ts";

let built: Promise<string> | null = null;

export function compiledWorker(): Promise<string> {
  built ??= (async () => {
    const out = join(tempDir("bin"), "switchboard-worker");
    const r = await runToEnd([BUN, "build", "--compile", WORKER, "--outfile", out], {
      cwd: ROOT,
      timeoutMs: 120_000,
    });
    if (r.code !== 0) throw new Error(`bun build --compile failed:\n${r.stdout}\n${r.stderr}`);
    return out;
  })();
  return built;
}
