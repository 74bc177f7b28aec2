/**
 * The desktop's keyboard shortcuts: which key press means what. Keys are read by `code` (the
 * physical key), since Alt changes the character on a Mac (Alt+N is a dead key there).
 * Shortcuts that type nothing (Ctrl/⌘ combinations) work while typing; the others are left
 * to the text field.
 */

export type Shortcut =
  | { action: "new-agent" }
  | { action: "next-pane" }
  | { action: "previous-pane" }
  | { action: "pane"; index: number }
  | { action: "help" };

/** The part of a KeyboardEvent read here. */
export interface KeyLike {
  key: string;
  code: string;
  altKey: boolean;
  ctrlKey: boolean;
  metaKey: boolean;
  shiftKey: boolean;
}

/** For the help list: the keys and what they do. */
export const SHORTCUTS: readonly { keys: string; what: string }[] = [
  { keys: "Alt+N  or  Ctrl/⌘+Alt+N", what: "Start a new agent" },
  { keys: "Ctrl/⌘+]", what: "Next pane" },
  { keys: "Ctrl/⌘+[", what: "Previous pane" },
  { keys: "Alt+1 … Alt+4", what: "Go to pane 1 to 4" },
  { keys: "Ctrl/⌘+Enter", what: "Send the message (in the composer)" },
  { keys: "← →  on a divider", what: "Make the panes beside it wider or narrower" },
  { keys: "?", what: "Show these shortcuts" },
];

export function shortcutOf(e: KeyLike, typing: boolean): Shortcut | null {
  const mod = e.ctrlKey || e.metaKey;
  if (e.code === "KeyN" && e.altKey && !e.shiftKey) {
    // Ctrl/⌘+Alt+N everywhere; plain Alt+N types a character in some layouts.
    if (mod || !typing) return { action: "new-agent" };
    return null;
  }
  if (mod && !e.altKey && !e.shiftKey) {
    if (e.code === "BracketRight") return { action: "next-pane" };
    if (e.code === "BracketLeft") return { action: "previous-pane" };
  }
  const digit = /^Digit([1-9])$/.exec(e.code);
  if (digit && e.altKey && !e.shiftKey && (mod || !typing))
    return { action: "pane", index: Number(digit[1]) - 1 };
  if (e.key === "?" && !mod && !e.altKey && !typing) return { action: "help" };
  return null;
}

/** Whether keys typed at `el` belong to a text field (or an editor, or the terminal). */
export function isTyping(el: Element | null): boolean {
  if (!el) return false;
  const tag = el.tagName;
  if (tag === "TEXTAREA" || tag === "SELECT") return true;
  if (tag === "INPUT") {
    const type = (el as HTMLInputElement).type;
    return !["button", "checkbox", "radio", "submit", "reset", "range", "color"].includes(type);
  }
  return (el as HTMLElement).isContentEditable === true;
}
