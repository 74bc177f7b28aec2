/**
 * A stream's events as a conversation a person reads: text chunks merged per message, prompts
 * with who sent them, tool calls updated in place, permission requests with how they ended.
 * Pure, so renderers can be swapped without touching it (and tested without a DOM). Payload
 * shapes are ACP's (see common.proto's EventKind); anything unknown becomes an `other` item
 * rather than an error.
 */
import { EventKind, type Event } from "@gen/switchboard/v1/common_pb.ts";

export interface PermissionOption {
  optionId: string;
  name: string;
  /** allow_once, allow_always, reject_once, reject_always */
  kind: string;
}

export type Item =
  | { kind: "prompt"; key: string; seq: number; actor: string; text: string; timeMs: number }
  | {
      kind: "message";
      key: string;
      seq: number;
      /** agent: the agent's answer; thought: its reasoning; user: a prompt from another frontend */
      role: "agent" | "thought" | "user";
      actor: string;
      text: string;
    }
  | {
      kind: "tool";
      key: string;
      seq: number;
      toolCallId: string;
      title: string;
      status: string;
      toolKind: string;
    }
  | {
      kind: "permission";
      key: string;
      seq: number;
      requestId: string;
      title: string;
      options: PermissionOption[];
      resolved: { actor: string; optionId: string | null; label: string } | null;
    }
  | { kind: "plan"; key: string; seq: number; entries: { content: string; status: string }[] }
  | { kind: "turn"; key: string; seq: number; actor: string; stopReason: string; error: string }
  | { kind: "status"; key: string; seq: number; status: string; message: string; stderr: string[] }
  | { kind: "other"; key: string; seq: number; label: string };

type Json = Record<string, unknown>;

/** Updates that describe the session rather than tell its story (pickers and meters use them). */
const QUIET_UPDATES = new Set([
  "available_commands_update",
  "usage_update",
  "config_option_update",
  "session_info_update",
]);

const obj = (v: unknown): Json => (v && typeof v === "object" ? (v as Json) : {});
const str = (v: unknown): string => (typeof v === "string" ? v : "");

function parse(json: string): Json {
  try {
    return obj(JSON.parse(json));
  } catch {
    return {};
  }
}

/** The readable text of one ACP content block (non-text blocks get a short stand-in). */
export function blockText(block: unknown): string {
  const b = obj(block);
  switch (b.type) {
    case "text":
      return str(b.text);
    case "image":
      return "[image]";
    case "audio":
      return "[audio]";
    case "resource_link":
      return `[${str(b.name) || str(b.uri)}]`;
    case "resource":
      return str(obj(b.resource).text) || `[${str(obj(b.resource).uri)}]`;
    default:
      return "";
  }
}

const CHUNK_ROLE: Record<string, "agent" | "thought" | "user"> = {
  agent_message_chunk: "agent",
  agent_thought_chunk: "thought",
  user_message_chunk: "user",
};

export function buildConversation(events: readonly Event[]): Item[] {
  const items: Item[] = [];
  const tools = new Map<string, Extract<Item, { kind: "tool" }>>();
  const permissions = new Map<string, Extract<Item, { kind: "permission" }>>();
  /** The message chunks append to, until something else comes between. */
  let open: (Extract<Item, { kind: "message" }> & { messageId: string }) | null = null;

  for (const e of events) {
    const key = String(e.seq);
    const p = parse(e.json);
    if (e.kind !== EventKind.SESSION_UPDATE) open = null;
    switch (e.kind) {
      case EventKind.PROMPT: {
        const blocks = Array.isArray(p.prompt) ? p.prompt : [];
        const text = blocks.map(blockText).join("");
        items.push({ kind: "prompt", key, seq: e.seq, actor: e.actor, text, timeMs: e.timeMs });
        break;
      }
      case EventKind.SESSION_UPDATE: {
        const u = obj(p.update);
        const type = str(u.sessionUpdate);
        const role = CHUNK_ROLE[type];
        if (role) {
          const messageId = str(u.messageId);
          const text = blockText(u.content);
          if (
            open &&
            open.role === role &&
            open.actor === e.actor &&
            open.messageId === messageId
          ) {
            open.text += text;
          } else {
            open = { kind: "message", key, seq: e.seq, role, actor: e.actor, text, messageId };
            items.push(open);
          }
          break;
        }
        if (QUIET_UPDATES.has(type)) break;
        open = null;
        if (type === "tool_call" || type === "tool_call_update") {
          const id = str(u.toolCallId);
          let t = tools.get(id);
          if (!t) {
            t = {
              kind: "tool",
              key,
              seq: e.seq,
              toolCallId: id,
              title: "",
              status: "",
              toolKind: "",
            };
            tools.set(id, t);
            items.push(t);
          }
          if (typeof u.title === "string") t.title = u.title;
          if (typeof u.status === "string") t.status = u.status;
          if (typeof u.kind === "string") t.toolKind = u.kind;
          break;
        }
        if (type === "plan") {
          const entries = (Array.isArray(u.entries) ? u.entries : []).map((x) => ({
            content: str(obj(x).content),
            status: str(obj(x).status),
          }));
          items.push({ kind: "plan", key, seq: e.seq, entries });
          break;
        }
        const label =
          type === "current_mode_update"
            ? `mode: ${str(u.currentModeId)}`
            : type.replaceAll("_", " ") || "update";
        items.push({ kind: "other", key, seq: e.seq, label });
        break;
      }
      case EventKind.PERMISSION_REQUEST: {
        const req = obj(p.request);
        const requestId = str(p.requestId);
        const options = (Array.isArray(req.options) ? req.options : []).map((o) => ({
          optionId: str(obj(o).optionId),
          name: str(obj(o).name),
          kind: str(obj(o).kind),
        }));
        const title = str(obj(req.toolCall).title) || "The agent asks for permission";
        const item: Extract<Item, { kind: "permission" }> = {
          kind: "permission",
          key,
          seq: e.seq,
          requestId,
          title,
          options,
          resolved: null,
        };
        permissions.set(requestId, item);
        items.push(item);
        break;
      }
      case EventKind.PERMISSION_RESOLVED: {
        const item = permissions.get(str(p.requestId));
        const outcome = obj(p.outcome);
        const optionId = outcome.outcome === "selected" ? str(outcome.optionId) : null;
        const label =
          optionId === null
            ? "cancelled"
            : (item?.options.find((o) => o.optionId === optionId)?.name ?? optionId);
        if (item) item.resolved = { actor: e.actor, optionId, label };
        break;
      }
      case EventKind.TURN_FINISHED:
        items.push({
          kind: "turn",
          key,
          seq: e.seq,
          actor: e.actor,
          stopReason: str(p.stopReason),
          error: str(p.error),
        });
        break;
      case EventKind.AGENT_STATUS: {
        const status = str(p.status);
        // Working, waiting and idle show in the header's badge; endings belong in the story.
        if (status === "failed" || status === "stopped") {
          const stderr = (Array.isArray(p.stderr) ? p.stderr : []).map(str);
          items.push({ kind: "status", key, seq: e.seq, status, message: str(p.message), stderr });
        }
        break;
      }
      // Session info, frontends and terminal bytes are not part of the conversation.
    }
  }
  return items;
}

/** The permission requests still waiting for an answer. */
export function openPermissions(items: readonly Item[]): Extract<Item, { kind: "permission" }>[] {
  return items.filter(
    (i): i is Extract<Item, { kind: "permission" }> => i.kind === "permission" && !i.resolved,
  );
}
