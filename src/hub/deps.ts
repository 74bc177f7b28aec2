/** What the hub's services are handed (no hidden singletons: tests build their own). */
import type { Database } from "bun:sqlite";
import type { LinkHub } from "./link.ts";
import type { LiveHub } from "./live.ts";
import type { HubPush } from "./push.ts";
import type { EventLog } from "./store/events.ts";

export interface HubDeps {
  db: Database;
  events: EventLog;
  live: LiveHub;
  link: LinkHub;
  log: (line: string) => void;
  now: () => number;
  /** The origin browsers use, when the hub sits behind a proxy (e.g. https://hub.example). */
  publicOrigin: string | null;
  /** Whether cookies get the Secure attribute (the public origin is https). */
  secureCookies: boolean;
  /** Web Push, when the hub was given VAPID keys. */
  push: HubPush | null;
}
