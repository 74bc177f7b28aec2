/**
 * The phone's key bar: the keys a touch keyboard lacks, as the bytes a terminal sends for
 * them (xterm's own encoding), and Ctrl as a sticky modifier applied to the next key.
 */

export type BarKey = "esc" | "tab" | "up" | "down" | "right" | "left" | "pipe" | "tilde";

/** The bar's keys in order, with what is printed on them and their accessible names. */
export const BAR_KEYS: readonly { key: BarKey; label: string; name: string }[] = [
  { key: "esc", label: "Esc", name: "Escape" },
  { key: "tab", label: "Tab", name: "Tab" },
  { key: "left", label: "←", name: "Left arrow" },
  { key: "up", label: "↑", name: "Up arrow" },
  { key: "down", label: "↓", name: "Down arrow" },
  { key: "right", label: "→", name: "Right arrow" },
  { key: "pipe", label: "|", name: "Pipe" },
  { key: "tilde", label: "~", name: "Tilde" },
];

const ARROW_LETTER: Partial<Record<BarKey, string>> = { up: "A", down: "B", right: "C", left: "D" };

/**
 * The bytes for a bar key. `appCursor`: the program switched the terminal to application
 * cursor keys (DECCKM; vim and less do), where arrows are ESC O x instead of ESC [ x.
 */
export function keySequence(key: BarKey, opts: { ctrl?: boolean; appCursor?: boolean } = {}) {
  const arrow = ARROW_LETTER[key];
  if (arrow) {
    // xterm's modifier parameter: 5 is Ctrl.
    if (opts.ctrl) return `\x1b[1;5${arrow}`;
    return opts.appCursor ? `\x1bO${arrow}` : `\x1b[${arrow}`;
  }
  switch (key) {
    case "esc":
      return "\x1b";
    case "tab":
      return "\t";
    case "pipe":
      return opts.ctrl ? "\x1c" : "|";
    case "tilde":
      return opts.ctrl ? "\x1e" : "~";
  }
  return "";
}

/**
 * What Ctrl makes of typed text: its first character as a control character (Ctrl+C is 0x03,
 * Ctrl+[ is ESC, Ctrl+? is DEL), the rest unchanged. Characters without a control form are
 * left as they are.
 */
export function withCtrl(data: string): string {
  if (data.length === 0) return data;
  const c = data[0]!;
  const rest = data.slice(1);
  const code = c.toUpperCase().charCodeAt(0);
  if (code >= 0x40 && code <= 0x5f) return String.fromCharCode(code & 0x1f) + rest; // @ A-Z [ \ ] ^ _
  if (c === " " || c === "2") return "\x00" + rest;
  if (c === "?" || c === "8") return "\x7f" + rest;
  if (c >= "3" && c <= "7") return String.fromCharCode(c.charCodeAt(0) - 0x33 + 0x1b) + rest; // 3..7 → ESC..US
  if (c === "/") return "\x1f" + rest;
  return data;
}
