/**
 * Permission requests fanned out to every live frontend.
 *
 * The first successful answer wins and goes to the agent; the other copies are withdrawn with
 * `$/cancel_request`. An error answer (a client that does not implement the method) never wins:
 * the request keeps waiting for a frontend that can answer, including one that attaches later.
 * Every resolution is announced to all frontends and kept in the history.
 */
import type { Frontend } from "./frontend.ts";
import type { JsonRpcId, RpcResponse } from "./jsonrpc.ts";

export const PERMISSION_RESOLVED = "_switchboard/permission_resolved";

type Outcome = { outcome: "cancelled" } | { outcome: "selected"; optionId: string };

interface Pending {
  agentId: JsonRpcId;
  params: Record<string, unknown>;
  /** Frontends holding a copy, with the id the copy was sent under. */
  holders: Map<Frontend, JsonRpcId>;
  /** Frontends that answered with an error: they are not asked again. */
  refused: Set<Frontend>;
}

export interface PermissionHost {
  /** Live frontends, in attach order. */
  liveFrontends(): Iterable<Frontend>;
  answerAgent(id: JsonRpcId, result: unknown): void;
  /** Tells every live frontend and records it in the history. */
  announce(method: string, params: Record<string, unknown>): void;
  log(line: string): void;
}

function validOutcome(result: unknown, options: unknown): Outcome | null {
  const o = (result as { outcome?: Partial<Outcome> } | null)?.outcome;
  if (!o || typeof o !== "object") return null;
  if (o.outcome === "cancelled") return { outcome: "cancelled" };
  if (o.outcome !== "selected" || typeof (o as { optionId?: unknown }).optionId !== "string") {
    return null;
  }
  const optionId = (o as { optionId: string }).optionId;
  const known = Array.isArray(options) && options.some((x) => x?.optionId === optionId);
  return known ? { outcome: "selected", optionId } : null;
}

export class PermissionBroker {
  private readonly pending = new Map<JsonRpcId, Pending>();

  constructor(private readonly host: PermissionHost) {}

  get size(): number {
    return this.pending.size;
  }

  /** The agent asked: every live frontend gets a copy; with none, it waits for the next. */
  request(agentId: JsonRpcId, params: Record<string, unknown>): void {
    const p: Pending = { agentId, params, holders: new Map(), refused: new Set() };
    this.pending.set(agentId, p);
    for (const f of this.host.liveFrontends()) this.deliver(p, f);
  }

  /** A frontend went live: hand it every request still open. */
  offerTo(f: Frontend): void {
    for (const p of this.pending.values()) if (!p.refused.has(f)) this.deliver(p, f);
  }

  /** A frontend left: its copies are gone; the requests stay open for the others. */
  forget(f: Frontend): void {
    for (const p of this.pending.values()) {
      p.holders.delete(f);
      p.refused.delete(f);
    }
  }

  /** `session/cancel` from anyone: every open request ends as cancelled. */
  cancelAll(by: Frontend | null): void {
    for (const p of [...this.pending.values()]) this.resolve(p, { outcome: "cancelled" }, by, true);
  }

  /** The agent withdrew its own request ($/cancel_request). */
  withdrawnByAgent(agentId: JsonRpcId): boolean {
    const p = this.pending.get(agentId);
    if (!p) return false;
    this.resolve(p, { outcome: "cancelled" }, null, false);
    return true;
  }

  /** The agent is gone: withdraw every copy without answering anyone. */
  abandon(): void {
    for (const p of this.pending.values()) for (const [f, id] of p.holders) f.withdraw(id);
    this.pending.clear();
  }

  private deliver(p: Pending, f: Frontend): void {
    if (p.holders.has(f)) return;
    const id = f.request("session/request_permission", p.params, (r) => this.answered(p, f, r));
    p.holders.set(f, id);
  }

  private answered(p: Pending, f: Frontend, r: RpcResponse): void {
    // A frontend that left is forgotten already; its copy is not a refusal.
    if (!this.pending.has(p.agentId) || f.detached) return;
    p.holders.delete(f);
    const outcome = r.error ? null : validOutcome(r.result, p.params.options);
    if (!outcome) {
      p.refused.add(f);
      this.host.log(
        `permission request: ${f.name} answered ${r.error ? `error ${r.error.code} ${r.error.message}` : "with an invalid outcome"}; waiting for another frontend`,
      );
      return;
    }
    this.resolve(p, outcome, f, true);
  }

  private resolve(p: Pending, outcome: Outcome, by: Frontend | null, answer: boolean): void {
    this.pending.delete(p.agentId);
    // The winner's copy was removed when it answered; every other copy is withdrawn.
    for (const [holder, id] of p.holders) holder.withdraw(id);
    p.holders.clear();
    if (answer) this.host.answerAgent(p.agentId, { outcome });
    const toolCall = (p.params.toolCall ?? {}) as { toolCallId?: unknown };
    this.host.announce(PERMISSION_RESOLVED, {
      sessionId: p.params.sessionId,
      toolCallId: toolCall.toolCallId ?? null,
      request: p.params,
      outcome,
      by: by ? by.name : "agent",
    });
  }
}
