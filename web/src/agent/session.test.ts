/** The session facts a stream's events give the composer and the header. */
import { expect, test } from "bun:test";
import { create } from "@bufbuild/protobuf";
import { EventKind, EventSchema, type Event } from "@gen/switchboard/v1/common_pb.ts";
import { EMPTY_SESSION, SessionTracker, sessionOf } from "./session.ts";

let seq = 0;
const ev = (kind: EventKind, json: unknown): Event =>
  create(EventSchema, {
    seq: ++seq,
    kind,
    json: typeof json === "string" ? json : JSON.stringify(json),
    actor: "agent",
  });
const update = (u: Record<string, unknown>) =>
  ev(EventKind.SESSION_UPDATE, { sessionId: "s1", update: u });

const info = (extra: Record<string, unknown> = {}) =>
  ev(EventKind.SESSION_INFO, {
    sessionId: "s1",
    modes: {
      currentModeId: "ask",
      availableModes: [
        { id: "ask", name: "Ask" },
        { id: "code", name: "Code", description: "Edits freely" },
      ],
    },
    models: { currentModelId: "m1", availableModels: [{ modelId: "m1", name: "Model one" }] },
    configOptions: [
      {
        id: "model",
        name: "Model",
        category: "model",
        type: "select",
        currentValue: "fast",
        options: [
          { value: "fast", name: "Fast" },
          { value: "smart", name: "Smart" },
        ],
      },
      {
        id: "effort",
        name: "Effort",
        type: "select",
        currentValue: "low",
        options: [{ group: "g", name: "Levels", options: [{ value: "low", name: "Low" }] }],
      },
      { id: "web", name: "Web search", type: "boolean", currentValue: true },
      { id: "odd", name: "Unknown kind", type: "slider" },
    ],
    agentCapabilities: { promptCapabilities: { image: true } },
    ...extra,
  });

test("no events: nothing known, no images", () => {
  expect(sessionOf([])).toEqual(EMPTY_SESSION);
});

test("SESSION_INFO gives modes, models, config options (groups flattened) and image support", () => {
  const s = sessionOf([info()]);
  expect(s.sessionId).toBe("s1");
  expect(s.modes).toEqual({
    current: "ask",
    available: [
      { id: "ask", name: "Ask", description: "" },
      { id: "code", name: "Code", description: "Edits freely" },
    ],
  });
  expect(s.models).toEqual({
    current: "m1",
    available: [{ id: "m1", name: "Model one", description: "" }],
  });
  expect(s.configOptions.map((o) => [o.type, o.id, o.current])).toEqual([
    ["select", "model", "fast"],
    ["select", "effort", "low"],
    ["boolean", "web", true],
  ]);
  const effort = s.configOptions[1]!;
  expect(effort.type === "select" && effort.options).toEqual([
    { value: "low", name: "Low", description: "", group: "Levels" },
  ]);
  expect(s.acceptsImages).toBe(true);
});

test("updates: commands, the current mode, new config options, usage with cost", () => {
  const s = sessionOf([
    info(),
    update({
      sessionUpdate: "available_commands_update",
      availableCommands: [
        { name: "review", description: "Review the diff" },
        { name: "test", description: "Run tests", input: { hint: "which tests" } },
        { description: "no name, skipped" },
      ],
    }),
    update({ sessionUpdate: "current_mode_update", currentModeId: "code" }),
    update({
      sessionUpdate: "config_option_update",
      configOptions: [
        {
          id: "model",
          name: "Model",
          type: "select",
          currentValue: "smart",
          options: [{ value: "smart", name: "Smart" }],
        },
      ],
    }),
    update({ sessionUpdate: "usage_update", used: 1200, size: 200000 }),
    update({
      sessionUpdate: "usage_update",
      used: 3400,
      size: 200000,
      cost: { amount: 0.034, currency: "USD" },
    }),
    update({ sessionUpdate: "agent_message_chunk", content: { type: "text", text: "hi" } }),
  ]);
  expect(s.commands).toEqual([
    { name: "review", description: "Review the diff", hint: "" },
    { name: "test", description: "Run tests", hint: "which tests" },
  ]);
  expect(s.modes?.current).toBe("code");
  expect(s.configOptions).toHaveLength(1);
  expect(s.configOptions[0]!.current).toBe("smart");
  expect(s.usage).toEqual({ used: 3400, size: 200000, cost: { amount: 0.034, currency: "USD" } });
});

test("a new session starts over; a resumed one keeps commands and usage", () => {
  const before = [
    info(),
    update({ sessionUpdate: "available_commands_update", availableCommands: [{ name: "a" }] }),
    update({ sessionUpdate: "usage_update", used: 1, size: 10 }),
  ];
  const fresh = sessionOf([...before, info({ agentCapabilities: {} })]);
  expect(fresh.commands).toEqual([]);
  expect(fresh.usage).toBeNull();
  expect(fresh.acceptsImages).toBe(false);
  const resumed = sessionOf([...before, info({ resumed: true })]);
  expect(resumed.commands.map((c) => c.name)).toEqual(["a"]);
  expect(resumed.usage?.used).toBe(1);
});

test("malformed payloads are skipped", () => {
  const s = sessionOf([
    info(),
    ev(EventKind.SESSION_UPDATE, "{not json usage_update"),
    update({ sessionUpdate: "usage_update", used: "many", size: 10 }),
    update({ sessionUpdate: "available_commands_update", availableCommands: "none" }),
    ev(EventKind.SESSION_INFO, "[]"),
  ]);
  expect(s.usage).toBeNull();
  expect(s.commands).toEqual([]);
  // The last SESSION_INFO held nothing: a session with no facts.
  expect(s.modes).toBeNull();
});

test("the tracker reads only new events, and starts over on a list that does not continue", () => {
  const t = new SessionTracker();
  const events = [info()];
  const first = t.update(events);
  expect(t.update(events)).toBe(first);
  events.push(update({ sessionUpdate: "current_mode_update", currentModeId: "code" }));
  expect(t.update(events).modes?.current).toBe("code");
  // A reset: the same list, emptied and refilled from another first event.
  events.splice(0, events.length, update({ sessionUpdate: "usage_update", used: 5, size: 9 }));
  const s = t.update(events);
  expect(s.modes).toBeNull();
  expect(s.usage?.used).toBe(5);
  // Another stream whose seqs happen to match: still read from its start.
  const other = [update({ sessionUpdate: "available_commands_update", availableCommands: [] })];
  other[0]!.seq = events[0]!.seq;
  expect(t.update(other).usage).toBeNull();
  expect(t.update([])).toEqual(EMPTY_SESSION);
});
