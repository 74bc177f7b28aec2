/**
 * Syntax highlighting, loaded on first need: highlight.js and its languages are a chunk of
 * their own (hljs.ts), fetched when some code is shown, so the first load never carries it.
 * Until it arrives code shows plain; `highlighter` (a ref) turns into the highlighter when it
 * is ready, and everything that rendered plain from it renders again, highlighted.
 */
import { shallowRef, type ShallowRef } from "vue";

export interface Highlighter {
  /** HTML (escaped, with hljs spans) for code in a language it knows; null for any other. */
  highlight(code: string, language: string): string | null;
}

/** Longer code shows plain: highlighting a big file would hold up the page for seconds. */
export const MAX_HIGHLIGHT_CHARS = 200_000;

const ready = shallowRef<Highlighter | null>(null);
let loading: Promise<Highlighter> | null = null;

/** Starts loading the highlighter (once) and resolves to it. */
export function loadHighlighter(): Promise<Highlighter> {
  loading ??= import("./hljs.ts").then(
    (m) => (ready.value = m.highlighter),
    (e: unknown) => {
      // A failed chunk (offline, a new deploy) leaves code plain; a later call tries again.
      loading = null;
      throw e;
    },
  );
  return loading;
}

/** The highlighter once loaded, null until then (reading it does not start the load). */
export const highlighter: Readonly<ShallowRef<Highlighter | null>> = ready;

/** Starts the load if needed, for code about to be shown; failures leave code plain. */
export function wantHighlighter(): void {
  // Why the catch is safe: without the chunk, code keeps showing plain.
  if (!ready.value) loadHighlighter().catch(() => {});
}

const BY_EXTENSION: Record<string, string> = {
  ts: "typescript",
  tsx: "typescript",
  mts: "typescript",
  cts: "typescript",
  js: "javascript",
  jsx: "javascript",
  mjs: "javascript",
  cjs: "javascript",
  vue: "xml",
  json: "json",
  jsonc: "json",
  sh: "bash",
  bash: "bash",
  zsh: "bash",
  py: "python",
  go: "go",
  rs: "rust",
  diff: "diff",
  patch: "diff",
  css: "css",
  html: "xml",
  htm: "xml",
  xml: "xml",
  svg: "xml",
  yaml: "yaml",
  yml: "yaml",
  md: "markdown",
  markdown: "markdown",
  toml: "ini",
  ini: "ini",
  sql: "sql",
};

/** The highlight.js language for a file, by its name; "" when none fits. */
export function languageOf(path: string): string {
  const name = path.split("/").at(-1)?.toLowerCase() ?? "";
  if (name === "dockerfile" || name === "makefile") return "";
  const dot = name.lastIndexOf(".");
  return dot < 0 ? "" : (BY_EXTENSION[name.slice(dot + 1)] ?? "");
}
