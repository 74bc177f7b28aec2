/**
 * The offline outbox: prompts and permission answers made while the hub could not be reached,
 * kept on the device (the cache's kv, so a reload or a cold start keeps them) and sent in the
 * order they were made once the network is back: when the live socket opens, on `online`, and
 * when the app starts.
 *
 * Exactly once: each entry carries the idempotency key it was made with and is retried with
 * that same key until the hub answers; the hub drops a key it has seen (`duplicate`, which
 * counts as sent). A network failure never drops an entry; a refusal (the agent is gone, the
 * request was answered elsewhere, the role changed) drops it and leaves a visible failure.
 */
import { defineStore } from "pinia";
import { computed, onScopeDispose, ref, shallowRef } from "vue";
import { errorMessage, isNetworkError, isSignedOut } from "../api/errors.ts";
import { useServices } from "../services.ts";

const OUTBOX_KEY = "outbox";
/** Refusals shown at once; older ones scroll away (they were shown). */
const MAX_FAILURES = 20;

export type OutboxKind = "prompt" | "answer";

export interface PromptPayload {
  /** ACP content blocks as JSON, as PromptRequest.promptJson. */
  promptJson: string;
}

export interface AnswerPayload {
  requestId: string;
  /** Empty with `cancelled`: the request is withdrawn. */
  optionId: string;
  cancelled: boolean;
}

/** waiting: not sent yet (or the last try found no network); sending: a try is in flight. */
export type OutboxState = "waiting" | "sending";

/** What to send: the key, the agent, and the prompt or the answer. */
export type OutboxItem = { key: string; agentId: string } & (
  { kind: "prompt"; payload: PromptPayload } | { kind: "answer"; payload: AnswerPayload }
);

/** An item waiting in the outbox; `key` (the idempotency key) is the same on every try. */
export type OutboxEntry = OutboxItem & { createdAt: number; state: OutboxState };

/** An entry the hub refused: dropped, with the hub's reason. */
export interface OutboxFailure {
  key: string;
  agentId: string;
  kind: OutboxKind;
  /** The prompt's text, or the answer's option, to say what was lost. */
  summary: string;
  message: string;
}

/** sent: the hub took it now; duplicate: it had it already; queued: it waits in the outbox. */
export type SendResult = "sent" | "duplicate" | "queued";

export const useOutboxStore = defineStore("outbox", () => {
  const { api, cache, live } = useServices();
  const entries = ref<OutboxEntry[]>([]);
  const failures = shallowRef<OutboxFailure[]>([]);
  /** The last flush stopped on a network failure (cleared by the next success). */
  const blocked = ref(false);
  let flushing: Promise<void> | null = null;
  let again = false;
  let writes = Promise.resolve();

  // The device's outbox from before this page (a reload, a cold start); entries made in the
  // meantime come after it.
  const restored = cache
    .get<OutboxEntry[]>(OUTBOX_KEY)
    .then((saved) => {
      const known = new Set(entries.value.map((e) => e.key));
      const old = (saved ?? [])
        .filter((e) => !known.has(e.key))
        .map((e) => ({ ...e, state: "waiting" as const }));
      entries.value = [...old, ...entries.value];
    })
    // An unreadable cache only loses what waited before this page; nothing to do about it.
    .catch(() => {});

  /** Writes the list, in order with earlier writes, as plain objects (no Vue proxies). */
  function persist(): Promise<void> {
    const plain = entries.value.map((e) => structuredClone({ ...e, payload: { ...e.payload } }));
    writes = writes
      .then(() => cache.set(OUTBOX_KEY, plain))
      // A failed write keeps the entry in memory (sent this session), only not across a reload.
      .catch(() => {});
    return writes;
  }

  function waitingFor(agentId: string): OutboxEntry[] {
    return entries.value.filter((e) => e.agentId === agentId);
  }

  function failuresFor(agentId: string): OutboxFailure[] {
    return failures.value.filter((f) => f.agentId === agentId);
  }

  /** One try, with the entry's key. True when the hub said it had it already. */
  async function call(item: OutboxItem): Promise<boolean> {
    if (item.kind === "prompt") {
      const r = await api.agents.prompt({
        agentId: item.agentId,
        idempotencyKey: item.key,
        promptJson: item.payload.promptJson,
      });
      return r.duplicate;
    }
    const r = await api.agents.answerPermission({
      agentId: item.agentId,
      idempotencyKey: item.key,
      ...item.payload,
    });
    return r.duplicate;
  }

  /**
   * Sends now, or queues it when the hub cannot be reached (or this agent already has
   * something waiting: it goes after that). A refusal is thrown to the caller.
   */
  async function send(item: OutboxItem): Promise<SendResult> {
    await restored;
    if (waitingFor(item.agentId).length === 0) {
      try {
        return (await call(item)) ? "duplicate" : "sent";
      } catch (err) {
        if (!isNetworkError(err)) throw err;
      }
    }
    // A second answer to the same request replaces one not yet sent: the last choice counts.
    const replaced = (e: OutboxEntry) =>
      item.kind === "answer" &&
      e.kind === "answer" &&
      e.state === "waiting" &&
      e.agentId === item.agentId &&
      e.payload.requestId === item.payload.requestId;
    entries.value = [
      ...entries.value.filter((e) => !replaced(e)),
      { ...item, createdAt: Date.now(), state: "waiting" },
    ];
    await persist();
    void flush();
    return "queued";
  }

  /** Sends what waits, oldest first, one at a time; stops at the first network failure. */
  function flush(): Promise<void> {
    if (flushing) {
      again = true;
      return flushing;
    }
    flushing = (async () => {
      await restored;
      do {
        again = false;
        await drain();
      } while (again && !blocked.value);
    })().finally(() => (flushing = null));
    return flushing;
  }

  async function drain(): Promise<void> {
    for (;;) {
      const next = entries.value[0];
      if (!next) return void (blocked.value = false);
      next.state = "sending";
      try {
        await call(next);
      } catch (err) {
        if (isNetworkError(err) || isSignedOut(err)) {
          // Not a refusal of this entry (no network, or the session is being checked again by
          // auth.ts): it waits, with its key, for the next try.
          next.state = "waiting";
          blocked.value = true;
          return;
        }
        fail(next, err);
      }
      blocked.value = false;
      entries.value = entries.value.filter((e) => e.key !== next.key);
      await persist();
    }
  }

  function fail(entry: OutboxEntry, err: unknown): void {
    const summary =
      entry.kind === "prompt"
        ? promptText(entry.payload.promptJson)
        : entry.payload.cancelled
          ? "withdraw the request"
          : entry.payload.optionId;
    const f: OutboxFailure = {
      key: entry.key,
      agentId: entry.agentId,
      kind: entry.kind,
      summary,
      message: errorMessage(err),
    };
    failures.value = [...failures.value, f].slice(-MAX_FAILURES);
  }

  /** Discards an entry that has not been sent; false when a try is already in flight. */
  async function discard(key: string): Promise<boolean> {
    const e = entries.value.find((x) => x.key === key);
    if (!e || e.state === "sending") return false;
    entries.value = entries.value.filter((x) => x.key !== key);
    await persist();
    return true;
  }

  function dismiss(key: string): void {
    failures.value = failures.value.filter((f) => f.key !== key);
  }

  const size = computed(() => entries.value.length);

  // Triggers: the socket (re)opens, the browser says it is online, and now (the app starts).
  const offState = live.onState((s) => {
    if (s === "open") void flush();
  });
  const onOnline = () => void flush();
  if (typeof window !== "undefined") window.addEventListener("online", onOnline);
  onScopeDispose(() => {
    offState();
    if (typeof window !== "undefined") window.removeEventListener("online", onOnline);
  });
  void restored.then(() => (entries.value.length > 0 ? flush() : undefined));

  return {
    entries,
    failures,
    blocked,
    size,
    restored,
    waitingFor,
    failuresFor,
    send,
    flush,
    discard,
    dismiss,
  };
});

/** The text of a prompt's blocks, for the list ("[image]" for pictures). */
export function promptText(promptJson: string): string {
  try {
    const blocks = JSON.parse(promptJson) as { type?: string; text?: string }[];
    return blocks.map((b) => (b.type === "text" ? (b.text ?? "") : "[image]")).join(" ");
  } catch {
    // Made by this app, so always JSON; a damaged cache entry still shows something.
    return promptJson;
  }
}
