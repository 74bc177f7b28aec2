import { expect, test } from "bun:test";
import { BAR_KEYS, keySequence, withCtrl } from "./keys.ts";

test("Ctrl makes control characters of letters and the punctuation that has them", () => {
  expect(withCtrl("c")).toBe("\x03");
  expect(withCtrl("C")).toBe("\x03");
  expect(withCtrl("a")).toBe("\x01");
  expect(withCtrl("z")).toBe("\x1a");
  expect(withCtrl("[")).toBe("\x1b");
  expect(withCtrl("\\")).toBe("\x1c");
  expect(withCtrl("]")).toBe("\x1d");
  expect(withCtrl("@")).toBe("\x00");
  expect(withCtrl(" ")).toBe("\x00");
  expect(withCtrl("?")).toBe("\x7f");
  expect(withCtrl("_")).toBe("\x1f");
  expect(withCtrl("3")).toBe("\x1b");
  expect(withCtrl("7")).toBe("\x1f");
});

test("Ctrl changes only the first character; others without a control form pass", () => {
  expect(withCtrl("dx")).toBe("\x04x");
  expect(withCtrl("é")).toBe("é");
  expect(withCtrl("1")).toBe("1");
  expect(withCtrl("")).toBe("");
});

test("bar keys send xterm's bytes, in normal and application cursor mode", () => {
  expect(keySequence("esc")).toBe("\x1b");
  expect(keySequence("tab")).toBe("\t");
  expect(keySequence("up")).toBe("\x1b[A");
  expect(keySequence("down")).toBe("\x1b[B");
  expect(keySequence("right")).toBe("\x1b[C");
  expect(keySequence("left")).toBe("\x1b[D");
  expect(keySequence("left", { appCursor: true })).toBe("\x1bOD");
  expect(keySequence("up", { ctrl: true, appCursor: true })).toBe("\x1b[1;5A");
  expect(keySequence("pipe")).toBe("|");
  expect(keySequence("tilde")).toBe("~");
  expect(keySequence("pipe", { ctrl: true })).toBe("\x1c");
});

test("every bar key has a label, a distinct accessible name and bytes", () => {
  const names = new Set(BAR_KEYS.map((k) => k.name));
  expect(names.size).toBe(BAR_KEYS.length);
  for (const k of BAR_KEYS) {
    expect(k.label.length).toBeGreaterThan(0);
    expect(keySequence(k.key).length).toBeGreaterThan(0);
  }
});
