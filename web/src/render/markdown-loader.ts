/**
 * The markdown renderer, loaded on first need: markdown-it (with linkify-it and its tables)
 * and DOMPurify are a chunk of their own (markdown.ts), about two thirds of a conversation's
 * code, so the conversation's chunk arrives, draws and asks for its data without waiting for
 * them. Until the renderer arrives, Markdown.vue shows the text plain (escaped, as text);
 * `markdownRenderer` (a ref) turns into the renderer when it is ready, and every message drawn
 * plain from it renders again, as markdown.
 */
import { shallowRef, type ShallowRef } from "vue";
import type { renderMarkdown } from "./markdown.ts";

export type RenderMarkdown = typeof renderMarkdown;

const ready = shallowRef<RenderMarkdown | null>(null);
let loading: Promise<RenderMarkdown> | null = null;

/** Starts loading the renderer (once) and resolves to it. */
export function loadMarkdown(): Promise<RenderMarkdown> {
  loading ??= import("./markdown.ts").then(
    (m) => (ready.value = m.renderMarkdown),
    (e: unknown) => {
      // A failed chunk (offline, a new deploy) leaves text plain; a later call tries again.
      loading = null;
      throw e;
    },
  );
  return loading;
}

/** The renderer once loaded, null until then (reading it does not start the load). */
export const markdownRenderer: Readonly<ShallowRef<RenderMarkdown | null>> = ready;

/**
 * Starts the load if needed: called as early as a view knows it will show markdown (an
 * agent's conversation), so the chunk comes in beside the view's data. Failures leave text
 * plain.
 */
export function wantMarkdown(): void {
  // Why the catch is safe: without the chunk, messages keep showing as plain text.
  if (!ready.value) loadMarkdown().catch(() => {});
}
