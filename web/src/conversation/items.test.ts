/** Events as a readable conversation: merged chunks, actors, tool calls, permission outcomes. */
import { expect, test } from "bun:test";
import { create } from "@bufbuild/protobuf";
import { EventKind, EventSchema, type Event } from "@gen/switchboard/v1/common_pb.ts";
import { blockText, buildConversation, Conversation, openPermissions } from "./items.ts";

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

test("a tool call keeps what it did: content, diffs, terminals, locations, input, output", () => {
  const items = buildConversation([
    update({
      sessionUpdate: "tool_call",
      toolCallId: "t1",
      title: "Edit src/a.ts",
      kind: "edit",
      status: "pending",
      locations: [{ path: "/w/src/a.ts", line: 3 }, { path: "/w/b.ts" }],
      rawInput: { file_path: "/w/src/a.ts" },
    }),
    update({
      sessionUpdate: "tool_call_update",
      toolCallId: "t1",
      status: "completed",
      content: [
        { type: "diff", path: "/w/src/a.ts", oldText: "a\n", newText: "b\n" },
        { type: "diff", path: "/w/new.ts", newText: "n\n" },
        { type: "content", content: { type: "text", text: "done" } },
        { type: "terminal", terminalId: "term-1" },
      ],
      rawOutput: { stdout: "ok", exitCode: 0 },
    }),
    update({
      sessionUpdate: "tool_call",
      toolCallId: "t2",
      title: "ls",
      kind: "execute",
      rawInput: { command: ["ls", "-la"] },
      rawOutput: "total 0",
    }),
  ]);
  expect(items).toHaveLength(2);
  expect(items[0]).toMatchObject({
    kind: "tool",
    status: "completed",
    locations: [
      { path: "/w/src/a.ts", line: 3 },
      { path: "/w/b.ts", line: null },
    ],
    content: [
      { type: "diff", path: "/w/src/a.ts", oldText: "a\n", newText: "b\n" },
      { type: "diff", path: "/w/new.ts", oldText: null, newText: "n\n" },
      { type: "content", text: "done", images: [] },
      { type: "terminal", terminalId: "term-1" },
    ],
    output: "ok",
  });
  expect((items[0] as { input: string }).input).toContain('"file_path": "/w/src/a.ts"');
  expect(items[1]).toMatchObject({ toolKind: "execute", input: "$ ls -la", output: "total 0" });
});

test("an update's content replaces the call's; fields it leaves out stay", () => {
  const items = buildConversation([
    update({
      sessionUpdate: "tool_call",
      toolCallId: "t1",
      title: "Run",
      content: [{ type: "content", content: { type: "text", text: "first" } }],
    }),
    update({ sessionUpdate: "tool_call_update", toolCallId: "t1", status: "in_progress" }),
    update({
      sessionUpdate: "tool_call_update",
      toolCallId: "t1",
      content: [{ type: "content", content: { type: "text", text: "second" } }],
    }),
  ]);
  expect(items[0]).toMatchObject({
    title: "Run",
    status: "in_progress",
    content: [{ type: "content", text: "second" }],
  });
});

test("a permission request shows what the call would do; a withdrawal is told apart", () => {
  const items = buildConversation([
    update({ sessionUpdate: "tool_call", toolCallId: "t9", title: "Write a", kind: "edit" }),
    ev(EventKind.PERMISSION_REQUEST, {
      requestId: "r9",
      request: {
        toolCall: {
          toolCallId: "t9",
          content: [{ type: "diff", path: "a", oldText: null, newText: "x" }],
        },
        options: [{ optionId: "ok", name: "Allow once", kind: "allow_once" }],
      },
    }),
    ev(
      EventKind.PERMISSION_RESOLVED,
      { requestId: "r9", outcome: { outcome: "selected", optionId: "ok" } },
      "zed",
    ),
  ]);
  expect(items[1]).toMatchObject({
    kind: "permission",
    title: "Write a",
    toolKind: "edit",
    content: [{ type: "diff", path: "a", newText: "x" }],
    resolved: { actor: "zed", optionId: "ok", label: "Allow once", optionKind: "allow_once" },
  });
});

test("a prompt's inline images are kept as pictures; other sources are not", () => {
  const items = buildConversation([
    ev(
      EventKind.PROMPT,
      {
        prompt: [
          { type: "text", text: "look" },
          { type: "image", mimeType: "image/png", data: "iVBORw0KGgo=" },
          { type: "image", mimeType: "image/svg+xml", data: "PHN2Zz4=" },
          { type: "image", mimeType: "image/png", data: "not base64 <script>" },
        ],
      },
      "ada",
    ),
  ]);
  expect(items[0]).toMatchObject({
    kind: "prompt",
    text: "look[image][image]",
    images: [{ src: "data:image/png;base64,iVBORw0KGgo=" }],
  });
});

test("a plan is redrawn in place within a turn; a new turn starts a new one", () => {
  const plan = (status: string) =>
    update({
      sessionUpdate: "plan",
      entries: [{ content: "Read", status, priority: "high" }],
    });
  const items = buildConversation([
    plan("pending"),
    chunk("working"),
    plan("completed"),
    ev(EventKind.TURN_FINISHED, { stopReason: "end_turn" }),
    plan("pending"),
  ]);
  expect(items.map((i) => i.kind)).toEqual(["plan", "message", "turn", "plan"]);
  expect(items[0]).toMatchObject({ entries: [{ content: "Read", status: "completed" }] });
});

test("session meters stay out of the story; unknown updates are kept readable", () => {
  const items = buildConversation([
    update({ sessionUpdate: "available_commands_update", availableCommands: [] }),
    update({ sessionUpdate: "config_option_update", configOptions: [] }),
    update({ sessionUpdate: "session_info_update", title: "x" }),
    update({ sessionUpdate: "usage_update", used: 1 }),
    update({ sessionUpdate: "current_mode_update", currentModeId: "plan" }),
    update({ sessionUpdate: "something_new_later", x: 1 }),
  ]);
  expect(items.map((i) => (i.kind === "other" ? i.label : i.kind))).toEqual([
    "mode: plan",
    "something new later",
  ]);
});

test("built incrementally: only the items new events change get new objects", () => {
  const conversation = new Conversation();
  const events: Event[] = [
    ev(EventKind.PROMPT, { prompt: [{ type: "text", text: "go" }] }, "ada"),
    update({ sessionUpdate: "tool_call", toolCallId: "t1", title: "Read", status: "pending" }),
    chunk("Hel", "m1"),
  ];
  const first = conversation.update(events);
  expect(conversation.update(events)).toBe(first);
  events.push(chunk("lo", "m1"));
  const second = conversation.update(events);
  expect(second).not.toBe(first);
  expect(second[0]).toBe(first[0]!);
  expect(second[1]).toBe(first[1]!);
  expect(second[2]).not.toBe(first[2]!);
  expect(second[2]).toMatchObject({ text: "Hello" });
  events.push(update({ sessionUpdate: "tool_call_update", toolCallId: "t1", status: "failed" }));
  const third = conversation.update(events);
  expect(third[1]).toMatchObject({ status: "failed" });
  expect(third[2]).toBe(second[2]!);
  // Another list (a reset stream) is read from its start.
  const other = [chunk("fresh")];
  expect(conversation.update(other)).toEqual([expect.objectContaining({ text: "fresh" })]);
  expect(conversation.update(events)).toEqual(buildConversation(events));
});

test("thousands of events build quickly", () => {
  const events: Event[] = [];
  for (let i = 0; i < 5000; i++) events.push(chunk(`w${i} `, `m${Math.floor(i / 50)}`));
  const conversation = new Conversation();
  const started = performance.now();
  for (let n = 4000; n <= 5000; n++) conversation.update(events.slice(0, n));
  // 1000 arrivals: each costs its own event, not the whole list again (that takes ~3 s).
  expect(performance.now() - started).toBeLessThan(1000);
  expect(conversation.update(events)).toHaveLength(100);
});
