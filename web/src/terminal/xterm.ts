/**
 * xterm and its fit addon, with their CSS: imported only by TerminalPane's dynamic import, so
 * all of it lands in a lazy chunk that loads when a terminal is first opened.
 */
import "@xterm/xterm/css/xterm.css";
import { FitAddon } from "@xterm/addon-fit";
import { Terminal, type ITheme } from "@xterm/xterm";

/** Lines kept above the screen: enough to scroll back through a build's output. */
export const SCROLLBACK_LINES = 5000;

export interface Screen {
  term: Terminal;
  /** The size that would fill the element now (null while it has no size). */
  proposed(): { cols: number; rows: number } | null;
  /** Follows the app's colours again (the system theme changed). */
  retheme(): void;
  dispose(): void;
}

/** The app's colours (styles.css variables), so the terminal matches light and dark. */
function theme(): ITheme {
  const css = getComputedStyle(document.documentElement);
  const v = (name: string, fallback: string) => css.getPropertyValue(name).trim() || fallback;
  const background = v("--surface", "#ffffff");
  const foreground = v("--text", "#15181d");
  return {
    background,
    foreground,
    cursor: v("--accent", foreground),
    cursorAccent: background,
    selectionBackground: v("--accent", "#1f5fbf") + "66",
  };
}

export function createScreen(
  element: HTMLElement,
  opts: { readOnly: boolean; fontSize: number },
): Screen {
  const term = new Terminal({
    disableStdin: opts.readOnly,
    scrollback: SCROLLBACK_LINES,
    fontSize: opts.fontSize,
    fontFamily:
      getComputedStyle(document.documentElement).getPropertyValue("--mono").trim() || "monospace",
    theme: theme(),
    convertEol: false,
    cursorBlink: !opts.readOnly,
    screenReaderMode: false,
  });
  const fit = new FitAddon();
  term.loadAddon(fit);
  term.open(element);
  return {
    term,
    proposed() {
      const d = fit.proposeDimensions();
      if (!d || !Number.isFinite(d.cols) || !Number.isFinite(d.rows)) return null;
      if (d.cols < 2 || d.rows < 1) return null;
      return { cols: d.cols, rows: d.rows };
    },
    retheme() {
      term.options.theme = theme();
    },
    dispose() {
      term.dispose();
    },
  };
}
