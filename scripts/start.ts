/**
 * `npm start`: builds the web app first when web/dist is missing or older than its sources,
 * then runs the hub (`bun server.ts`) with the arguments given, passing signals on and exiting
 * with its code. A failed build is reported and the hub starts anyway (it says the app is not
 * built, or serves the previous build).
 */
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";

const root = join(import.meta.dir, "..");
const built = join(root, "web", "dist", "index.html");
/** What the build reads: when any is newer than the build, it is stale. */
const SOURCES = ["web/src", "web/index.html", "web/vite.config.ts", "web/public", "src/gen"];

function newest(path: string): number {
  if (!existsSync(path)) return 0;
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let max = st.mtimeMs;
  for (const name of readdirSync(path)) max = Math.max(max, newest(join(path, name)));
  return max;
}

function stale(): boolean {
  if (!existsSync(built)) return true;
  const at = statSync(built).mtimeMs;
  return SOURCES.some((s) => newest(join(root, s)) > at);
}

if (stale()) {
  console.log("Building the web app (web/dist is missing or older than web/src)…");
  const b = Bun.spawn({
    cmd: [process.execPath, join(root, "scripts", "web-build.ts")],
    cwd: root,
    stdio: ["ignore", "inherit", "inherit"],
  });
  if ((await b.exited) !== 0) console.error("The web app did not build; the hub starts anyway.");
}

const hub = Bun.spawn({
  cmd: [process.execPath, join(root, "server.ts"), ...process.argv.slice(2)],
  cwd: root,
  stdio: ["inherit", "inherit", "inherit"],
});
for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  process.on(sig, () => hub.kill(sig));
}
process.exit(await hub.exited);
