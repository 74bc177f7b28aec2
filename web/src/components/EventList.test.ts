/** The conversation: each kind of event drawn for what it is; option clicks become `answer`. */
import { expect, test } from "bun:test";
import { create } from "@bufbuild/protobuf";
import { flushPromises, mount } from "@vue/test-utils";
import { EventKind, EventSchema, type Event } from "@gen/switchboard/v1/common_pb.ts";
import { useDom } from "../testing/dom.ts";
import ConversationItem from "../conversation/ConversationItem.vue";
import { loadToolDiff } from "../conversation/tool-diff.ts";
import { loadMarkdown } from "../render/markdown-loader.ts";
import EventList from "./EventList.vue";

useDom();

let seq = 0;
const ev = (kind: EventKind, json: unknown, actor = "agent"): Event =>
  create(EventSchema, { seq: ++seq, kind, json: JSON.stringify(json), actor });

const permission = ev(EventKind.PERMISSION_REQUEST, {
  requestId: "r1",
  request: {
    toolCall: { title: "Write example.txt" },
    options: [
      { optionId: "allow", name: "Allow", kind: "allow_once" },
      { optionId: "reject", name: "Reject", kind: "reject_once" },
    ],
  },
});

test("a prompt with its actor, the agent's merged text, and a permission request to answer", async () => {
  const events = [
    ev(EventKind.PROMPT, { prompt: [{ type: "text", text: "write it" }] }, "ada"),
    ev(EventKind.SESSION_UPDATE, {
      update: { sessionUpdate: "agent_message_chunk", content: { type: "text", text: "On " } },
    }),
    ev(EventKind.SESSION_UPDATE, {
      update: { sessionUpdate: "agent_message_chunk", content: { type: "text", text: "it." } },
    }),
    permission,
  ];
  const w = mount(EventList, { props: { events, canAnswer: true } });
  expect(w.text()).toContain("ada");
  expect(w.text()).toContain("write it");
  expect(w.text()).toContain("On it.");
  expect(w.text()).toContain("Write example.txt");
  const buttons = w.findAll("button");
  expect(buttons.map((b) => b.text())).toEqual(["Allow", "Reject"]);
  await buttons[0]!.trigger("click");
  expect(w.emitted("answer")).toEqual([["r1", "allow"]]);
});

test("an answered request says who answered and offers no buttons; viewers get none either", () => {
  const resolved = ev(
    EventKind.PERMISSION_RESOLVED,
    { requestId: "r1", outcome: { outcome: "selected", optionId: "reject" } },
    "olga",
  );
  const answered = mount(EventList, { props: { events: [permission, resolved], canAnswer: true } });
  expect(answered.findAll("button")).toHaveLength(0);
  expect(answered.text()).toContain("olga chose Reject");
  const viewer = mount(EventList, { props: { events: [permission], canAnswer: false } });
  expect(viewer.findAll("button")).toHaveLength(0);
  expect(viewer.text()).toContain("Waiting for an operator");
});

test("buttons of a request whose answer is on its way are disabled", () => {
  const w = mount(EventList, {
    props: { events: [permission], canAnswer: true, pending: new Set(["r1"]) },
  });
  expect(w.findAll("button").every((b) => b.attributes("disabled") !== undefined)).toBe(true);
});

const update = (u: Record<string, unknown>, actor = "agent") =>
  ev(EventKind.SESSION_UPDATE, { sessionId: "s", update: u }, actor);

test("the permission card is a named group; its buttons are named by the options", () => {
  const w = mount(EventList, { props: { events: [permission], canAnswer: true } });
  const group = w.find('[role="group"]');
  expect(group.attributes("aria-label")).toBe("Permission: Write example.txt");
  const primary = group.findAll("button.primary").map((b) => b.text());
  expect(primary).toEqual(["Allow"]);
});

test("a withdrawn request says so, and says who cancelled one", () => {
  const withdrawn = ev(
    EventKind.PERMISSION_RESOLVED,
    { requestId: "r1", outcome: { outcome: "cancelled" } },
    "agent",
  );
  expect(
    mount(EventList, { props: { events: [permission, withdrawn], canAnswer: true } }).text(),
  ).toContain("The agent withdrew the request");
  const cancelled = ev(
    EventKind.PERMISSION_RESOLVED,
    { requestId: "r1", outcome: { outcome: "cancelled" } },
    "ada",
  );
  expect(
    mount(EventList, { props: { events: [permission, cancelled], canAnswer: true } }).text(),
  ).toContain("ada cancelled the request");
});

test("the agent's markdown is rendered, and hostile markup in it stays inert", async () => {
  // The renderer is a lazy chunk: once it is in, messages are drawn as markdown at once.
  await loadMarkdown();
  const text =
    "**bold** [x](javascript:alert(1)) <script>alert(1)</script> <img src=x onerror=alert(1)> ![t](https://evil.example/t.png)";
  const w = mount(EventList, {
    props: {
      events: [update({ sessionUpdate: "agent_message_chunk", content: { type: "text", text } })],
      canAnswer: false,
    },
  });
  expect(w.find("strong").text()).toBe("bold");
  expect(w.find("script").exists()).toBe(false);
  expect(w.find("img").exists()).toBe(false);
  expect(w.find("[onerror]").exists()).toBe(false);
  expect(w.findAll("a").map((a) => a.attributes("href"))).toEqual(["https://evil.example/t.png"]);
  expect(w.text()).toContain("<script>alert(1)</script>");
});

test("thoughts are folded; other frontends' prompts are theirs", () => {
  const w = mount(EventList, {
    props: {
      events: [
        update({
          sessionUpdate: "agent_thought_chunk",
          content: { type: "text", text: "Let me see" },
        }),
        update(
          {
            sessionUpdate: "user_message_chunk",
            content: { type: "text", text: "from the editor" },
          },
          "zed",
        ),
      ],
      canAnswer: false,
    },
  });
  const details = w.find("details.thought");
  expect(details.exists()).toBe(true);
  expect(details.attributes("open")).toBeUndefined();
  expect(details.find("summary").text()).toContain("Thinking");
  expect(w.find(".prompt.other").text()).toContain("zed");
  expect(w.find(".prompt.other").text()).toContain("from the editor");
});

test("a tool call shows its kind, status in words, where it works, its diff and output", async () => {
  const w = mount(EventList, {
    props: {
      events: [
        update({
          sessionUpdate: "tool_call",
          toolCallId: "t1",
          title: "Edit a.ts",
          kind: "edit",
          status: "in_progress",
          locations: [{ path: "/w/a.ts", line: 2 }],
        }),
        update({
          sessionUpdate: "tool_call_update",
          toolCallId: "t1",
          status: "failed",
          content: [{ type: "diff", path: "/w/a.ts", oldText: "one\ntwo\n", newText: "one\n2\n" }],
          rawOutput: { stderr: "disk full" },
        }),
        update({
          sessionUpdate: "tool_call",
          toolCallId: "t2",
          title: "Run tests",
          kind: "execute",
          status: "completed",
          rawInput: { command: "npm test" },
        }),
      ],
      canAnswer: false,
    },
  });
  // The diff view is a lazy chunk: drawn once it has arrived (and Vue has rendered again).
  await loadToolDiff();
  await flushPromises();
  const [edit, run] = w.findAll("div.tool");
  expect(edit!.find(".kind").text()).toBe("Edit");
  expect(edit!.find(".status").text()).toBe("Failed");
  expect(edit!.text()).toContain("/w/a.ts:2");
  expect(edit!.find(".diff .del .text").text()).toBe("two");
  expect(edit!.find(".diff .add .text").text()).toBe("2");
  expect(edit!.text()).toContain("disk full");
  expect(run!.find(".kind").text()).toBe("Run");
  expect(run!.find(".status").text()).toBe("Done");
  expect(run!.find(".command").text()).toBe("$ npm test");
});

test("a plan is a checklist whose states are read out", () => {
  const w = mount(EventList, {
    props: {
      events: [
        update({
          sessionUpdate: "plan",
          entries: [
            { content: "Read the code", status: "completed", priority: "high" },
            { content: "Fix it", status: "in_progress", priority: "high" },
            { content: "Test it", status: "pending", priority: "low" },
          ],
        }),
      ],
      canAnswer: false,
    },
  });
  const entries = w.findAll(".entries li").map((li) => li.find(".visually-hidden").text());
  expect(entries).toEqual(["done:", "in progress:", "to do:"]);
  expect(w.find(".entries input").exists()).toBe(false);
});

test("a new event redraws only the item it changed", async () => {
  const { reactive, nextTick } = await import("vue");
  const events = reactive<Event[]>([
    update({
      sessionUpdate: "agent_message_chunk",
      messageId: "m",
      content: { type: "text", text: "**a**" },
    }),
    update({ sessionUpdate: "tool_call", toolCallId: "t", title: "Read", kind: "read" }),
  ]);
  const w = mount(EventList, { props: { events, canAnswer: false } });
  // A component that was not rendered again keeps its last render's tree.
  const trees = () => w.findAllComponents(ConversationItem).map((c) => c.vm.$.subTree);
  const before = trees();
  events.push(update({ sessionUpdate: "tool_call_update", toolCallId: "t", status: "completed" }));
  await nextTick();
  expect(w.find("div.tool .status").text()).toBe("Done");
  const after = trees();
  expect(after[0]).toBe(before[0]!);
  expect(after[1]).not.toBe(before[1]!);
});

test("a tool's long text output is folded; short text and inline images are shown", () => {
  const long = Array.from({ length: 40 }, (_, i) => `line ${i}`).join("\n");
  const w = mount(EventList, {
    props: {
      events: [
        update({
          sessionUpdate: "tool_call",
          toolCallId: "t",
          title: "Read log",
          kind: "read",
          content: [
            { type: "content", content: { type: "text", text: "short note" } },
            { type: "content", content: { type: "text", text: long } },
            {
              type: "content",
              content: { type: "image", mimeType: "image/png", data: "iVBORw0KGgo=" },
            },
          ],
        }),
      ],
      canAnswer: false,
    },
  });
  const fold = w.find(".tool-content details");
  expect(fold.attributes("open")).toBeUndefined();
  expect(fold.find("summary").text()).toBe("Output (40 lines)");
  expect(w.find(".tool-content").text()).toContain("short note");
  expect(w.find(".tool-content img").attributes("src")).toBe("data:image/png;base64,iVBORw0KGgo=");
});

test("a tool's folded input is drawn only once opened, so it loads no highlighter before", async () => {
  const w = mount(EventList, {
    props: {
      events: [
        update({
          sessionUpdate: "tool_call",
          toolCallId: "t",
          title: "Fetch",
          kind: "fetch",
          rawInput: { url: "https://example.com" },
        }),
      ],
      canAnswer: false,
    },
  });
  const input = w.find(".tool details.fold");
  expect(input.find("summary").text()).toBe("Input");
  expect(input.find(".code").exists()).toBe(false);
  (input.element as HTMLDetailsElement).open = true;
  await input.trigger("toggle");
  expect(input.find(".code").text()).toContain('"url": "https://example.com"');
});
