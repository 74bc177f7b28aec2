/**
 * The thread that keeps terminal screens: one headless xterm per terminal, fed in order with
 * everything its program wrote, serialised on request. Parsing is most of a terminal flood's
 * cost (bench:pty: 70 % of the worker's thread), so it runs here, beside the PTY reads.
 */
import { SerializeAddon } from "@xterm/addon-serialize";
import { Terminal as Emulator } from "@xterm/headless";
import type { ScreenReply, ScreenRequest } from "./screen.ts";

declare const self: Worker;

interface Screen {
  emulator: Emulator;
  core: { writeSync(data: Uint8Array): void };
  serializer: SerializeAddon;
  /** Parsed KiB, shared with the terminal's thread for back-pressure (see screen.ts). */
  parsed: Int32Array;
  bytes: number;
  scrollback: number;
}

const screens = new Map<number, Screen>();

self.onmessage = (e: MessageEvent<ScreenRequest>) => {
  const m = e.data;
  switch (m.t) {
    case "open": {
      const emulator = new Emulator({
        cols: m.cols,
        rows: m.rows,
        scrollback: m.scrollback,
        // The serialize addon reads the buffer, which headless counts as proposed API.
        allowProposedApi: true,
        logLevel: "off",
      });
      const serializer = new SerializeAddon();
      emulator.loadAddon(serializer);
      const core = (emulator as unknown as { _core: Screen["core"] })._core;
      screens.set(m.id, {
        emulator,
        core,
        serializer,
        parsed: new Int32Array(m.parsed),
        bytes: 0,
        scrollback: m.scrollback,
      });
      return;
    }
    case "feed": {
      const s = screens.get(m.id);
      if (!s) return;
      try {
        // Synchronous: xterm's public write() parses later, in slices, and throws past 50 MB.
        s.core.writeSync(m.data);
      } catch {
        // A sequence the emulator cannot parse only costs the snapshot some fidelity.
      }
      s.bytes += m.data.length;
      Atomics.store(s.parsed, 0, Math.floor(s.bytes / 1024));
      Atomics.notify(s.parsed, 0);
      return;
    }
    case "resize":
      screens.get(m.id)?.emulator.resize(m.cols, m.rows);
      return;
    case "snapshot": {
      const s = screens.get(m.id);
      const text = s ? s.serializer.serialize({ scrollback: s.scrollback }) : "";
      self.postMessage({ t: "snapshot", id: m.id, req: m.req, text } satisfies ScreenReply);
      return;
    }
    case "close": {
      screens.get(m.id)?.emulator.dispose();
      screens.delete(m.id);
      return;
    }
  }
};
