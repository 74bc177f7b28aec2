/**
 * The session's history: every `session/update` in the order frontends saw it, replayed to a
 * frontend that joins late.
 *
 * Lossless: an entry is the agent's own line unless it was merged. Only consecutive text chunks
 * of one message (same kind, same messageId, no `_meta` or annotations on either) merge, which
 * keeps replay short for a long streamed answer.
 *
 * Bounded: past `maxBytes` the oldest turns (a turn starts at a prompt) are dropped whole and
 * counted in one summary entry at the head, an `agent_message_chunk` that any client can show.
 * A single turn larger than the bound loses whole messages from its start, never part of one.
 */

export const DEFAULT_HISTORY_BYTES = 128 * 1024 * 1024;

/** How many dropped prompts the summary quotes, and how much of each. */
const SUMMARY_PROMPTS = 20;
const SUMMARY_PROMPT_CHARS = 80;

type Json = Record<string, unknown>;

export interface SessionNotificationParams {
  sessionId: string;
  update: Json & { sessionUpdate: string };
  _meta?: unknown;
}

interface Entry {
  /** The serialized `session/update` notification, without newline; null after a merge. */
  line: string | null;
  /** Kept only for entries that a following chunk may still merge into. */
  params: SessionNotificationParams | null;
  bytes: number;
  turn: number;
  /** Groups the entries of one message, so eviction never splits a message. */
  messageKey: string | null;
  /** Extension notification (method other than session/update), e.g. a resolved permission. */
  method?: string;
}

const CHUNK_KINDS = new Set(["agent_message_chunk", "agent_thought_chunk", "user_message_chunk"]);

function mergeable(params: SessionNotificationParams): boolean {
  const u = params.update;
  if (!CHUNK_KINDS.has(u.sessionUpdate) || params._meta != null || u._meta != null) return false;
  const c = u.content as Json | undefined;
  return (
    c !== undefined &&
    c.type === "text" &&
    typeof c.text === "string" &&
    c.annotations == null &&
    c._meta == null
  );
}

function messageKey(params: SessionNotificationParams): string | null {
  const u = params.update;
  if (!CHUNK_KINDS.has(u.sessionUpdate)) return null;
  return `${u.sessionUpdate}\u0000${typeof u.messageId === "string" ? u.messageId : ""}`;
}

export class History {
  private entries: Entry[] = [];
  private head = 0;
  private total = 0;
  private turn = 0;
  private summary = { turns: 0, updates: 0, bytes: 0, prompts: [] as string[] };
  private summaryLine: string | null = null;
  private updates = 0;

  constructor(
    private readonly sessionId: () => string,
    readonly maxBytes = DEFAULT_HISTORY_BYTES,
  ) {}

  /** Number of updates recorded since the start (merged ones counted one by one). */
  get recorded(): number {
    return this.updates;
  }

  get bytes(): number {
    return this.total;
  }

  get length(): number {
    return this.entries.length - this.head + (this.summaryLine ? 1 : 0);
  }

  /** Marks the start of a turn: the prompt's user_message_chunks follow. */
  beginTurn(): void {
    this.turn++;
  }

  /** Records one `session/update`, given both decoded and as the line it came in. */
  add(params: SessionNotificationParams, line: string): void {
    this.updates++;
    const last = this.entries.length > this.head ? this.entries[this.entries.length - 1]! : null;
    const key = messageKey(params);
    if (
      last?.params &&
      last.turn === this.turn &&
      key !== null &&
      last.messageKey === key &&
      mergeable(params)
    ) {
      const content = last.params.update.content as Json;
      const text = (params.update.content as Json).text as string;
      content.text = (content.text as string) + text;
      last.line = null;
      last.bytes += text.length;
      this.total += text.length;
    } else {
      if (last?.params) this.settle(last);
      const entry: Entry = {
        line,
        params: mergeable(params) ? params : null,
        bytes: line.length,
        turn: this.turn,
        messageKey: key,
      };
      this.entries.push(entry);
      this.total += entry.bytes;
    }
    if (this.total > this.maxBytes) this.evict();
  }

  /** Only the newest entry can still grow: the others keep their line, not the decoded form. */
  private settle(e: Entry): void {
    e.line ??= serialize(e.params!);
    e.params = null;
  }

  /** Records an extension notification that replays as it is (resolved permissions). */
  addNotice(method: string, params: Json): void {
    const last = this.entries.length > this.head ? this.entries[this.entries.length - 1]! : null;
    if (last?.params) this.settle(last);
    const line = JSON.stringify({ jsonrpc: "2.0", method, params });
    this.entries.push({
      line,
      params: null,
      bytes: line.length,
      turn: this.turn,
      messageKey: null,
      method,
    });
    this.total += line.length;
    if (this.total > this.maxBytes) this.evict();
  }

  /** The whole history as newline-terminated lines, ready to write to a frontend. */
  replay(): Uint8Array {
    const lines: string[] = [];
    if (this.summaryLine) lines.push(this.summaryLine);
    for (let i = this.head; i < this.entries.length; i++) {
      const e = this.entries[i]!;
      e.line ??= serialize(e.params!);
      lines.push(e.line);
    }
    if (lines.length === 0) return new Uint8Array(0);
    lines.push("");
    return Buffer.from(lines.join("\n"));
  }

  private evict(): void {
    while (this.total > this.maxBytes) {
      const first = this.entries[this.head];
      if (!first) break;
      const wholeTurn = first.turn < this.turn;
      let end = this.head + 1;
      while (
        end < this.entries.length &&
        (wholeTurn
          ? this.entries[end]!.turn === first.turn
          : this.sameMessage(this.entries[end - 1]!, this.entries[end]!))
      ) {
        end++;
      }
      // The newest message is never cut: the bound may be passed by that one message.
      if (end >= this.entries.length) break;
      for (let i = this.head; i < end; i++) this.drop(this.entries[i]!);
      if (wholeTurn) this.summary.turns++;
      this.head = end;
    }
    // Compact the array now and then so dropped entries are freed.
    if (this.head > 1024 && this.head * 2 > this.entries.length) {
      this.entries = this.entries.slice(this.head);
      this.head = 0;
    }
    if (this.summary.updates > 0) this.summaryLine = this.renderSummary();
  }

  private sameMessage(a: Entry, b: Entry): boolean {
    return a.messageKey !== null && a.messageKey === b.messageKey && a.messageKey.length > 0;
  }

  private drop(e: Entry): void {
    this.total -= e.bytes;
    this.summary.updates++;
    this.summary.bytes += e.bytes;
    if (!e.messageKey?.startsWith("user_message_chunk")) return;
    if (this.summary.prompts.length >= SUMMARY_PROMPTS) return;
    const text = e.params
      ? ((e.params.update.content as Json).text as string)
      : promptText(e.line!);
    if (text) this.summary.prompts.push(text.slice(0, SUMMARY_PROMPT_CHARS));
  }

  private renderSummary(): string {
    const s = this.summary;
    const quoted = s.prompts.map((p) => `- ${p.replace(/\s+/g, " ")}`).join("\n");
    const text =
      `[Switchboard kept this session's history within ${this.maxBytes} bytes: ` +
      `${s.turns} earlier turn(s), ${s.updates} update(s), ${s.bytes} bytes were summarised away.]` +
      (quoted ? `\nEarlier prompts:\n${quoted}` : "");
    return JSON.stringify({
      jsonrpc: "2.0",
      method: "session/update",
      params: {
        sessionId: this.sessionId(),
        update: {
          sessionUpdate: "agent_message_chunk",
          messageId: "switchboard-history-summary",
          content: { type: "text", text },
          _meta: {
            switchboard: { summary: { turns: s.turns, updates: s.updates, bytes: s.bytes } },
          },
        },
      },
    });
  }
}

function serialize(params: SessionNotificationParams): string {
  return JSON.stringify({ jsonrpc: "2.0", method: "session/update", params });
}

function promptText(line: string): string {
  try {
    const m = JSON.parse(line) as { params?: SessionNotificationParams };
    const c = m.params?.update.content as Json | undefined;
    return c?.type === "text" && typeof c.text === "string" ? c.text : "";
  } catch {
    return "";
  }
}
