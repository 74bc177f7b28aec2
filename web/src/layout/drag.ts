/**
 * What is dragged onto the panes (HTML5 drag and drop): an agent from the list, or a pane's
 * content onto another pane. Types of our own, so text fields ignore them and other pages'
 * drags are not taken for ours.
 */
import type { PaneContent } from "./layout.ts";

/** data: JSON {agentId, terminal}. */
export const AGENT_TYPE = "application/x-switchboard-agent";
/** data: the dragged pane's index. */
export const PANE_TYPE = "application/x-switchboard-pane";

export const isOurs = (types: readonly string[]) =>
  types.includes(AGENT_TYPE) || types.includes(PANE_TYPE);

/** What showing an agent in a pane means: its terminal for a terminal agent. */
export function agentContent(agentId: string, terminal: boolean): PaneContent {
  return terminal ? { kind: "terminal", agentId } : { kind: "agent", agentId };
}

export function setAgentDrag(dt: DataTransfer, agentId: string, terminal: boolean): void {
  dt.setData(AGENT_TYPE, JSON.stringify({ agentId, terminal }));
  dt.effectAllowed = "copyMove";
}

/** The dropped agent as pane content, or null when the data is not one. */
export function droppedAgent(dt: DataTransfer): PaneContent | null {
  try {
    const v = JSON.parse(dt.getData(AGENT_TYPE)) as { agentId?: unknown; terminal?: unknown };
    if (typeof v.agentId !== "string" || !v.agentId) return null;
    return agentContent(v.agentId, v.terminal === true);
  } catch {
    return null; // not our data after all
  }
}

/** The dropped pane's index, or null. */
export function droppedPane(dt: DataTransfer): number | null {
  const raw = dt.getData(PANE_TYPE);
  const n = Number(raw);
  return raw !== "" && Number.isInteger(n) && n >= 0 ? n : null;
}
