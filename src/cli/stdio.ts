/**
 * Our own stdin and stdout as byte streams, with backpressure on stdout: a reader that stalls
 * makes `write` return 0 until it drains, so the caller's bounded queue takes over.
 */
import type { Sink } from "../mux/outlet.ts";

export function stdoutSink(onDrain: () => void, onEnd: () => void = () => {}): Sink {
  let blocked = false;
  return {
    write(data) {
      if (blocked) return 0;
      if (!process.stdout.write(data)) {
        blocked = true;
        process.stdout.once("drain", () => {
          blocked = false;
          onDrain();
        });
      }
      return data.length;
    },
    end: onEnd,
  };
}

/** Feeds stdin to `onData` until it ends. */
export function readStdin(onData: (chunk: Uint8Array) => void, onEnd: () => void): void {
  process.stdin.on("data", (chunk: Buffer) => onData(chunk));
  process.stdin.on("end", onEnd);
  process.stdin.on("error", onEnd);
}
