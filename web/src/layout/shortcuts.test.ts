import { expect, test } from "bun:test";
import { useDom } from "../testing/dom.ts";
import { isTyping, shortcutOf, type KeyLike } from "./shortcuts.ts";

useDom();

const key = (code: string, key: string, mods: Partial<KeyLike> = {}): KeyLike => ({
  code,
  key,
  altKey: false,
  ctrlKey: false,
  metaKey: false,
  shiftKey: false,
  ...mods,
});

test("new agent: Alt+N outside text fields, Ctrl/⌘+Alt+N everywhere", () => {
  // On a Mac Alt+N gives "˜" as the key: the physical key is what counts.
  expect(shortcutOf(key("KeyN", "˜", { altKey: true }), false)).toEqual({ action: "new-agent" });
  expect(shortcutOf(key("KeyN", "n", { altKey: true }), true)).toBeNull();
  expect(shortcutOf(key("KeyN", "n", { altKey: true, metaKey: true }), true)).toEqual({
    action: "new-agent",
  });
  expect(shortcutOf(key("KeyN", "n", { altKey: true, ctrlKey: true }), true)).toEqual({
    action: "new-agent",
  });
  expect(shortcutOf(key("KeyN", "n", { ctrlKey: true }), false)).toBeNull();
});

test("pane focus: Ctrl/⌘+] and [, and Alt+digit", () => {
  expect(shortcutOf(key("BracketRight", "]", { ctrlKey: true }), true)).toEqual({
    action: "next-pane",
  });
  expect(shortcutOf(key("BracketLeft", "[", { metaKey: true }), false)).toEqual({
    action: "previous-pane",
  });
  expect(shortcutOf(key("BracketLeft", "[", {}), false)).toBeNull();
  expect(shortcutOf(key("Digit3", "£", { altKey: true }), false)).toEqual({
    action: "pane",
    index: 2,
  });
  expect(shortcutOf(key("Digit3", "£", { altKey: true }), true)).toBeNull();
  expect(shortcutOf(key("Digit1", "1", {}), false)).toBeNull();
});

test("? opens the help, but not while typing", () => {
  expect(shortcutOf(key("Slash", "?", { shiftKey: true }), false)).toEqual({ action: "help" });
  expect(shortcutOf(key("Slash", "?", { shiftKey: true }), true)).toBeNull();
  expect(shortcutOf(key("Slash", "/", {}), false)).toBeNull();
});

test("text fields, editors and selects count as typing; buttons do not", () => {
  const input = document.createElement("input");
  const checkbox = document.createElement("input");
  checkbox.type = "checkbox";
  const editor = document.createElement("div");
  editor.contentEditable = "true";
  expect(isTyping(input)).toBe(true);
  expect(isTyping(document.createElement("textarea"))).toBe(true);
  expect(isTyping(document.createElement("select"))).toBe(true);
  expect(isTyping(editor)).toBe(true);
  expect(isTyping(checkbox)).toBe(false);
  expect(isTyping(document.createElement("button"))).toBe(false);
  expect(isTyping(null)).toBe(false);
});
