/**
 * A what-if for bench/pty.ts, loaded with `bun --preload` into a hub or a worker: TerminalAgent
 * no longer feeds its output to the headless emulator (snapshots then show an empty screen).
 * It measures what taking the emulator off the output path would gain; src/ is unchanged.
 */
import { TerminalAgent } from "../src/worker/terminal-agent.ts";

(TerminalAgent.prototype as unknown as { feed(data: Uint8Array): void }).feed = () => {};
