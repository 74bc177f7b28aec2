/**
 * What the worker remembers of its agents across restarts: the hub's spec for each running
 * agent and, for ACP agents, the session id to load when it resumes.
 */
import type { Database } from "bun:sqlite";
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { AgentSpecSchema, type AgentSpec } from "../gen/switchboard/v1/link_pb.ts";

export class AgentStore {
  constructor(private readonly db: Database) {}

  /** Records an agent as running (its session id comes later). */
  started(spec: AgentSpec): void {
    this.db
      .query(
        `INSERT INTO agents (agent_id, spec) VALUES (?, ?)
         ON CONFLICT DO UPDATE SET spec = excluded.spec`,
      )
      .run(spec.agentId, toBinary(AgentSpecSchema, spec));
  }

  setSession(agentId: string, sessionId: string): void {
    this.db.query("UPDATE agents SET session_id = ? WHERE agent_id = ?").run(sessionId, agentId);
  }

  /** The session an ACP agent last served, or "". */
  sessionOf(agentId: string): string {
    const r = this.db
      .query("SELECT session_id AS s FROM agents WHERE agent_id = ?")
      .get(agentId) as {
      s: string;
    } | null;
    return r?.s ?? "";
  }

  /** Forgets an agent that was stopped or deleted (not one that died with the worker). */
  forget(agentId: string): void {
    this.db.query("DELETE FROM agents WHERE agent_id = ?").run(agentId);
  }

  /** Agents that were running when the worker last stopped. */
  all(): AgentSpec[] {
    return (this.db.query("SELECT spec FROM agents").all() as { spec: Uint8Array }[]).map((r) =>
      fromBinary(AgentSpecSchema, r.spec),
    );
  }
}
