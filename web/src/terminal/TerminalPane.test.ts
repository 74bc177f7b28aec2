/**
 * The terminal pane's wiring, with xterm replaced by a fake screen (xterm needs a real
 * layout engine): the stream's events reach the screen once each, keys and the key bar reach
 * the live socket as bytes, the pane's size is asked for once it settles, viewers only watch.
 */
import { afterAll, beforeAll, expect, mock, test } from "bun:test";
import { create } from "@bufbuild/protobuf";
import { flushPromises, mount } from "@vue/test-utils";
import { AgentSchema } from "@gen/switchboard/v1/agent_pb.ts";
import { AgentKind, EventKind, EventSchema } from "@gen/switchboard/v1/common_pb.ts";
import { SERVICES } from "../services.ts";
import { testApp } from "../testing/app.ts";
import { useDom } from "../testing/dom.ts";
import TerminalPane from "./TerminalPane.vue";

useDom();

const enc = new TextEncoder();
const dec = new TextDecoder();

class FakeTerm {
  cols = 80;
  rows = 24;
  log: string[] = [];
  options: { disableStdin: boolean };
  modes = { applicationCursorKeysMode: false };
  textarea = null;
  private data: ((d: string) => void)[] = [];
  constructor(readOnly: boolean) {
    this.options = { disableStdin: readOnly };
  }
  write(d: Uint8Array | string) {
    this.log.push(typeof d === "string" ? d : dec.decode(d));
  }
  reset() {
    this.log.push("<reset>");
  }
  resize(cols: number, rows: number) {
    this.cols = cols;
    this.rows = rows;
    this.log.push(`<${cols}x${rows}>`);
  }
  onData(fn: (d: string) => void) {
    this.data.push(fn);
  }
  onBinary() {}
  focus() {}
  paste(text: string) {
    for (const fn of this.data) fn(text);
  }
  getSelection() {
    return "";
  }
  /** The user types. */
  type(text: string) {
    for (const fn of this.data) fn(text);
  }
}

let term: FakeTerm | null = null;
let proposed = { cols: 100, rows: 30 };
mock.module(new URL("./xterm.ts", import.meta.url).pathname, () => ({
  createScreen: (_el: HTMLElement, opts: { readOnly: boolean }) => {
    term = new FakeTerm(opts.readOnly);
    return { term, proposed: () => proposed, retheme() {}, dispose() {} };
  },
}));

// A phone: the key bar shows its keys on a coarse pointer.
let savedMatchMedia: unknown;
beforeAll(() => {
  const g = globalThis as { matchMedia?: unknown };
  savedMatchMedia = g.matchMedia;
  g.matchMedia = (q: string) => ({
    matches: q === "(pointer: coarse)",
    addEventListener() {},
    removeEventListener() {},
  });
});
afterAll(() => {
  (globalThis as { matchMedia?: unknown }).matchMedia = savedMatchMedia;
});

const agent = create(AgentSchema, {
  id: "t1",
  workspaceId: "w1",
  name: "shell",
  kind: AgentKind.TERMINAL,
  streamId: "s-t1",
});
const output = (seq: number, text: string) =>
  create(EventSchema, { seq, kind: EventKind.TERMINAL_OUTPUT, data: enc.encode(text) });
const snapshot = (seq: number, text: string) =>
  create(EventSchema, {
    seq,
    kind: EventKind.TERMINAL_SNAPSHOT,
    data: enc.encode(text),
    json: JSON.stringify({ cols: 80, rows: 24 }),
  });

function setup(canOperate: boolean) {
  const t = testApp();
  t.services.live.start();
  t.socket().open();
  const w = mount(TerminalPane, {
    props: { agent, canOperate },
    global: { provide: { [SERVICES as symbol]: t.services } },
  });
  const input = () =>
    t
      .socket()
      .frames("input")
      .map((f) => dec.decode(f.data));
  return { t, w, input };
}

test("events reach the screen once each; keys, Ctrl and the key bar become input", async () => {
  proposed = { cols: 100, rows: 30 };
  const { t, w, input } = setup(true);
  await flushPromises();
  expect(
    t
      .socket()
      .frames("subscribe")
      .map((s) => s.streamId),
  ).toEqual(["s-t1"]);
  t.socket().receive({
    case: "events",
    value: {
      streamId: "s-t1",
      events: [output(1, "old"), snapshot(2, "SCREEN"), output(3, "$ ")],
      live: true,
      headSeq: 3,
    },
  });
  await flushPromises();
  t.socket().receive({
    case: "events",
    value: { streamId: "s-t1", events: [output(4, "ls\r\n")], live: true, headSeq: 4 },
  });
  await flushPromises();
  expect(term!.log).toEqual(["<80x24>", "SCREEN", "$ ", "ls\r\n"]);

  term!.type("ls\r");
  const bar = w.find('[role="toolbar"]');
  const ctrl = bar.find('button[aria-label^="Control"]');
  await ctrl.trigger("click");
  expect(ctrl.attributes("aria-pressed")).toBe("true");
  term!.type("c");
  await flushPromises();
  expect(ctrl.attributes("aria-pressed")).toBe("false");
  await bar.find('button[aria-label="Up arrow"]').trigger("click");
  await bar.find('button[aria-label="Escape"]').trigger("click");
  await bar.find('button[aria-label="Pipe"]').trigger("click");
  expect(input()).toEqual(["ls\r", "\x03", "\x1b[A", "\x1b", "|"]);

  // The pane's own size is asked for once the size settles (debounced), not before.
  expect(t.socket().frames("resize")).toEqual([]);
  await Bun.sleep(250);
  expect(
    t
      .socket()
      .frames("resize")
      .map((r) => [r.streamId, r.cols, r.rows]),
  ).toEqual([["s-t1", 100, 30]]);
  w.unmount();
  expect(
    t
      .socket()
      .frames("unsubscribe")
      .map((u) => u.streamId),
  ).toEqual(["s-t1"]);
});

test("a viewer watches: read-only screen, a hint, no keys, nothing sent", async () => {
  proposed = { cols: 100, rows: 30 };
  const { t, w, input } = setup(false);
  await flushPromises();
  expect(term!.options.disableStdin).toBe(true);
  expect(w.text()).toContain("You are watching");
  const buttons = w.findAll('[role="toolbar"] button').map((b) => b.text());
  expect(buttons).toEqual(["Copy"]);
  term!.type("rm -rf /\r");
  await Bun.sleep(250);
  expect(input()).toEqual([]);
  expect(t.socket().frames("resize")).toEqual([]);
  w.unmount();
});
