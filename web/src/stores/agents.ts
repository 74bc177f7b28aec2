/**
 * Agents per workspace: their status, what the worker can start (its catalog), the steering
 * calls (prompt, cancel, answer a permission request), and unread counts: how far the
 * stream's head is past what this device last showed.
 */
import { defineStore } from "pinia";
import { reactive, shallowReactive } from "vue";
import type { Agent, CatalogEntry } from "@gen/switchboard/v1/agent_pb.ts";
import { AgentKind, AgentStatus } from "@gen/switchboard/v1/common_pb.ts";
import { isNetworkError } from "../api/errors.ts";
import { useServices } from "../services.ts";
import { newKey } from "./keys.ts";
import { useOutboxStore } from "./outbox.ts";
import { useStreamsStore } from "./streams.ts";

const listKey = (workspaceId: string) => `agents:${workspaceId}`;
const SEEN_KEY = "seen";

/** working / waiting for you / finished / failed, and the quieter ones. */
export type Badge =
  "starting" | "working" | "waiting" | "finished" | "running" | "stopped" | "failed";

export const BADGE_LABEL: Record<Badge, string> = {
  starting: "starting",
  working: "working",
  waiting: "waiting for you",
  finished: "finished",
  running: "running",
  stopped: "stopped",
  failed: "failed",
};

/**
 * An idle ACP agent has finished its turn; an idle terminal program is simply running (a
 * shell waiting for a command has not finished anything).
 */
export function badgeOf(status: AgentStatus, kind?: AgentKind): Badge {
  switch (status) {
    case AgentStatus.WORKING:
      return "working";
    case AgentStatus.WAITING:
      return "waiting";
    case AgentStatus.IDLE:
      return kind === AgentKind.TERMINAL ? "running" : "finished";
    case AgentStatus.STOPPED:
      return "stopped";
    case AgentStatus.FAILED:
      return "failed";
    default:
      return "starting";
  }
}

/** An ACP content block the composer sends: text, or an image as base64 with its MIME type. */
export type PromptBlock =
  { type: "text"; text: string } | { type: "image"; data: string; mimeType: string };

/** What to start: a catalog entry, or a command of a kind. */
export type StartSpec =
  | { catalogId: string; name?: string }
  | { command: string[]; kind: AgentKind; name?: string; cols?: number; rows?: number };

export const useAgentsStore = defineStore("agents", () => {
  const { api, cache } = useServices();
  const streams = useStreamsStore();
  const outbox = useOutboxStore();
  const byWorkspace = shallowReactive<Record<string, Agent[]>>({});
  const catalogs = shallowReactive<Record<string, CatalogEntry[]>>({});
  /** The last seq this device showed, per agent. */
  const seen = reactive<Record<string, number>>({});
  let seenRestored: Promise<void> | null = null;

  function restoreSeen(): Promise<void> {
    return (seenRestored ??= cache
      .get<Record<string, number>>(SEEN_KEY)
      .then((s) => {
        for (const [k, v] of Object.entries(s ?? {})) seen[k] = Math.max(seen[k] ?? 0, v);
      })
      // A cache that cannot be read only means unread counts start from zero.
      .catch(() => {}));
  }

  function find(agentId: string): Agent | undefined {
    for (const list of Object.values(byWorkspace)) {
      const a = list.find((x) => x.id === agentId);
      if (a) return a;
    }
    return undefined;
  }

  async function load(workspaceId: string): Promise<void> {
    void restoreSeen();
    if (!byWorkspace[workspaceId]) {
      const cached = await cache.get<Agent[]>(listKey(workspaceId));
      if (cached && !byWorkspace[workspaceId]) byWorkspace[workspaceId] = cached;
    }
    try {
      const { agents } = await api.agents.listAgents({ workspaceId });
      byWorkspace[workspaceId] = agents;
      await cache.set(listKey(workspaceId), agents);
    } catch (err) {
      if (!(isNetworkError(err) && byWorkspace[workspaceId])) throw err;
    }
  }

  /** Workspaces whose agents were loaded (to refetch after a reconnect). */
  function loadedWorkspaces(): string[] {
    return Object.keys(byWorkspace);
  }

  async function loadCatalog(workspaceId: string): Promise<CatalogEntry[]> {
    const { entries } = await api.agents.listCatalog({ workspaceId });
    catalogs[workspaceId] = entries;
    return entries;
  }

  async function start(workspaceId: string, spec: StartSpec): Promise<Agent> {
    const { agent } = await api.agents.startAgent({ workspaceId, ...spec });
    await load(workspaceId);
    return agent!;
  }

  async function stop(agent: Agent): Promise<void> {
    await api.agents.stopAgent({ agentId: agent.id });
    await load(agent.workspaceId);
  }

  async function restart(agent: Agent): Promise<void> {
    await api.agents.restartAgent({ agentId: agent.id });
    await load(agent.workspaceId);
  }

  async function remove(agent: Agent): Promise<void> {
    await api.agents.deleteAgent({ agentId: agent.id });
    await load(agent.workspaceId);
  }

  /**
   * Sends a prompt: text, or ACP content blocks (text, images), with a fresh idempotency key
   * (a retry must reuse `key`). True when sent, false when the hub had seen the key (nothing
   * was sent again), "queued" when the hub cannot be reached: it waits in the outbox and goes
   * out, once, when the network is back. A refusal is thrown.
   */
  async function prompt(
    agentId: string,
    content: string | readonly PromptBlock[],
    key = newKey(),
  ): Promise<boolean | "queued"> {
    const blocks = typeof content === "string" ? [{ type: "text", text: content }] : content;
    const promptJson = JSON.stringify(blocks);
    const r = await outbox.send({ key, agentId, kind: "prompt", payload: { promptJson } });
    return r === "queued" ? r : r === "sent";
  }

  async function cancel(agentId: string): Promise<void> {
    await api.agents.cancel({ agentId });
  }

  /**
   * Answers a permission request with one of its options, or withdraws it (`null`). "queued"
   * when the hub cannot be reached: the answer waits in the outbox like a prompt.
   */
  async function answerPermission(
    agentId: string,
    requestId: string,
    optionId: string | null,
    key = newKey(),
  ): Promise<"queued" | undefined> {
    const payload = { requestId, optionId: optionId ?? "", cancelled: optionId === null };
    const r = await outbox.send({ key, agentId, kind: "answer", payload });
    return r === "queued" ? r : undefined;
  }

  async function setMode(agentId: string, modeId: string): Promise<void> {
    await api.agents.setMode({ agentId, modeId });
  }

  async function setConfigOption(agentId: string, configId: string, value: string) {
    await api.agents.setConfigOption({ agentId, configId, value });
  }

  /** The newest seq known: the listing's, or the live stream's if it is further. */
  function headOf(agent: Agent): number {
    return Math.max(agent.headSeq, streams.head(agent.streamId));
  }

  function unread(agent: Agent): number {
    return Math.max(0, headOf(agent) - (seen[agent.id] ?? 0));
  }

  /** This device has shown the agent's stream up to `seq`. */
  function markSeen(agentId: string, seq: number): void {
    if ((seen[agentId] ?? 0) >= seq) return;
    seen[agentId] = seq;
    // Best effort: a lost write only brings an unread count back.
    cache.set(SEEN_KEY, { ...seen }).catch(() => {});
  }

  return {
    byWorkspace,
    catalogs,
    seen,
    find,
    load,
    loadedWorkspaces,
    loadCatalog,
    start,
    stop,
    restart,
    remove,
    prompt,
    cancel,
    answerPermission,
    setMode,
    setConfigOption,
    headOf,
    unread,
    markSeen,
    restoreSeen,
  };
});
