/** `switchboard-worker ls [--json]`: the live sessions in the socket folder. */
import { listSessions, socketDir } from "../mux/registry.ts";
import { parseArgs } from "./args.ts";

export const LS_HELP = `Usage: switchboard-worker ls [--json]

Lists live sessions (socket, pid, name, agent command, cwd, clients attached, started at):
those of \`mux\`, and the ACP agents a worker on this machine runs (--json adds their agentId
and workspaceId). Sockets of processes that are gone are removed.`;

export function runLs(argv: string[]): number {
  const args = parseArgs(argv);
  if (args.flags.has("help")) {
    console.log(LS_HELP);
    return 0;
  }
  const sessions = listSessions(socketDir());
  if (args.flags.has("json")) {
    console.log(JSON.stringify(sessions, null, 2));
    return 0;
  }
  if (sessions.length === 0) {
    console.log(`no live sessions in ${socketDir()}`);
    return 0;
  }
  const rows = [
    ["PID", "NAME", "CLIENTS", "STARTED", "CWD", "COMMAND", "SOCKET"],
    ...sessions.map((s) => [
      String(s.pid),
      s.name ?? "-",
      String(s.clients),
      s.startedAt,
      s.cwd,
      s.command.join(" "),
      s.socket,
    ]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const r of rows)
    console.log(
      r
        .map((c, i) => c.padEnd(widths[i]!))
        .join("  ")
        .trimEnd(),
    );
  return 0;
}
