import { expect, test } from "bun:test";
import {
  close,
  cycle,
  emptyStored,
  focus,
  layoutOf,
  MAX_PANES,
  MAX_STORED_WORKSPACES,
  MIN_WIDTH,
  parseStored,
  place,
  resize,
  single,
  split,
  swap,
  withLayout,
  type Layout,
  type PaneContent,
} from "./layout.ts";

const agent = (agentId: string): PaneContent => ({ kind: "agent", agentId });
const widths = (l: Layout) => l.panes.map((p) => Math.round(p.width * 1000) / 1000);
const contents = (l: Layout) =>
  l.panes.map((p) => (p.content.kind === "agent" ? p.content.agentId : p.content.kind));

test("split halves a pane, focuses the new one, and stops at MAX_PANES", () => {
  let l = single(agent("a"));
  l = split(l, 0, agent("b"));
  expect(contents(l)).toEqual(["a", "b"]);
  expect(widths(l)).toEqual([0.5, 0.5]);
  expect(l.focus).toBe(1);
  l = split(l, 0); // a copy of "a", between a and b
  expect(contents(l)).toEqual(["a", "a", "b"]);
  expect(widths(l)).toEqual([0.25, 0.25, 0.5]);
  expect(l.focus).toBe(1);
  expect(new Set(l.panes.map((p) => p.id)).size).toBe(3);
  l = split(l, 2);
  expect(l.panes.length).toBe(MAX_PANES);
  expect(split(l, 0)).toBe(l);
  expect(split(single(agent("a")), 3)).toEqual(single(agent("a")));
});

test("close gives the width to the left neighbour and keeps focus on a pane that exists", () => {
  let l = split(split(single(agent("a")), 0, agent("b")), 1, agent("c"));
  expect(widths(l)).toEqual([0.5, 0.25, 0.25]);
  expect(l.focus).toBe(2);
  l = close(l, 2);
  expect(contents(l)).toEqual(["a", "b"]);
  expect(widths(l)).toEqual([0.5, 0.5]);
  expect(l.focus).toBe(1);
  l = close(focus(l, 1), 0); // the first pane's width goes right
  expect(contents(l)).toEqual(["b"]);
  expect(widths(l)).toEqual([1]);
  expect(l.focus).toBe(0);
  expect(close(l, 0)).toBe(l); // never the last
});

test("closing a pane left of the focused one keeps the same pane focused", () => {
  const l = focus(split(split(single(agent("a")), 0, agent("b")), 1, agent("c")), 2);
  const after = close(l, 0);
  expect(contents(after)[after.focus]).toBe("c");
});

test("resize moves a divider and keeps both sides at least MIN_WIDTH", () => {
  const l = split(single(agent("a")), 0, agent("b"));
  expect(widths(resize(l, 0, 0.1))).toEqual([0.6, 0.4]);
  expect(widths(resize(l, 0, -0.1))).toEqual([0.4, 0.6]);
  expect(widths(resize(l, 0, 5))).toEqual([1 - MIN_WIDTH, MIN_WIDTH]);
  expect(widths(resize(l, 0, -5))).toEqual([MIN_WIDTH, 1 - MIN_WIDTH]);
  expect(resize(l, 1, 0.1)).toBe(l); // no divider after the last pane
  expect(resize(l, 0, Number.NaN)).toBe(l);
  const sum = resize(l, 0, 0.123).panes.reduce((s, p) => s + p.width, 0);
  expect(sum).toBeCloseTo(1, 10);
});

test("place shows content in a pane, or in a new one at the end; swap exchanges", () => {
  let l = split(single(agent("a")), 0, agent("b"));
  l = place(focus(l, 1), 0, agent("x"));
  expect(contents(l)).toEqual(["x", "b"]);
  expect(l.focus).toBe(0);
  l = place(l, 2, { kind: "files", path: "src", file: "" });
  expect(contents(l)).toEqual(["x", "b", "files"]);
  expect(l.focus).toBe(2);
  expect(place(l, 7, agent("y"))).toBe(l);
  l = swap(l, 0, 2);
  expect(contents(l)).toEqual(["files", "b", "x"]);
  expect(l.focus).toBe(2);
  expect(swap(l, 1, 1)).toBe(l);
});

test("cycle wraps around in both directions", () => {
  const l = split(split(single(agent("a")), 0, agent("b")), 1, agent("c"));
  expect(cycle(l, 1).focus).toBe(0);
  expect(cycle(focus(l, 0), -1).focus).toBe(2);
  expect(cycle(focus(l, 0), 1).focus).toBe(1);
  expect(focus(l, 9)).toBe(l);
});

test("a stored layout round-trips through JSON", () => {
  let l = split(single(agent("a")), 0, { kind: "files", path: "src", file: "src/x.ts" });
  l = resize(place(l, 0, { kind: "terminal", agentId: "t" }), 0, 0.1);
  const s = withLayout(emptyStored(), "ws1", l);
  const back = layoutOf(parseStored(JSON.stringify(s)), "ws1")!;
  expect(back.panes.map((p) => p.content)).toEqual(l.panes.map((p) => p.content));
  expect(widths(back)).toEqual(widths(l));
  expect(back.focus).toBe(l.focus);
  expect(layoutOf(s, "other")).toBeNull();
});

test("stored JSON is validated: unknown or invalid content is dropped, the rest kept", () => {
  expect(parseStored("")).toEqual(emptyStored());
  expect(parseStored("not json")).toEqual(emptyStored());
  expect(parseStored('{"v":2,"workspaces":[]}')).toEqual(emptyStored());
  expect(parseStored('{"v":1,"workspaces":{"a":{}}}')).toEqual(emptyStored());
  const s = parseStored(
    JSON.stringify({
      v: 1,
      extra: "ignored",
      workspaces: [
        null,
        { id: "", panes: [{ c: { kind: "start" }, w: 1 }], f: 0 },
        { id: "bad", panes: [{ c: { kind: "shell" } }, { c: { kind: "agent", agentId: 5 } }] },
        {
          id: "ok",
          panes: [
            { c: { kind: "agent", agentId: "a", evil: "<script>" }, w: 3 },
            { c: { kind: "nope" }, w: 0.5 },
            { c: { kind: "files", path: "src", file: "" }, w: -1 },
            { c: { kind: "start" }, w: 0.2 },
            { c: { kind: "start" }, w: 0.2 },
            { c: { kind: "start" }, w: 0.2 },
          ],
          f: 99,
        },
      ],
    }),
  );
  expect(s.workspaces.map((w) => w.id)).toEqual(["ok"]);
  const l = layoutOf(s, "ok")!;
  // Only the first MAX_PANES entries are read; the unknown one among them is dropped.
  expect(l.panes.map((p) => p.content)).toEqual([
    { kind: "agent", agentId: "a" },
    { kind: "files", path: "src", file: "" },
    { kind: "start" },
  ]);
  // Unusable widths make equal shares; a focus out of range is the first pane.
  expect(widths(l)).toEqual([0.333, 0.333, 0.333]);
  expect(l.focus).toBe(0);
});

test("stored widths are normalised to sum to 1 with none under MIN_WIDTH", () => {
  const json = JSON.stringify({
    v: 1,
    workspaces: [
      {
        id: "w",
        panes: [
          { c: { kind: "start" }, w: 0.9 },
          { c: { kind: "start" }, w: 0.01 },
        ],
        f: 1,
      },
    ],
  });
  const l = layoutOf(parseStored(json), "w")!;
  expect(l.panes[1]!.width).toBeGreaterThanOrEqual(MIN_WIDTH - 1e-9);
  expect(l.panes.reduce((s, p) => s + p.width, 0)).toBeCloseTo(1, 10);
  expect(l.focus).toBe(1);
});

test("only the most recently used workspaces are kept", () => {
  let s = emptyStored();
  for (let i = 0; i < MAX_STORED_WORKSPACES + 5; i++)
    s = withLayout(s, `w${i}`, single(agent(`a${i}`)));
  s = withLayout(s, "w10", single(agent("again")));
  expect(s.workspaces.length).toBe(MAX_STORED_WORKSPACES);
  expect(s.workspaces.at(-1)!.id).toBe("w10");
  expect(layoutOf(s, "w0")).toBeNull();
  expect(contents(layoutOf(s, "w10")!)).toEqual(["again"]);
  expect(parseStored(JSON.stringify(s)).workspaces.length).toBe(MAX_STORED_WORKSPACES);
});
