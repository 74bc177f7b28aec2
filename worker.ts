/**
 * switchboard-worker: runs agents for Switchboard. Entry point only: it picks the subcommand.
 */
import pkg from "./package.json" with { type: "json" };
import { ATTACH_HELP, runAttach } from "./src/cli/attach.ts";
import { CONNECT_HELP, runConnect } from "./src/cli/connect.ts";
import { UsageError } from "./src/cli/args.ts";
import { LS_HELP, runLs } from "./src/cli/ls.ts";
import { MUX_HELP, runMux } from "./src/cli/mux.ts";

const HELP = `Usage: switchboard-worker <command> [options]

Commands:
  mux [options] -- <agent command…>       run an ACP agent for your editor and share its session
  attach <socket-path | pid | name>       join a live session from any stdio ACP client
  ls [--json]                             list live sessions
  connect --hub URL [--key KEY]           link this machine to a hub and run its agents

Options: --help (also after a command), --version`;

const commands: Record<
  string,
  { run: (argv: string[]) => number | Promise<number>; help: string }
> = {
  mux: { run: runMux, help: MUX_HELP },
  attach: { run: runAttach, help: ATTACH_HELP },
  ls: { run: runLs, help: LS_HELP },
  connect: { run: runConnect, help: CONNECT_HELP },
};

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === "--version" || name === "-v") {
    console.log(pkg.version);
    return 0;
  }
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    console.log(HELP);
    return 0;
  }
  const command = commands[name];
  if (!command) {
    console.error(`switchboard-worker: unknown command ${JSON.stringify(name)}\n\n${HELP}`);
    return 2;
  }
  try {
    return await command.run(rest);
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`switchboard-worker ${name}: ${e.message}\n\n${command.help}`);
      return 2;
    }
    console.error(`switchboard-worker ${name}: ${(e as Error).message}`);
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
