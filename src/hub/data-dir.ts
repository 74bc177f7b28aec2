/** The hub's data folder: private to its user (0700), created on first start. */
import { chmodSync, mkdirSync, statSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

/** $SWITCHBOARD_DATA, else the XDG data folder. */
export function defaultDataDir(env = process.env): string {
  if (env.SWITCHBOARD_DATA) return env.SWITCHBOARD_DATA;
  const base = env.XDG_DATA_HOME || join(homedir(), ".local", "share");
  return join(base, "switchboard");
}

/** Creates the folder if needed and refuses one another user owns or others can read. */
export function prepareDataDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = statSync(dir);
  if (typeof process.getuid === "function" && st.uid !== process.getuid()) {
    throw new Error(`${dir} belongs to another user; Switchboard keeps its data private`);
  }
  if ((st.mode & 0o077) !== 0) chmodSync(dir, 0o700);
}
