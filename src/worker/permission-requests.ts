/**
 * The permission requests the hub frontend holds, under ids of the worker's own.
 *
 * The mux sends every frontend its own copy of a request and announces how it ended
 * (`_switchboard/permission_resolved`) to all of them, whoever answered. A request is open here
 * from the copy until that announcement, so the stream shows each request once and its
 * resolution once, with the person who answered as actor.
 */
import { EventKind } from "../gen/switchboard/v1/common_pb.ts";
import { asObject, type JsonRpcId } from "../mux/jsonrpc.ts";

export type PermissionAnswer = { optionId: string } | { cancelled: true };

interface Open {
  requestId: string;
  /** The id the mux sent our copy under. */
  rpcId: JsonRpcId;
  request: Record<string, unknown>;
  /** Who answered from here; the mux's announcement still decides who won. */
  answeredBy: string | null;
  /** The mux withdrew our copy (someone else answered, or the agent gave up on it). */
  withdrawn: boolean;
}

export interface PermissionsHost {
  emit(kind: EventKind, json: unknown, actor: string): void;
  /** Answers our copy of a request. */
  respond(rpcId: JsonRpcId, result: unknown): void;
  /** The open count changed: the agent's status may follow. */
  settle(actor: string): void;
  /** Our frontend's name, as the mux reports it in `by`. */
  hub: string;
}

export class Permissions {
  /** Who last cancelled from here: the mux cancels open requests in the hub's name. */
  cancelActor = "";
  private readonly byId = new Map<string, Open>();
  private next = 1;

  constructor(private readonly host: PermissionsHost) {}

  get open(): number {
    return this.byId.size;
  }

  /** The mux handed us a copy of an agent's request. */
  requested(rpcId: JsonRpcId, request: Record<string, unknown>): void {
    const requestId = String(this.next++);
    this.byId.set(requestId, { requestId, rpcId, request, answeredBy: null, withdrawn: false });
    this.host.emit(EventKind.PERMISSION_REQUEST, { requestId, request }, "agent");
    this.host.settle("agent");
  }

  /** Answers from here; throws when the id is unknown, already resolved or the option is not offered. */
  answer(requestId: string, answer: PermissionAnswer, actor: string): void {
    const p = this.byId.get(requestId);
    if (!p || p.answeredBy !== null || p.withdrawn) {
      const issued = /^[1-9]\d*$/.test(requestId) && Number(requestId) < this.next;
      throw new Error(
        issued
          ? `permission request ${requestId} is already resolved`
          : `unknown permission request ${JSON.stringify(requestId)}`,
      );
    }
    let outcome: Record<string, unknown> = { outcome: "cancelled" };
    if ("optionId" in answer) {
      const offered = (Array.isArray(p.request.options) ? p.request.options : []).map(
        (o) => asObject(o).optionId,
      );
      if (!offered.includes(answer.optionId)) {
        throw new Error(
          `permission request ${requestId} offers no option ${JSON.stringify(answer.optionId)} (it offers ${offered.join(", ")})`,
        );
      }
      outcome = { outcome: "selected", optionId: answer.optionId };
    }
    p.answeredBy = actor;
    this.host.respond(p.rpcId, { outcome });
  }

  /** The mux withdrew one of our copies (`$/cancel_request`). */
  withdrawn(rpcId: unknown): void {
    for (const p of this.byId.values()) if (p.rpcId === rpcId) p.withdrawn = true;
  }

  /** `_switchboard/permission_resolved`: {sessionId, toolCallId, request, outcome, by}. */
  resolved(params: Record<string, unknown>): void {
    const p = this.match(params);
    if (!p) return;
    this.byId.delete(p.requestId);
    const by = typeof params.by === "string" ? params.by : "agent";
    const actor = by === this.host.hub ? (p.answeredBy ?? this.cancelActor) : by;
    this.host.emit(
      EventKind.PERMISSION_RESOLVED,
      { requestId: p.requestId, outcome: params.outcome },
      actor,
    );
    this.host.settle(actor);
  }

  /** The agent is gone: whatever is open ends as cancelled (the mux announces nothing then). */
  abandon(): void {
    const open = [...this.byId.values()];
    this.byId.clear();
    for (const p of open) {
      const json = { requestId: p.requestId, outcome: { outcome: "cancelled" } };
      this.host.emit(EventKind.PERMISSION_RESOLVED, json, "agent");
    }
  }

  /** Our copy of the announced request: same tool call, the identical request if several. */
  private match(params: Record<string, unknown>): Open | undefined {
    const toolCallId = params.toolCallId ?? null;
    const same = [...this.byId.values()].filter(
      (p) => (asObject(p.request.toolCall).toolCallId ?? null) === toolCallId,
    );
    if (same.length <= 1) return same[0];
    const request = JSON.stringify(params.request);
    return same.find((p) => JSON.stringify(p.request) === request) ?? same[0];
  }
}
