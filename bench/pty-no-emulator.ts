/**
 * A what-if for bench/pty.ts, loaded with `bun --preload` into a hub or a worker: terminals no
 * longer feed their output to the screen thread's emulator (snapshots then show an empty
 * screen). It measures what the emulator still costs the output path; src/ is unchanged.
 */
import { Screen } from "../src/worker/screen.ts";

(Screen.prototype as unknown as { feed(data: Uint8Array): void }).feed = () => {};
