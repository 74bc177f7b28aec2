/**
 * Before the journeys: builds web/dist when it is missing or older than what it is built from
 * (the hub serves it), as `npm start` does.
 */
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";

const root = join(import.meta.dirname, "..");
/** What the build reads (as in scripts/start.ts). */
const SOURCES = ["web/src", "web/index.html", "web/vite.config.ts", "web/public", "src/gen"];

function newest(path: string): number {
  if (!existsSync(path)) return 0;
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let max = st.mtimeMs;
  for (const name of readdirSync(path)) max = Math.max(max, newest(join(path, name)));
  return max;
}

export default async function globalSetup(): Promise<void> {
  const built = join(root, "web", "dist", "index.html");
  const at = existsSync(built) ? statSync(built).mtimeMs : 0;
  if (at > 0 && SOURCES.every((s) => newest(join(root, s)) <= at)) return;
  const b = Bun.spawn({
    cmd: [process.execPath, join(root, "scripts", "web-build.ts")],
    cwd: root,
    stdio: ["ignore", "inherit", "inherit"],
  });
  if ((await b.exited) !== 0)
    throw new Error("the web app did not build (bun scripts/web-build.ts)");
}
