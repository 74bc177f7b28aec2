/** Agents as the hub knows them; their status follows the AGENT_STATUS events of their stream. */
import type { Database } from "bun:sqlite";
import { create } from "@bufbuild/protobuf";
import { AgentSchema, type Agent } from "../../gen/switchboard/v1/agent_pb.ts";
import { AgentStatus, EventKind, type Event } from "../../gen/switchboard/v1/common_pb.ts";

const STATUS_NAMES: Record<string, AgentStatus> = {
  starting: AgentStatus.STARTING,
  idle: AgentStatus.IDLE,
  working: AgentStatus.WORKING,
  waiting: AgentStatus.WAITING,
  stopped: AgentStatus.STOPPED,
  failed: AgentStatus.FAILED,
};

/** Statuses in which the agent's processes should be running on its worker. */
export const RUNNING_STATUSES = [
  AgentStatus.STARTING,
  AgentStatus.IDLE,
  AgentStatus.WORKING,
  AgentStatus.WAITING,
];
/** RUNNING_STATUSES for an SQL `IN (…)`. */
export const RUNNING_SQL = RUNNING_STATUSES.join(", ");

interface Row {
  id: string;
  workspaceId: string;
  kind: number;
  name: string;
  catalogId: string;
  commandJson: string;
  status: number;
  statusMessage: string;
  createdBy: string;
  createdAt: number;
  headSeq: number;
}

const SELECT = `SELECT a.id, a.workspace_id AS workspaceId, a.kind, a.name, a.catalog_id AS catalogId,
  a.command_json AS commandJson, a.status, a.status_message AS statusMessage,
  a.created_by AS createdBy, a.created_at AS createdAt, coalesce(s.head_seq, 0) AS headSeq
  FROM agents a LEFT JOIN streams s ON s.agent_id = a.id`;

function toAgent(r: Row): Agent {
  return create(AgentSchema, {
    id: r.id,
    workspaceId: r.workspaceId,
    kind: r.kind,
    name: r.name,
    status: r.status,
    streamId: r.id,
    headSeq: r.headSeq,
    catalogId: r.catalogId,
    command: JSON.parse(r.commandJson) as string[],
    statusMessage: r.statusMessage,
    createdAtMs: r.createdAt,
    createdBy: r.createdBy,
  });
}

export function listAgents(db: Database, workspaceId: string): Agent[] {
  return (
    db.query(`${SELECT} WHERE a.workspace_id = ? ORDER BY a.created_at`).all(workspaceId) as Row[]
  ).map(toAgent);
}

export function getAgent(db: Database, agentId: string): Agent | null {
  const r = db.query(`${SELECT} WHERE a.id = ?`).get(agentId) as Row | null;
  return r ? toAgent(r) : null;
}

/** Creates the agent and its stream (the stream's id is the agent's). */
export function insertAgent(
  db: Database,
  a: Omit<Agent, "$typeName" | "headSeq" | "streamId">,
): void {
  db.transaction(() => {
    db.query(
      `INSERT INTO agents (id, workspace_id, kind, name, catalog_id, command_json, status, status_message, created_by, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      a.id,
      a.workspaceId,
      a.kind,
      a.name,
      a.catalogId,
      JSON.stringify(a.command),
      a.status,
      a.statusMessage,
      a.createdBy,
      a.createdAtMs,
    );
    db.query("INSERT INTO streams (id, workspace_id, agent_id) VALUES (?, ?, ?)").run(
      a.id,
      a.workspaceId,
      a.id,
    );
  })();
}

export function setAgentStatus(
  db: Database,
  agentId: string,
  status: AgentStatus,
  message = "",
): void {
  db.query("UPDATE agents SET status = ?, status_message = ? WHERE id = ?").run(
    status,
    message,
    agentId,
  );
}

/** Follows AGENT_STATUS events; returns whether the agent's row changed. */
export function applyEventsToAgents(db: Database, streamId: string, events: Event[]): boolean {
  let last: { status: AgentStatus; message: string } | null = null;
  for (const e of events) {
    if (e.kind !== EventKind.AGENT_STATUS) continue;
    try {
      const j = JSON.parse(e.json) as { status?: string; message?: string };
      const status = STATUS_NAMES[j.status ?? ""];
      if (status !== undefined) last = { status, message: String(j.message ?? "").slice(0, 2000) };
    } catch {
      // A malformed status event is stored as sent; the agent's row keeps its last status.
    }
  }
  if (!last) return false;
  db.query(
    "UPDATE agents SET status = ?, status_message = ? WHERE id = (SELECT agent_id FROM streams WHERE id = ?)",
  ).run(last.status, last.message, streamId);
  return true;
}
