/**
 * `npm start`: builds the web app first when web/dist is missing or older than its sources,
 * then runs the hub (`bun server.ts`) with the arguments given, passing signals on and exiting
 * with its code. A failed build is reported and the hub starts anyway (it says the app is not
 * built, or serves the previous build).
 */
import { join } from "node:path";
import { buildWeb, webStale } from "./web-stale.ts";

const root = join(import.meta.dir, "..");

if (webStale()) {
  console.log("Building the web app (web/dist is missing or older than web/src)…");
  if (!(await buildWeb())) console.error("The web app did not build; the hub starts anyway.");
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
