/**
 * Before the journeys: builds web/dist when it is missing or older than what it is built from
 * (the hub serves it), as `npm start` does (scripts/web-stale.ts).
 */
import { buildWeb, webStale } from "../scripts/web-stale.ts";

export default async function globalSetup(): Promise<void> {
  if (!webStale()) return;
  if (!(await buildWeb())) throw new Error("the web app did not build (bun scripts/web-build.ts)");
}
