/**
 * The session's history: every `session/update` in the order frontends saw it, replayed to a
 * frontend that joins late.
 *
 * Lossless: an entry is the agent's own line, byte for byte, unless it was merged. Only
 * consecutive text chunks of one message (same kind, same messageId, no `_meta` or annotations
 * on either) merge, which keeps replay short for a long streamed answer.
 *
 * Compact: lines are kept as bytes, back to back in large blocks, not as one string or object
 * each, so 100,000 updates cost their own size and replay is a copy of a few ranges.
 *
 * Bounded: past `maxBytes` the oldest turns (a turn starts at a prompt) are dropped whole and
 * counted in one summary entry at the head, an `agent_message_chunk` that any client can show.
 * A single turn larger than the bound loses whole messages from its start, never part of one.
 */
import { Arena } from "./arena.ts";

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

/** The newest entry while a following chunk may still merge into it. */
interface Open {
  params: SessionNotificationParams;
  key: string;
  turn: number;
  /** Whether a chunk merged into it, making the stored line stale. */
  merged: boolean;
}

const CHUNK_KINDS = new Set(["agent_message_chunk", "agent_thought_chunk", "user_message_chunk"]);
const encoder = new TextEncoder();
const decoder = new TextDecoder();

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

/** Groups the chunks of one message; null for anything that is not a chunk. */
function messageKey(params: SessionNotificationParams | undefined): string | null {
  const u = params?.update;
  if (!u || !CHUNK_KINDS.has(u.sessionUpdate)) return null;
  return `${u.sessionUpdate}\u0000${typeof u.messageId === "string" ? u.messageId : ""}`;
}

function serialize(params: SessionNotificationParams): Uint8Array {
  return encoder.encode(JSON.stringify({ jsonrpc: "2.0", method: "session/update", params }));
}

export class History {
  private readonly arena = new Arena();
  /** Per stored entry: its turn. Entry i of the arena is turns[i - arena.head]. */
  private turns: number[] = [];
  private open: Open | null = null;
  private openBytes = 0;
  private turn = 0;
  private summary = { turns: 0, updates: 0, bytes: 0, prompts: [] as string[] };
  private summaryLine: Uint8Array | null = null;
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
    return this.arena.bytes + this.openBytes;
  }

  get length(): number {
    return this.arena.length + (this.summaryLine ? 1 : 0);
  }

  /** Marks the start of a turn: the prompt's user_message_chunks follow. */
  beginTurn(): void {
    this.turn++;
  }

  /** Records one `session/update`, given decoded and as the bytes of its line (no newline). */
  add(params: SessionNotificationParams, line: Uint8Array): void {
    this.updates++;
    const open = this.open;
    if (open && open.turn === this.turn && mergeable(params) && messageKey(params) === open.key) {
      const text = (params.update.content as Json).text as string;
      const content = open.params.update.content as Json;
      content.text = (content.text as string) + text;
      open.merged = true;
      this.openBytes += text.length;
    } else {
      this.settle();
      // Stored as it came; re-encoded only if a later chunk does merge into it.
      this.store(line);
      if (mergeable(params))
        this.open = { params, key: messageKey(params)!, turn: this.turn, merged: false };
    }
    if (this.bytes > this.maxBytes) this.evict();
  }

  /** Records an extension notification that replays as it is (resolved permissions). */
  addNotice(method: string, params: Json): void {
    this.settle();
    this.store(encoder.encode(JSON.stringify({ jsonrpc: "2.0", method, params })));
    if (this.bytes > this.maxBytes) this.evict();
  }

  /**
   * The whole history as newline-terminated lines, ready to write to a frontend. The message
   * being streamed is closed first (chunks after this point are kept separately).
   */
  replay(): Uint8Array {
    this.settle();
    const parts: Uint8Array[] = [];
    if (this.summaryLine) parts.push(this.summaryLine);
    parts.push(...this.arena.ranges());
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  }

  private store(line: Uint8Array): void {
    this.arena.push(line);
    this.turns.push(this.turn);
  }

  /** The open entry can no longer grow: if chunks merged into it, its line is rewritten. */
  private settle(): void {
    const open = this.open;
    if (!open) return;
    this.open = null;
    this.openBytes = 0;
    if (!open.merged) return;
    this.arena.pop();
    this.arena.push(serialize(open.params));
  }

  private evict(): void {
    this.settle();
    let dropped = false;
    while (this.arena.bytes > this.maxBytes && this.arena.length > 0) {
      const firstTurn = this.turns[0]!;
      const wholeTurn = firstTurn < this.turn;
      let n = 1;
      if (wholeTurn) {
        while (n < this.turns.length && this.turns[n] === firstTurn) n++;
      } else {
        const key = messageKey(this.decode(0)?.params);
        if (key !== null) {
          while (n < this.arena.length && messageKey(this.decode(n)?.params) === key) n++;
        }
      }
      // The newest message is never cut: the bound may be passed by that one message.
      if (n >= this.arena.length) break;
      for (let i = 0; i < n; i++) this.count(i);
      this.arena.drop(n);
      this.turns = this.turns.slice(n);
      if (wholeTurn) this.summary.turns++;
      dropped = true;
    }
    if (dropped) this.summaryLine = this.renderSummary();
  }

  private decode(i: number): { method?: string; params?: SessionNotificationParams } | null {
    try {
      return JSON.parse(decoder.decode(this.arena.entry(i)));
    } catch {
      return null;
    }
  }

  /** Adds entry i (about to be dropped) to the summary. */
  private count(i: number): void {
    const bytes = this.arena.entry(i).length;
    this.summary.updates++;
    this.summary.bytes += bytes;
    if (this.summary.prompts.length >= SUMMARY_PROMPTS) return;
    const update = this.decode(i)?.params?.update;
    if (update?.sessionUpdate !== "user_message_chunk") return;
    const c = update.content as Json | undefined;
    if (c?.type === "text" && typeof c.text === "string" && c.text) {
      this.summary.prompts.push(c.text.slice(0, SUMMARY_PROMPT_CHARS));
    }
  }

  private renderSummary(): Uint8Array {
    const s = this.summary;
    const quoted = s.prompts.map((p) => `- ${p.replace(/\s+/g, " ")}`).join("\n");
    const text =
      `[Switchboard kept this session's history within ${this.maxBytes} bytes: ` +
      `${s.turns} earlier turn(s), ${s.updates} update(s), ${s.bytes} bytes were summarised away.]` +
      (quoted ? `\nEarlier prompts:\n${quoted}` : "");
    const line = JSON.stringify({
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
    return encoder.encode(line + "\n");
  }
}
