/** The conversation seam renders readable events and turns option clicks into `answer`. */
import { expect, test } from "bun:test";
import { create } from "@bufbuild/protobuf";
import { mount } from "@vue/test-utils";
import { EventKind, EventSchema, type Event } from "@gen/switchboard/v1/common_pb.ts";
import { useDom } from "../testing/dom.ts";
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
  expect(answered.text()).toContain("olga answered: Reject");
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
