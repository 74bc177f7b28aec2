/**
 * The service worker's pure parts, apart so they can be tested without one: the hub's push
 * payload (src/hub/push.ts describes it) turned into a notification, and a notification's
 * Approve / Deny action turned into the AnswerPermission call the worker makes itself.
 */

export type PushType = "permission" | "permission_resolved" | "turn_finished" | "failed";

/** ACP's PermissionOptionKind. */
export type OptionKind = "allow_once" | "allow_always" | "reject_once" | "reject_always";

export interface PermissionOption {
  optionId: string;
  name: string;
  kind: OptionKind | string;
}

export interface PushPayload {
  type: PushType;
  title: string;
  body: string;
  tag: string;
  data: {
    workspaceId: string;
    agentId: string;
    streamId: string;
    seq: number;
    canAnswer: boolean;
    requestId?: string;
    options?: PermissionOption[];
  };
}

/** What a shown notification keeps in its `data`, for the click. */
export interface NotificationData {
  type: PushType;
  agentId: string;
  workspaceId: string;
  requestId: string | null;
  /** The option ids behind the actions. */
  approve: string | null;
  deny: string | null;
  /** The app's page for the agent, a path on this origin. */
  url: string;
}

export const APPROVE = "approve";
export const DENY = "deny";

/** The Connect endpoint the actions call (JSON, same origin, the session cookie sent along). */
export const ANSWER_PATH = "/api/switchboard.v1.AgentService/AnswerPermission";

/** The app's page for an agent: the router's /w/:workspaceId/a/:agentId. */
export function agentPath(workspaceId: string, agentId: string): string {
  return `/w/${encodeURIComponent(workspaceId)}/a/${encodeURIComponent(agentId)}`;
}

/** The payload, checked: null when it is not one of the hub's (nothing is shown for it). */
export function parsePayload(raw: unknown): PushPayload | null {
  if (typeof raw !== "object" || raw === null) return null;
  const p = raw as Partial<PushPayload>;
  const d = p.data;
  if (typeof p.title !== "string" || typeof p.tag !== "string" || !d) return null;
  if (typeof d.agentId !== "string" || typeof d.workspaceId !== "string") return null;
  return {
    type: p.type ?? "turn_finished",
    title: p.title,
    body: typeof p.body === "string" ? p.body : "",
    tag: p.tag,
    data: { ...d, canAnswer: d.canAnswer === true, options: d.options ?? [] },
  };
}

/** The option Approve chooses: the first allow_once, else the first allow_*. */
export function approveOption(options: readonly PermissionOption[]): PermissionOption | null {
  return (
    options.find((o) => o.kind === "allow_once") ??
    options.find((o) => o.kind.startsWith("allow")) ??
    null
  );
}

/** The option Deny chooses: the first reject_once, else the first reject_*. */
export function denyOption(options: readonly PermissionOption[]): PermissionOption | null {
  return (
    options.find((o) => o.kind === "reject_once") ??
    options.find((o) => o.kind.startsWith("reject")) ??
    null
  );
}

export interface ShownNotification {
  title: string;
  options: NotificationOptions & {
    actions?: { action: string; title: string }[];
    renotify?: boolean;
  };
}

/** The notification to show for a payload. */
export function notificationFor(p: PushPayload, icon: string, badge: string): ShownNotification {
  const opts = p.data.options ?? [];
  const asking = p.type === "permission" && p.data.canAnswer && !!p.data.requestId;
  const approve = asking ? approveOption(opts) : null;
  const deny = asking ? denyOption(opts) : null;
  const data: NotificationData = {
    type: p.type,
    agentId: p.data.agentId,
    workspaceId: p.data.workspaceId,
    requestId: p.data.requestId ?? null,
    approve: approve?.optionId ?? null,
    deny: deny?.optionId ?? null,
    url: agentPath(p.data.workspaceId, p.data.agentId),
  };
  const actions = [
    ...(approve ? [{ action: APPROVE, title: "Approve" }] : []),
    ...(deny ? [{ action: DENY, title: "Deny" }] : []),
  ];
  return {
    title: p.title,
    options: {
      body: p.body,
      tag: p.tag,
      icon,
      badge,
      data,
      // A question stays until answered; a "finished" may go by itself.
      requireInteraction: p.type === "permission",
      // The same tag again (an answer replacing its request) is still worth a glance.
      renotify: p.type === "permission",
      ...(actions.length > 0 ? { actions } : {}),
    },
  };
}

/** The AnswerPermission call for a clicked action, or null when the action has no answer. */
export function answerRequest(
  data: NotificationData,
  action: string,
  idempotencyKey: string,
): { url: string; init: RequestInit } | null {
  const optionId = action === APPROVE ? data.approve : action === DENY ? data.deny : null;
  if (!optionId || !data.requestId) return null;
  return {
    url: ANSWER_PATH,
    init: {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({
        agentId: data.agentId,
        requestId: data.requestId,
        optionId,
        idempotencyKey,
      }),
    },
  };
}
