/**
 * Which terminal the Terminal tab shows, and what "New shell" starts. Pure, so tested alone.
 */
import type { Agent, CatalogEntry } from "@gen/switchboard/v1/agent_pb.ts";
import { AgentKind, AgentStatus } from "@gen/switchboard/v1/common_pb.ts";
import type { StartSpec } from "../stores/agents.ts";

export const isRunning = (a: Agent) =>
  a.status !== AgentStatus.STOPPED && a.status !== AgentStatus.FAILED;

/** A workspace's terminal agents, newest first. */
export function terminalsOf(agents: readonly Agent[]): Agent[] {
  return agents
    .filter((a) => a.kind === AgentKind.TERMINAL)
    .sort((a, b) => b.createdAtMs - a.createdAtMs);
}

/** The one asked for when it is a terminal, else the newest running one, else the newest. */
export function pickTerminal(terminals: readonly Agent[], wanted?: string): Agent | null {
  return (
    terminals.find((a) => a.id === wanted) ?? terminals.find(isRunning) ?? terminals[0] ?? null
  );
}

/**
 * The command "New shell" runs without a catalog entry: the login shell of the worker's user
 * ($SHELL, expanded there, not here), else bash.
 */
export const SHELL_COMMAND = ["sh", "-c", 'exec "${SHELL:-bash}"'];

/**
 * How to start a shell: the catalog's terminal entry named like one ("shell", "bash", …),
 * else the plain command (another terminal entry, htop say, is no shell).
 */
export function shellSpec(catalog: readonly CatalogEntry[]): StartSpec {
  const entry = catalog.find(
    (e) =>
      e.kind === AgentKind.TERMINAL && /\b(shell|bash|zsh|fish|sh)\b/i.test(`${e.id} ${e.name}`),
  );
  if (entry) return { catalogId: entry.id, name: entry.name };
  return { command: SHELL_COMMAND, kind: AgentKind.TERMINAL, name: "Shell" };
}
