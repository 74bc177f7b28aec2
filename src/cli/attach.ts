/**
 * `switchboard-worker attach <socket-path | pid | name>`: joins a running session from any stdio
 * ACP client by bridging stdin/stdout to the session's socket, byte for byte.
 */
import { Outlet } from "../mux/outlet.ts";
import { resolveTarget, socketDir } from "../mux/registry.ts";
import { parseArgs, UsageError } from "./args.ts";
import { readStdin, stdoutSink } from "./stdio.ts";

export const ATTACH_HELP = `Usage: switchboard-worker attach <socket-path | pid | name>

Joins a live session (see \`switchboard-worker ls\`) as an ACP agent on stdin/stdout: configure
your editor to run this command as its agent. You receive the session's history, then live
updates, and can prompt, cancel and answer permission requests. A worker serves each of its
agents as a session of its own: attach to one by name (a pid would name them all).`;

/** An editor that stops reading its agent's output this long is far behind; give up on it. */
const MAX_BRIDGE_QUEUE_BYTES = 256 * 1024 * 1024;

export async function runAttach(argv: string[]): Promise<number> {
  const args = parseArgs(argv);
  if (args.flags.has("help")) {
    console.log(ATTACH_HELP);
    return 0;
  }
  const target = args.positional[0];
  if (!target) throw new UsageError("attach needs a socket path, pid or session name");
  const path = resolveTarget(socketDir(), target);

  const fail = (why: string) => {
    process.stderr.write(`switchboard attach: ${why}\n`);
    process.exit(1);
  };
  const toEditor = new Outlet(
    stdoutSink(() => toEditor.flush()),
    () => fail("the editor stopped reading; giving up"),
    MAX_BRIDGE_QUEUE_BYTES,
  );
  let toSession: Outlet | null = null;
  const early: Uint8Array[] = [];
  const done = Promise.withResolvers<number>();

  const socket = await Bun.connect({
    unix: path,
    socket: {
      data(_s, chunk) {
        toEditor.send(chunk);
      },
      drain() {
        toSession?.flush();
      },
      close() {
        done.resolve(0);
      },
      error(_s, e) {
        fail(`socket error: ${e.message}`);
      },
    },
  }).catch((e: Error) => {
    fail(`cannot connect to ${path}: ${e.message}`);
    throw e;
  });
  toSession = new Outlet(
    { write: (d) => Math.max(socket.write(d), 0), end: () => socket.end() },
    () => fail("the session stopped reading; giving up"),
    MAX_BRIDGE_QUEUE_BYTES,
  );
  for (const c of early.splice(0)) toSession.send(c);
  readStdin(
    (c) => toSession.send(Uint8Array.from(c)),
    () => toSession.end(),
  );
  const code = await done.promise;
  // Whatever the session sent last (an exit notice) reaches the editor before we go.
  toEditor.end();
  // The session is over: stop reading stdin, or an editor that keeps it open would wait on
  // this process forever instead of learning that its agent ended.
  process.stdin.destroy();
  return code;
}
