/** The service worker's pure parts: the hub's payload → a notification, an action → the call. */
import { expect, test } from "bun:test";
import {
  ANSWER_PATH,
  answerRequest,
  approveOption,
  denyOption,
  notificationFor,
  parsePayload,
  type NotificationData,
} from "./notify.ts";

/** What src/hub/push.ts sends for a permission request. */
const permission = (canAnswer: boolean, options = defaultOptions) => ({
  type: "permission",
  title: "coder asks permission",
  body: "Write example.txt",
  tag: "perm:s1/r7",
  data: {
    workspaceId: "w1",
    agentId: "a1",
    streamId: "s1",
    seq: 12,
    canAnswer,
    requestId: "r7",
    options,
  },
});
const defaultOptions = [
  { optionId: "always", name: "Always allow", kind: "allow_always" },
  { optionId: "once", name: "Allow", kind: "allow_once" },
  { optionId: "no-always", name: "Never", kind: "reject_always" },
  { optionId: "no", name: "Reject", kind: "reject_once" },
];

test("a permission request for an operator shows Approve and Deny and stays until answered", () => {
  const p = parsePayload(permission(true))!;
  const n = notificationFor(p, "/i.png", "/b.png");
  expect(n.title).toBe("coder asks permission");
  expect(n.options.body).toBe("Write example.txt");
  expect(n.options.tag).toBe("perm:s1/r7");
  expect(n.options.requireInteraction).toBe(true);
  expect(n.options.actions).toEqual([
    { action: "approve", title: "Approve" },
    { action: "deny", title: "Deny" },
  ]);
  expect(n.options.data).toEqual({
    type: "permission",
    agentId: "a1",
    workspaceId: "w1",
    requestId: "r7",
    approve: "once",
    deny: "no",
    url: "/w/w1/a/a1",
  } satisfies NotificationData);
});

test("a viewer's permission notification has no actions; a finished turn neither", () => {
  const viewer = notificationFor(parsePayload(permission(false))!, "/i.png", "/b.png");
  expect(viewer.options.actions).toBeUndefined();
  expect((viewer.options.data as NotificationData).approve).toBeNull();
  const finished = parsePayload({
    type: "turn_finished",
    title: "coder finished",
    body: "Done: your turn",
    tag: "turn:s1",
    data: { workspaceId: "w 1", agentId: "a/1", streamId: "s1", seq: 3, canAnswer: true },
  })!;
  const n = notificationFor(finished, "/i.png", "/b.png");
  expect(n.options.actions).toBeUndefined();
  expect(n.options.requireInteraction).toBe(false);
  expect((n.options.data as NotificationData).url).toBe("/w/w%201/a/a%2F1");
});

test("Approve prefers allow_once, Deny reject_once; the _always ones when alone; none without", () => {
  expect(approveOption(defaultOptions)?.optionId).toBe("once");
  expect(denyOption(defaultOptions)?.optionId).toBe("no");
  const always = [defaultOptions[0]!, defaultOptions[2]!];
  expect(approveOption(always)?.optionId).toBe("always");
  expect(denyOption(always)?.optionId).toBe("no-always");
  // Only an allow: Approve alone.
  const n = notificationFor(parsePayload(permission(true, [defaultOptions[1]!]))!, "", "");
  expect(n.options.actions?.map((a) => a.action)).toEqual(["approve"]);
});

test("an action becomes the same-origin JSON AnswerPermission call the hub documents", () => {
  const data = notificationFor(parsePayload(permission(true))!, "", "").options
    .data as NotificationData;
  const approve = answerRequest(data, "approve", "key-1")!;
  expect(approve.url).toBe(ANSWER_PATH);
  expect(approve.url).toBe("/api/switchboard.v1.AgentService/AnswerPermission");
  expect(approve.init.method).toBe("POST");
  expect(approve.init.credentials).toBe("same-origin");
  expect(approve.init.headers).toEqual({ "Content-Type": "application/json" });
  expect(JSON.parse(approve.init.body as string)).toEqual({
    agentId: "a1",
    requestId: "r7",
    optionId: "once",
    idempotencyKey: "key-1",
  });
  const deny = answerRequest(data, "deny", "key-2")!;
  expect(JSON.parse(deny.init.body as string).optionId).toBe("no");
  // A plain click, or an action the notification does not have, calls nothing.
  expect(answerRequest(data, "", "k")).toBeNull();
  expect(answerRequest({ ...data, deny: null }, "deny", "k")).toBeNull();
});

test("what is not the hub's payload is refused", () => {
  expect(parsePayload(null)).toBeNull();
  expect(parsePayload("hello")).toBeNull();
  expect(parsePayload({ title: "x", tag: "t" })).toBeNull();
  expect(parsePayload({ title: "x", tag: "t", data: { agentId: 1, workspaceId: "w" } })).toBeNull();
});
