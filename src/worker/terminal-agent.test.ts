/**
 * The worker's driver of one program in a terminal, against real PTYs: the events it emits and
 * their order, input and resize, snapshots that rebuild the screen, exit and stop.
 */
import { afterEach, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { SerializeAddon } from "@xterm/addon-serialize";
import { Terminal as Emulator } from "@xterm/headless";
import { EventKind } from "../gen/switchboard/v1/common_pb.ts";
import { Cleanups, isRunning, waitFor } from "../testing/procs.ts";
import {
  INPUT_MAX_BYTES,
  loginShell,
  OUTPUT_BATCH_BYTES,
  SCROLLBACK_LINES,
  SNAPSHOT_EVERY_BYTES,
  TerminalAgent,
  type TerminalAgentOptions,
} from "./terminal-agent.ts";

interface Ev {
  kind: EventKind;
  json: Record<string, unknown>;
  data?: Uint8Array;
  actor: string;
}

const cleanups = new Cleanups();
afterEach(() => cleanups.runAll());

/**
 * A shell that reads no startup files and prompts with a fixed string. (Its line editor wraps
 * each command's output in bracketed-paste toggles: "…\r\n\x1b[?2004l\r<output>".)
 */
const SHELL = ["bash", "--norc", "--noprofile", "-i"];
const SHELL_ENV = { PS1: "$ ", HISTFILE: "/dev/null" };

/** A terminal whose events are recorded. */
function terminal(opts: Partial<TerminalAgentOptions> = {}) {
  const events: Ev[] = [];
  const logs: string[] = [];
  const agent = new TerminalAgent({
    agentId: "t1",
    cwd: cleanups.scratch("terminal-agent"),
    command: SHELL,
    env: SHELL_ENV,
    emit: (kind, p) =>
      events.push({
        kind,
        json: p.json as Record<string, unknown>,
        data: p.data,
        actor: p.actor ?? "",
      }),
    log: (l) => logs.push(l),
    ...opts,
  });
  cleanups.add(() => agent.stop());
  const of = (kind: EventKind) => events.filter((e) => e.kind === kind);
  /** All output so far, decoded. */
  const output = () => new TextDecoder().decode(bytesOf(of(EventKind.TERMINAL_OUTPUT)));
  const until = (pred: (e: Ev) => boolean, what: string) =>
    waitFor(() => events.some(pred), what, 15_000);
  const outputUntil = (pattern: RegExp) =>
    waitFor(() => pattern.test(output()), `output matching ${pattern}`, 15_000);
  const ended = () => until((e) => isFinal(e), "the final status");
  return { agent, events, logs, of, output, until, outputUntil, ended };
}

const isFinal = (e: Ev) =>
  e.kind === EventKind.AGENT_STATUS && (e.json.status === "stopped" || e.json.status === "failed");
const bytes = (s: string) => new TextEncoder().encode(s);

function bytesOf(events: Ev[]): Uint8Array {
  const total = events.reduce((n, e) => n + e.data!.length, 0);
  const out = new Uint8Array(total);
  let at = 0;
  for (const e of events) {
    out.set(e.data!, at);
    at += e.data!.length;
  }
  return out;
}

/** A compact picture of events for order assertions (output events merged). */
function shape(events: Ev[]): string[] {
  const out: string[] = [];
  for (const e of events) {
    const kind = EventKind[e.kind];
    const s =
      e.kind === EventKind.AGENT_STATUS
        ? `${kind}:${e.json.status}`
        : e.kind === EventKind.TERMINAL_RESIZE
          ? `${kind}:${e.json.cols}x${e.json.rows}`
          : kind;
    if (out.at(-1) !== s || e.kind !== EventKind.TERMINAL_OUTPUT) out.push(s);
  }
  return out;
}

function emulator(cols = 80, rows = 24): Emulator {
  return new Emulator({ cols, rows, scrollback: SCROLLBACK_LINES, allowProposedApi: true });
}

function write(term: Emulator, data: Uint8Array | string): Promise<void> {
  return new Promise((resolve) => term.write(data, resolve));
}

/** Every line of the buffer, scrollback included, as text. */
function lines(term: Emulator): string[] {
  const b = term.buffer.active;
  const out: string[] = [];
  for (let i = 0; i < b.length; i++) out.push(b.getLine(i)!.translateToString(true));
  return out;
}

/** The lines on screen. */
function screen(term: Emulator): string[] {
  return lines(term).slice(term.buffer.active.baseY);
}

/** Pids in the session `sid` (the processes a terminal's program started), from /proc. */
function sessionMembers(sid: number): number[] {
  const out: number[] = [];
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, "utf8");
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(f[3]) === sid && f[0] !== "Z") out.push(Number(d));
    } catch {
      // Gone.
    }
  }
  return out;
}

test("a command's output appears, between the resize and the exit", async () => {
  const t = terminal({ command: ["echo", "hi"] });
  await t.agent.start();
  expect(t.agent.pid).toBeGreaterThan(0);
  await t.ended();
  expect(t.output()).toBe("hi\r\n");
  expect(shape(t.events)).toEqual([
    "AGENT_STATUS:starting",
    "TERMINAL_RESIZE:80x24",
    "AGENT_STATUS:idle",
    "TERMINAL_OUTPUT",
    "TERMINAL_EXIT",
    "AGENT_STATUS:stopped",
  ]);
  expect(t.of(EventKind.TERMINAL_EXIT)[0]!.json).toEqual({ exitCode: 0 });
  expect(t.agent.running).toBe(false);
  expect(t.events.every((e) => e.actor === "agent")).toBe(true);
  // Stopping what ended by itself changes nothing.
  await t.agent.stop();
  expect(t.events.filter(isFinal)).toHaveLength(1);
});

test("the program runs in the folder, in a terminal that says what it is", async () => {
  const folder = cleanups.scratch("terminal-cwd");
  const t = terminal({
    cwd: folder,
    command: ["sh", "-c", 'echo "$PWD|$TERM|$COLORTERM|$EXTRA"; [ -t 0 ] && [ -t 1 ] && echo tty'],
    env: { EXTRA: "x1" },
  });
  await t.agent.start();
  await t.ended();
  expect(t.output()).toBe(`${folder}|xterm-256color|truecolor|x1\r\ntty\r\n`);
});

test("an interactive shell takes input and answers", async () => {
  const t = terminal();
  await t.agent.start();
  await t.outputUntil(/\$ $/);
  t.agent.input(bytes("echo $((6*7))\r"), "alice");
  await t.outputUntil(/\r42\r\n/);
  expect(t.agent.running).toBe(true);
  await t.agent.stop();
  expect(t.agent.running).toBe(false);
  expect(shape(t.events).slice(-2)).toEqual(["TERMINAL_EXIT", "AGENT_STATUS:stopped"]);
  expect(() => t.agent.input(bytes("x"), "alice")).toThrow(/not running/);
});

test("resize changes what the program sees and is reported with who did it", async () => {
  const t = terminal();
  await t.agent.start();
  await t.outputUntil(/\$ $/);
  t.agent.input(bytes("stty size\r"), "alice");
  await t.outputUntil(/\r24 80\r\n/);
  t.agent.resize(100, 30, "bob");
  const resizes = () => t.of(EventKind.TERMINAL_RESIZE);
  expect(resizes().map((e) => [e.json, e.actor])).toEqual([
    [{ cols: 80, rows: 24 }, "agent"],
    [{ cols: 100, rows: 30 }, "bob"],
  ]);
  // The same size again is no change; sizes out of bounds are clamped.
  t.agent.resize(100, 30, "carol");
  expect(resizes()).toHaveLength(2);
  t.agent.input(bytes("stty size\r"), "alice");
  await t.outputUntil(/\r30 100\r\n/);
  t.agent.resize(1, 100_000, "carol");
  expect(resizes().at(-1)!.json).toEqual({ cols: 2, rows: 200 });
  expect(() => t.agent.resize(NaN, 10, "carol")).toThrow(/bad terminal cols/);
});

test("a snapshot restores the screen and scrollback, colours included, in a fresh xterm", async () => {
  const script = [
    "printf '\\033[31mred line\\033[0m\\n\\033[1;32mbold green\\033[0m\\n'",
    // More lines than the screen holds, so some are in the scrollback.
    "for i in $(seq 1 40); do printf '\\033[3%dmline %d\\033[0m\\n' $((i % 7 + 1)) $i; done",
    "printf 'last'",
  ].join("; ");
  const t = terminal({ command: ["sh", "-c", script], cols: 60, rows: 10 });
  await t.agent.start();
  await t.ended();
  const snap = await t.agent.snapshot();
  const text = new TextDecoder().decode(snap);
  expect(text).toContain("red line");
  expect(text).toContain("line 40");

  // The reference: a fresh xterm fed with every output byte.
  const reference = emulator(60, 10);
  await write(reference, bytesOf(t.of(EventKind.TERMINAL_OUTPUT)));
  const restored = emulator(60, 10);
  await write(restored, snap);
  expect(screen(restored)).toEqual(screen(reference));
  expect(lines(restored)).toEqual(lines(reference));
  expect(lines(restored)[0]).toBe("red line");
  expect(screen(restored).at(-1)).toBe("last");
  const b = restored.buffer.active;
  expect([b.cursorX, b.cursorY]).toEqual([
    reference.buffer.active.cursorX,
    reference.buffer.active.cursorY,
  ]);
  // Colours survive: "red line" is palette colour 1, "bold green" is bold and colour 2.
  const red = b.getLine(0)!.getCell(0)!;
  expect([red.isFgPalette(), red.getFgColor()]).toEqual([true, 1]);
  const green = b.getLine(1)!.getCell(0)!;
  expect([green.isFgPalette(), green.getFgColor(), green.isBold() !== 0]).toEqual([true, 2, true]);
  // Serialising the restored terminal gives the same bytes: nothing was lost on the way.
  const again = new SerializeAddon();
  restored.loadAddon(again);
  expect(again.serialize({ scrollback: SCROLLBACK_LINES })).toBe(text);
});

test("a snapshot of a running program reflects all output so far", async () => {
  const t = terminal();
  await t.agent.start();
  await t.outputUntil(/\$ $/);
  t.agent.input(bytes("printf '\\033[32mhello\\033[0m\\n'\r"), "alice");
  await t.outputUntil(/hello/);
  const restored = emulator();
  await write(restored, await t.agent.snapshot());
  const reference = emulator();
  await write(reference, bytesOf(t.of(EventKind.TERMINAL_OUTPUT)));
  expect(lines(restored)).toEqual(lines(reference));
  expect(lines(restored).some((l) => l === "hello")).toBe(true);
});

test("much output is batched, complete, and snapshotted on the way", async () => {
  // About 1.6 MB: "1\r\n" … "250000\r\n".
  const t = terminal({ command: ["seq", "1", "250000"] });
  await t.agent.start();
  await t.ended();
  const outputs = t.of(EventKind.TERMINAL_OUTPUT);
  const all = bytesOf(outputs);
  let expected = "";
  for (let i = 1; i <= 250_000; i++) expected += `${i}\r\n`;
  expect(all.length).toBe(expected.length);
  expect(new TextDecoder().decode(all) === expected).toBe(true);
  expect(outputs.every((e) => e.data!.length <= OUTPUT_BATCH_BYTES)).toBe(true);
  // Batched: far fewer events than lines.
  expect(outputs.length).toBeLessThan(2_000);

  const snaps = t.of(EventKind.TERMINAL_SNAPSHOT);
  expect(snaps.length).toBeGreaterThanOrEqual(1);
  expect(snaps.length).toBeLessThanOrEqual(Math.floor(all.length / SNAPSHOT_EVERY_BYTES));
  // A snapshot stands for every event before it: it rebuilds what they build.
  const at = t.events.indexOf(snaps[0]!);
  const before = t.events.slice(0, at).filter((e) => e.kind === EventKind.TERMINAL_OUTPUT);
  const reference = emulator();
  await write(reference, bytesOf(before));
  const restored = emulator();
  await write(restored, snaps[0]!.data!);
  expect(lines(restored)).toEqual(lines(reference));
  expect(lines(restored).length).toBe(SCROLLBACK_LINES + 24);
});

test("an exit code other than 0 is a failure", async () => {
  const t = terminal({ command: ["sh", "-c", "echo bye; exit 3"] });
  await t.agent.start();
  await t.ended();
  expect(t.output()).toBe("bye\r\n");
  expect(t.of(EventKind.TERMINAL_EXIT)[0]!.json).toEqual({ exitCode: 3 });
  expect(t.events.at(-1)!.json).toEqual({ status: "failed", message: "exited with code 3" });
});

test("a program killed by a signal is a failure that names it", async () => {
  const t = terminal({ command: ["sh", "-c", "kill -KILL $$"] });
  await t.agent.start();
  await t.ended();
  expect(t.of(EventKind.TERMINAL_EXIT)[0]!.json).toEqual({ exitCode: null, signal: "SIGKILL" });
  expect(t.events.at(-1)!.json).toEqual({ status: "failed", message: "killed by signal SIGKILL" });
});

test("a command that cannot start rejects start after a failed status", async () => {
  const t = terminal({ command: ["/nonexistent/program", "--flag"] });
  expect(t.agent.start()).rejects.toThrow(/cannot start "\/nonexistent\/program --flag"/);
  await t.ended();
  expect(shape(t.events)).toEqual(["AGENT_STATUS:starting", "AGENT_STATUS:failed"]);
  expect(String(t.events[1]!.json.message)).toMatch(/^cannot start .*ENOENT/);
  expect(t.agent.running).toBe(false);
  expect(t.agent.pid).toBeNull();
  await t.agent.stop();
  expect(() => t.agent.input(bytes("x"), "alice")).toThrow(/not running/);
  expect(t.agent.start()).rejects.toThrow(/started already/);

  const gone = terminal({ cwd: "/nonexistent-folder-for-terminal-test" });
  expect(gone.agent.start()).rejects.toThrow(/nonexistent-folder-for-terminal-test/);
});

test("stop ends the shell and its background jobs", async () => {
  const t = terminal();
  await t.agent.start();
  await t.outputUntil(/\$ $/);
  // A job of an interactive shell gets a process group of its own.
  t.agent.input(bytes("sleep 1000 & echo job=$!\r"), "alice");
  await t.outputUntil(/job=\d+/);
  const job = Number(/job=(\d+)/.exec(t.output())![1]);
  const pid = t.agent.pid!;
  expect(isRunning(job)).toBe(true);
  expect(sessionMembers(pid)).toContain(job);
  await t.agent.stop();
  expect(isRunning(job)).toBe(false);
  expect(isRunning(pid)).toBe(false);
  expect(sessionMembers(pid)).toEqual([]);
  expect(shape(t.events).slice(-2)).toEqual(["TERMINAL_EXIT", "AGENT_STATUS:stopped"]);
  // Idempotent: a second stop emits nothing more.
  const n = t.events.length;
  await Promise.all([t.agent.stop(), t.agent.stop()]);
  expect(t.events.length).toBe(n);
});

test("stop kills a program and a child that ignore SIGHUP and SIGTERM", async () => {
  const t = terminal({
    command: ["sh", "-c", "trap '' HUP TERM; sleep 1000 & echo child=$!; wait"],
  });
  await t.agent.start();
  await t.outputUntil(/child=\d+/);
  const child = Number(/child=(\d+)/.exec(t.output())![1]);
  const pid = t.agent.pid!;
  expect(isRunning(child)).toBe(true);
  await Promise.all([t.agent.stop(), t.agent.stop()]);
  expect(isRunning(child)).toBe(false);
  expect(sessionMembers(pid)).toEqual([]);
  expect(t.of(EventKind.TERMINAL_EXIT)[0]!.json).toEqual({ exitCode: null, signal: "SIGKILL" });
  expect(t.events.filter(isFinal).map((e) => e.json)).toEqual([{ status: "stopped" }]);
}, 20_000);

test("input is bounded per call", async () => {
  const t = terminal({ command: ["cat"] });
  expect(() => t.agent.input(bytes("x"), "alice")).toThrow(/not started/);
  await t.agent.start();
  expect(() => t.agent.input(new Uint8Array(INPUT_MAX_BYTES + 1), "alice")).toThrow(/over 65536/);
  t.agent.input(bytes("still here\r"), "alice");
  await t.outputUntil(/still here\r\nstill here\r\n/);
});

test("no command runs the login shell", async () => {
  expect(loginShell({ SHELL: "/bin/sh" })).toBe("/bin/sh");
  expect(loginShell({ SHELL: "/nonexistent/shell" })).toMatch(/^\/bin\/(bash|sh)$/);
  expect(loginShell({ SHELL: "sh" })).toMatch(/^\/bin\/(bash|sh)$/);
  const t = terminal({ command: [], env: { SHELL: "/bin/sh", PS1: "$ " } });
  await t.agent.start();
  await t.outputUntil(/\$ $/);
  t.agent.input(bytes("echo shell=$0\r"), "alice");
  await t.outputUntil(/shell=\/bin\/sh/);
});
