/**
 * A stream's events as a conversation a person reads: text chunks merged per message, prompts
 * with who sent them, tool calls updated in place with what they did (content, diffs,
 * terminals, locations, input and output), plans, permission requests with how they ended.
 * Pure, so renderers can be swapped without touching it (and tested without a DOM). Payload
 * shapes are ACP's (see common.proto's EventKind and the SDK's schema types); anything
 * unknown becomes an `other` item rather than an error.
 *
 * `Conversation` builds incrementally: handed the same (grown) event list again, it reads only
 * the new events and replaces only the items they changed, so the other items keep their
 * identity and their renderers have nothing to redo.
 */
import { EventKind, type Event } from "@gen/switchboard/v1/common_pb.ts";

export interface PermissionOption {
  optionId: string;
  name: string;
  /** allow_once, allow_always, reject_once, reject_always */
  kind: string;
}

/** An inline image a prompt or message carried (data: URLs of raster images only). */
export interface ImageRef {
  src: string;
  alt: string;
}

/** What a tool call shows (ACP ToolCallContent). */
export type ToolContent =
  | { type: "content"; text: string; images: ImageRef[] }
  | { type: "diff"; path: string; oldText: string | null; newText: string }
  | { type: "terminal"; terminalId: string };

export interface Location {
  path: string;
  line: number | null;
}

export type ToolItem = {
  kind: "tool";
  key: string;
  seq: number;
  toolCallId: string;
  title: string;
  /** pending, in_progress, completed, failed ("" until told) */
  status: string;
  /** read, edit, delete, move, search, execute, think, fetch, switch_mode, other */
  toolKind: string;
  content: ToolContent[];
  locations: Location[];
  /** rawInput, readable ("$ cmd" for a command); "" when none */
  input: string;
  /** rawOutput, readable; "" when none */
  output: string;
};

export type PermissionItem = {
  kind: "permission";
  key: string;
  seq: number;
  requestId: string;
  title: string;
  toolKind: string;
  /** What the tool call would do (its content in the request, else the call's so far). */
  content: ToolContent[];
  options: PermissionOption[];
  resolved: {
    actor: string;
    optionId: string | null;
    label: string;
    /** The option's kind (allow_once…) when one was chosen. */
    optionKind: string;
  } | null;
};

export type Item =
  | {
      kind: "prompt";
      key: string;
      seq: number;
      actor: string;
      text: string;
      images: ImageRef[];
      timeMs: number;
    }
  | {
      kind: "message";
      key: string;
      seq: number;
      /** agent: the agent's answer; thought: its reasoning; user: a prompt from another frontend */
      role: "agent" | "thought" | "user";
      actor: string;
      text: string;
      images: ImageRef[];
    }
  | ToolItem
  | PermissionItem
  | { kind: "plan"; key: string; seq: number; entries: { content: string; status: string }[] }
  | { kind: "turn"; key: string; seq: number; actor: string; stopReason: string; error: string }
  | { kind: "status"; key: string; seq: number; status: string; message: string; stderr: string[] }
  | { kind: "other"; key: string; seq: number; label: string };

type Json = Record<string, unknown>;
type Message = Extract<Item, { kind: "message" }>;

/** Updates that describe the session rather than tell its story (pickers and meters use them). */
const QUIET_UPDATES = new Set([
  "available_commands_update",
  "usage_update",
  "config_option_update",
  "session_info_update",
]);
/** Raw input and output beyond this are cut: a tool's whole output belongs in its content. */
export const MAX_RAW_CHARS = 20_000;
const IMAGE_TYPES = /^image\/(png|jpeg|gif|webp|avif)$/;

const obj = (v: unknown): Json => (v && typeof v === "object" ? (v as Json) : {});
const str = (v: unknown): string => (typeof v === "string" ? v : "");
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

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

/** An image block as something to show, when it is inline raster data. */
export function blockImage(block: unknown): ImageRef | null {
  const b = obj(block);
  const mime = str(b.mimeType).toLowerCase();
  const data = str(b.data);
  if (b.type !== "image" || !IMAGE_TYPES.test(mime) || !/^[A-Za-z0-9+/=\s]+$/.test(data))
    return null;
  return { src: `data:${mime};base64,${data.replace(/\s/g, "")}`, alt: str(b.uri) || "image" };
}

/** Text and images of blocks; an image shown as a picture gets no "[image]" stand-in. */
function blocksOf(blocks: unknown[]): { text: string; images: ImageRef[] } {
  let text = "";
  const images: ImageRef[] = [];
  for (const b of blocks) {
    const image = blockImage(b);
    if (image) images.push(image);
    else text += blockText(b);
  }
  return { text, images };
}

const cut = (s: string) => (s.length > MAX_RAW_CHARS ? `${s.slice(0, MAX_RAW_CHARS)}\n…` : s);

function pretty(v: unknown): string {
  try {
    return JSON.stringify(v, null, 2) ?? "";
  } catch {
    return ""; // a cycle cannot come out of JSON.parse; nothing else is handed in
  }
}

/** A tool's rawInput, readable: the command of a command, else its JSON. */
export function describeInput(raw: unknown): string {
  if (raw === undefined || raw === null) return "";
  const r = obj(raw);
  const command = Array.isArray(r.command) ? r.command.map(str).join(" ") : str(r.command);
  if (command) return `$ ${command}`;
  return cut(typeof raw === "string" ? raw : pretty(raw));
}

/** A tool's rawOutput, readable: its text where it has one, else its JSON. */
export function describeOutput(raw: unknown): string {
  if (raw === undefined || raw === null) return "";
  if (typeof raw === "string") return cut(raw);
  const r = obj(raw);
  const texts = ["output", "stdout", "stderr", "content", "result", "error"]
    .map((k) => str(r[k]))
    .filter(Boolean);
  return cut(texts.length > 0 ? texts.join("\n") : pretty(raw));
}

function toolContent(v: unknown): ToolContent[] {
  const out: ToolContent[] = [];
  for (const c of list(v)) {
    const o = obj(c);
    if (o.type === "diff") {
      const oldText = typeof o.oldText === "string" ? o.oldText : null;
      out.push({ type: "diff", path: str(o.path), oldText, newText: str(o.newText) });
    } else if (o.type === "terminal") {
      out.push({ type: "terminal", terminalId: str(o.terminalId) });
    } else if (o.type === "content") {
      out.push({ type: "content", ...blocksOf([o.content]) });
    }
  }
  return out;
}

function locations(v: unknown): Location[] {
  return list(v).map((l) => ({
    path: str(obj(l).path),
    line: typeof obj(l).line === "number" ? (obj(l).line as number) : null,
  }));
}

const CHUNK_ROLE: Record<string, "agent" | "thought" | "user"> = {
  agent_message_chunk: "agent",
  agent_thought_chunk: "thought",
  user_message_chunk: "user",
};

/** A conversation built as events arrive; see the file's comment. */
export class Conversation {
  private items: Item[] = [];
  /** The list last handed out; the same one again when nothing changed. */
  private shown: Item[] = [];
  private tools = new Map<string, number>();
  private permissions = new Map<string, number>();
  /** The message chunks append to (an index in items), until something else comes between. */
  private open: { index: number; messageId: string } | null = null;
  /** This turn's plan: ACP sends the whole plan each time, so it is redrawn in place. */
  private plan: number | null = null;
  private seen = 0;
  private last: Event | undefined;
  private changed = false;

  /** The items for these events: the events after the ones already read, or all again when
   * the list is not the one read before (a different stream, or reset). */
  update(events: readonly Event[]): Item[] {
    if (events.length < this.seen || (this.seen > 0 && events[this.seen - 1] !== this.last))
      this.reset();
    for (let i = this.seen; i < events.length; i++) this.read(events[i]!);
    this.seen = events.length;
    this.last = events.at(-1);
    if (this.changed) {
      this.shown = this.items.slice();
      this.changed = false;
    }
    return this.shown;
  }

  private reset(): void {
    this.items = [];
    this.tools.clear();
    this.permissions.clear();
    this.open = null;
    this.plan = null;
    this.seen = 0;
    this.changed = true;
  }

  private push(item: Item): number {
    this.changed = true;
    return this.items.push(item) - 1;
  }

  /** Replaces an item with its changed copy, so whoever drew the old one sees a new one. */
  private replace<T extends Item>(index: number, change: (old: T) => T): void {
    this.changed = true;
    this.items[index] = change(this.items[index] as T);
  }

  private read(e: Event): void {
    const key = String(e.seq);
    const p = parse(e.json);
    if (e.kind !== EventKind.SESSION_UPDATE) this.open = null;
    if (e.kind === EventKind.PROMPT || e.kind === EventKind.TURN_FINISHED) this.plan = null;
    switch (e.kind) {
      case EventKind.PROMPT: {
        const { text, images } = blocksOf(list(p.prompt));
        this.push({
          kind: "prompt",
          key,
          seq: e.seq,
          actor: e.actor,
          text,
          images,
          timeMs: e.timeMs,
        });
        break;
      }
      case EventKind.SESSION_UPDATE:
        this.update1(e, key, obj(p.update));
        break;
      case EventKind.PERMISSION_REQUEST: {
        const req = obj(p.request);
        const requestId = str(p.requestId);
        const call = obj(req.toolCall);
        const options = list(req.options).map((o) => ({
          optionId: str(obj(o).optionId),
          name: str(obj(o).name),
          kind: str(obj(o).kind),
        }));
        const tool = this.tools.get(str(call.toolCallId));
        const known = tool === undefined ? undefined : (this.items[tool] as ToolItem);
        const content = call.content ? toolContent(call.content) : (known?.content ?? []);
        const index = this.push({
          kind: "permission",
          key,
          seq: e.seq,
          requestId,
          title: str(call.title) || known?.title || "The agent asks for permission",
          toolKind: str(call.kind) || known?.toolKind || "",
          content,
          options,
          resolved: null,
        });
        this.permissions.set(requestId, index);
        break;
      }
      case EventKind.PERMISSION_RESOLVED: {
        const index = this.permissions.get(str(p.requestId));
        if (index === undefined) break;
        const outcome = obj(p.outcome);
        const optionId = outcome.outcome === "selected" ? str(outcome.optionId) : null;
        this.replace<PermissionItem>(index, (item) => {
          const option = item.options.find((o) => o.optionId === optionId);
          const label = optionId === null ? "cancelled" : (option?.name ?? optionId);
          const resolved = { actor: e.actor, optionId, label, optionKind: option?.kind ?? "" };
          return { ...item, resolved };
        });
        break;
      }
      case EventKind.TURN_FINISHED:
        this.push({
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
          const stderr = list(p.stderr).map(str);
          this.push({ kind: "status", key, seq: e.seq, status, message: str(p.message), stderr });
        }
        break;
      }
      // Session info, frontends and terminal bytes are not part of the conversation.
    }
  }

  private update1(e: Event, key: string, u: Json): void {
    const type = str(u.sessionUpdate);
    const role = CHUNK_ROLE[type];
    if (role) {
      const messageId = str(u.messageId);
      const { text, images } = blocksOf([u.content]);
      const open = this.open;
      const m = open ? (this.items[open.index] as Message) : null;
      if (open && m && m.role === role && m.actor === e.actor && open.messageId === messageId) {
        this.replace<Message>(open.index, (old) => ({
          ...old,
          text: old.text + text,
          images: images.length ? [...old.images, ...images] : old.images,
        }));
      } else {
        const item: Message = {
          kind: "message",
          key,
          seq: e.seq,
          role,
          actor: e.actor,
          text,
          images,
        };
        this.open = { index: this.push(item), messageId };
        // Another frontend's prompt starts a turn of its own.
        if (role === "user") this.plan = null;
      }
      return;
    }
    if (QUIET_UPDATES.has(type)) return;
    this.open = null;
    if (type === "tool_call" || type === "tool_call_update") {
      const id = str(u.toolCallId);
      let index = this.tools.get(id);
      if (index === undefined) {
        index = this.push({
          kind: "tool",
          key,
          seq: e.seq,
          toolCallId: id,
          title: "",
          status: "",
          toolKind: "",
          content: [],
          locations: [],
          input: "",
          output: "",
        });
        this.tools.set(id, index);
      }
      // ACP: fields present in an update replace what was there; absent ones stay.
      this.replace<ToolItem>(index, (t) => ({
        ...t,
        title: typeof u.title === "string" ? u.title : t.title,
        status: typeof u.status === "string" ? u.status : t.status,
        toolKind: typeof u.kind === "string" ? u.kind : t.toolKind,
        content: Array.isArray(u.content) ? toolContent(u.content) : t.content,
        locations: Array.isArray(u.locations) ? locations(u.locations) : t.locations,
        input: "rawInput" in u ? describeInput(u.rawInput) : t.input,
        output: "rawOutput" in u ? describeOutput(u.rawOutput) : t.output,
      }));
      return;
    }
    if (type === "plan") {
      const entries = list(u.entries).map((x) => ({
        content: str(obj(x).content),
        status: str(obj(x).status),
      }));
      if (this.plan === null) this.plan = this.push({ kind: "plan", key, seq: e.seq, entries });
      else this.replace(this.plan, (old) => ({ ...old, entries }));
      return;
    }
    const label =
      type === "current_mode_update"
        ? `mode: ${str(u.currentModeId)}`
        : type.replaceAll("_", " ") || "update";
    this.push({ kind: "other", key, seq: e.seq, label });
  }
}

export function buildConversation(events: readonly Event[]): Item[] {
  return new Conversation().update(events);
}

/** The permission requests still waiting for an answer. */
export function openPermissions(items: readonly Item[]): PermissionItem[] {
  return items.filter((i): i is PermissionItem => i.kind === "permission" && !i.resolved);
}
