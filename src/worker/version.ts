/** The worker's version, from package.json (bundled into the compiled binary). */
import pkg from "../../package.json" with { type: "json" };

export const WORKER_VERSION: string = pkg.version;
