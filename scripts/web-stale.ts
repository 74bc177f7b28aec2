/**
 * Whether web/dist needs building, and the build itself as a child process, for what builds the
 * web app before it serves it: `npm start` (scripts/start.ts) and the journeys' global setup
 * (e2e/global-setup.ts). The build is scripts/web-build.ts, which builds as soon as it loads, so
 * it runs in its own process rather than being imported.
 */
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";

const root = join(import.meta.dir, "..");
const built = join(root, "web", "dist", "index.html");

/** What the build reads: when any is newer than the build, it is stale. */
const WEB_SOURCES = ["web/src", "web/index.html", "web/vite.config.ts", "web/public", "src/gen"];

/** The newest modification time at or below `path` (0 when it does not exist). */
function newest(path: string): number {
  if (!existsSync(path)) return 0;
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let max = st.mtimeMs;
  for (const name of readdirSync(path)) max = Math.max(max, newest(join(path, name)));
  return max;
}

/** True when web/dist is missing or older than any of its sources. */
export function webStale(): boolean {
  if (!existsSync(built)) return true;
  const at = statSync(built).mtimeMs;
  return WEB_SOURCES.some((s) => newest(join(root, s)) > at);
}

/** Runs `bun scripts/web-build.ts`, its output shown; true when it succeeded. */
export async function buildWeb(): Promise<boolean> {
  const b = Bun.spawn({
    cmd: [process.execPath, join(root, "scripts", "web-build.ts")],
    cwd: root,
    stdio: ["ignore", "inherit", "inherit"],
  });
  return (await b.exited) === 0;
}
