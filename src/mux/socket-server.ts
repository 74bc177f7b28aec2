/**
 * Frontends over a Unix socket: each connection is one frontend of the mux. The socket file is
 * made private to its user as soon as it exists (its folder already is).
 */
import { chmodSync } from "node:fs";
import type { Frontend } from "./frontend.ts";
import type { Mux } from "./mux.ts";
import type { Sink } from "./outlet.ts";

export interface SocketServer {
  stop(): void;
}

type Conn = Bun.Socket<{ frontend: Frontend | null }>;

function socketSink(s: Conn): Sink {
  return {
    write: (data) => Math.max(s.write(data), 0),
    end: () => s.end(),
    destroy: () => s.terminate(),
  };
}

export function serveSocket(mux: Mux, path: string): SocketServer {
  const listener = Bun.listen<{ frontend: Frontend | null }>({
    unix: path,
    data: { frontend: null },
    socket: {
      open(s) {
        s.data = { frontend: mux.attach(socketSink(s)) };
      },
      data(s, chunk) {
        s.data.frontend?.receive(chunk);
      },
      drain(s) {
        s.data.frontend?.drain();
      },
      close(s) {
        s.data.frontend?.closed();
      },
      error(s) {
        s.data.frontend?.closed();
      },
    },
  });
  chmodSync(path, 0o600);
  // Stops listening; open connections close through their frontends (which flush first).
  return { stop: () => listener.stop(false) };
}
