/** Events as a readable conversation: merged chunks, actors, tool calls, permission outcomes. */
import { expect, test } from "bun:test";
import { create } from "@bufbuild/protobuf";
import { EventKind, EventSchema, type Event } from "@gen/switchboard/v1/common_pb.ts";
import { blockText, buildConversation, openPermissions } from "./items.ts";

let seq = 0;
const ev = (kind: EventKind, json: unknown, actor = "agent"): Event =>
  create(EventSchema, { seq: ++seq, kind, json: JSON.stringify(json), actor });
const update = (u: Record<string, unknown>, actor = "agent") =>
  ev(EventKind.SESSION_UPDATE, { sessionId: "s", update: u }, actor);
const chunk = (text: string, messageId?: string, type = "agent_message_chunk", actor = "agent") =>
  update({ sessionUpdate: type, messageId, content: { type: "text", text } }, actor);

test("a prompt, then the agent's chunks merged into one message per messageId", () => {
  const items = buildConversation([
    ev(EventKind.PROMPT, { prompt: [{ type: "text", text: "say hi" }] }, "ada"),
    ev(EventKind.AGENT_STATUS, { status: "working" }),
    chunk("Hel", "m1"),
    chunk("lo", "m1"),
    update({ sessionUpdate: "usage_update", used: 10 }),
    chunk(" there", "m1"),
    chunk("Second", "m2"),
    ev(EventKind.TURN_FINISHED, { stopReason: "end_turn" }, "ada"),
  ]);
  expect(items.map((i) => i.kind)).toEqual(["prompt", "message", "message", "turn"]);
  expect(items[0]).toMatchObject({ actor: "ada", text: "say hi" });
  expect(items[1]).toMatchObject({ role: "agent", text: "Hello there" });
  expect(items[2]).toMatchObject({ role: "agent", text: "Second" });
  expect(items[3]).toMatchObject({ stopReason: "end_turn" });
});

test("chunks without messageIds merge until something else comes between; thoughts apart", () => {
  const items = buildConversation([
    chunk("thinking…", undefined, "agent_thought_chunk"),
    chunk("a"),
    chunk("b"),
    update({ sessionUpdate: "tool_call", toolCallId: "t1", title: "Edit x", status: "pending" }),
    chunk("c"),
  ]);
  expect(items.map((i) => (i.kind === "message" ? `${i.role}:${i.text}` : i.kind))).toEqual([
    "thought:thinking…",
    "agent:ab",
    "tool",
    "agent:c",
  ]);
});

test("a prompt from another frontend shows as theirs", () => {
  const items = buildConversation([chunk("from zed", undefined, "user_message_chunk", "zed")]);
  expect(items[0]).toMatchObject({ kind: "message", role: "user", actor: "zed", text: "from zed" });
});

test("tool calls are updated in place", () => {
  const items = buildConversation([
    update({
      sessionUpdate: "tool_call",
      toolCallId: "t1",
      title: "Edit",
      kind: "edit",
      status: "pending",
    }),
    update({ sessionUpdate: "tool_call_update", toolCallId: "t1", status: "completed" }),
  ]);
  expect(items).toHaveLength(1);
  expect(items[0]).toMatchObject({
    kind: "tool",
    title: "Edit",
    toolKind: "edit",
    status: "completed",
  });
});

test("a permission request shows its options until someone answers, then who and what", () => {
  const request = {
    requestId: "r1",
    request: {
      sessionId: "s",
      toolCall: { toolCallId: "t1", title: "Write example.txt" },
      options: [
        { optionId: "allow", name: "Allow", kind: "allow_once" },
        { optionId: "reject", name: "Reject", kind: "reject_once" },
      ],
    },
  };
  const asked = buildConversation([ev(EventKind.PERMISSION_REQUEST, request)]);
  expect(openPermissions(asked)).toHaveLength(1);
  expect(asked[0]).toMatchObject({
    kind: "permission",
    title: "Write example.txt",
    options: [{ optionId: "allow" }, { optionId: "reject" }],
    resolved: null,
  });
  const answered = buildConversation([
    ev(EventKind.PERMISSION_REQUEST, request),
    ev(
      EventKind.PERMISSION_RESOLVED,
      { requestId: "r1", outcome: { outcome: "selected", optionId: "allow" } },
      "olga",
    ),
  ]);
  expect(openPermissions(answered)).toHaveLength(0);
  expect(answered[0]).toMatchObject({
    resolved: { actor: "olga", optionId: "allow", label: "Allow" },
  });
  const cancelled = buildConversation([
    ev(EventKind.PERMISSION_REQUEST, request),
    ev(
      EventKind.PERMISSION_RESOLVED,
      { requestId: "r1", outcome: { outcome: "cancelled" } },
      "ada",
    ),
  ]);
  expect(cancelled[0]).toMatchObject({ resolved: { optionId: null, label: "cancelled" } });
});

test("failures are told with their reason; broken payloads do not break the list", () => {
  const items = buildConversation([
    ev(EventKind.AGENT_STATUS, { status: "failed", message: "exited with 3", stderr: ["boom"] }),
    create(EventSchema, { seq: ++seq, kind: EventKind.SESSION_UPDATE, json: "{not json" }),
    ev(EventKind.TURN_FINISHED, { error: "agent crashed" }),
  ]);
  expect(items[0]).toMatchObject({
    kind: "status",
    status: "failed",
    message: "exited with 3",
    stderr: ["boom"],
  });
  expect(items[1]).toMatchObject({ kind: "other" });
  expect(items[2]).toMatchObject({ kind: "turn", error: "agent crashed" });
});

test("non-text content gets a short stand-in", () => {
  expect(blockText({ type: "image", data: "…" })).toBe("[image]");
  expect(blockText({ type: "resource_link", name: "a.txt", uri: "file:///a.txt" })).toBe("[a.txt]");
  expect(blockText({ type: "resource", resource: { uri: "file:///b", text: "body" } })).toBe(
    "body",
  );
  expect(blockText(null)).toBe("");
});
