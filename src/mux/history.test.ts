import { describe, expect, test } from "bun:test";
import { History, type SessionNotificationParams } from "./history.ts";

const SID = "s1";

function add(h: History, update: Record<string, unknown>, meta?: unknown) {
  const params = {
    sessionId: SID,
    update,
    ...(meta ? { _meta: meta } : {}),
  } as SessionNotificationParams;
  h.add(
    params,
    new TextEncoder().encode(JSON.stringify({ jsonrpc: "2.0", method: "session/update", params })),
  );
}

const chunk = (text: string, messageId?: string, extra: Record<string, unknown> = {}) => ({
  sessionUpdate: "agent_message_chunk",
  content: { type: "text", text },
  ...(messageId ? { messageId } : {}),
  ...extra,
});

function replayed(h: History) {
  return new TextDecoder()
    .decode(h.replay())
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { method: string; params: SessionNotificationParams });
}

describe("History", () => {
  test("merges consecutive text chunks of one message, and only those", () => {
    const h = new History(() => SID);
    add(h, chunk("Hel", "m1"));
    add(h, chunk("lo", "m1"));
    add(h, chunk(" again", "m2"));
    add(h, {
      sessionUpdate: "agent_thought_chunk",
      content: { type: "text", text: "hmm" },
      messageId: "m2",
    });
    const out = replayed(h);
    expect(out.map((m) => (m.params.update.content as { text: string }).text)).toEqual([
      "Hello",
      " again",
      "hmm",
    ]);
    expect(out[0]!.params.update.messageId).toBe("m1");
    expect(h.recorded).toBe(4);
  });

  test("keeps _meta, annotations and non-text blocks intact", () => {
    const h = new History(() => SID);
    add(h, chunk("a", "m1"));
    add(h, chunk("b", "m1", { _meta: { x: 1 } }));
    add(h, {
      ...chunk("c", "m1"),
      content: { type: "text", text: "c", annotations: { priority: 1 } },
    });
    add(h, {
      sessionUpdate: "agent_message_chunk",
      messageId: "m1",
      content: { type: "image", data: "AAAA", mimeType: "image/png" },
    });
    add(h, chunk("d", "m1"), { outer: true });
    const out = replayed(h);
    expect(out.length).toBe(5);
    expect(out[1]!.params.update._meta).toEqual({ x: 1 });
    expect((out[2]!.params.update.content as { annotations: unknown }).annotations).toEqual({
      priority: 1,
    });
    expect((out[3]!.params.update.content as { type: string }).type).toBe("image");
    expect(out[4]!.params._meta).toEqual({ outer: true });
  });

  test("over the bound, the oldest turns go whole into a summary that quotes their prompts", () => {
    const h = new History(() => SID, 600);
    for (let turn = 1; turn <= 5; turn++) {
      h.beginTurn();
      add(h, {
        sessionUpdate: "user_message_chunk",
        content: { type: "text", text: `prompt ${turn}` },
        messageId: `u${turn}`,
      });
      add(h, chunk(`answer ${turn} `.repeat(3), `a${turn}`));
    }
    const out = replayed(h);
    const summary = out[0]!.params.update;
    expect(summary.messageId).toBe("switchboard-history-summary");
    const text = (summary.content as { text: string }).text;
    expect(text).toContain("prompt 1");
    const kept = out.slice(1).map((m) => (m.params.update.content as { text: string }).text);
    // The last turn is always whole: its prompt and its answer.
    expect(kept.slice(-2)).toEqual(["prompt 5", "answer 5 answer 5 answer 5 "]);
    // Turns are dropped whole: every kept answer follows its own prompt.
    for (let i = 0; i < kept.length; i += 2) expect(kept[i]!.startsWith("prompt")).toBe(true);
    expect(h.bytes).toBeLessThanOrEqual(600);
  });

  test("a single turn over the bound loses whole messages from its start, never part of one", () => {
    const h = new History(() => SID, 1200);
    h.beginTurn();
    for (let m = 1; m <= 6; m++) {
      for (let c = 0; c < 3; c++) add(h, chunk(`m${m}c${c} `, `m${m}`, { _meta: { c } }));
    }
    const out = replayed(h).slice(1);
    const ids = out.map((m) => m.params.update.messageId);
    // Whatever is kept of a message is all three of its chunks.
    for (const id of new Set(ids)) expect(ids.filter((x) => x === id).length).toBe(3);
    expect(ids.at(-1)).toBe("m6");
    expect(ids).not.toContain("m1");
  });
});
