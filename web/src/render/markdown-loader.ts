/**
 * The markdown renderer, loaded on first need: markdown-it (with linkify-it and its tables)
 * and DOMPurify are a chunk of their own (markdown.ts), about two thirds of a conversation's
 * code, so the conversation's chunk arrives, draws and asks for its data without waiting for
 * them; it is asked for by wantMarkdownSoon and wantMarkdownAfterPaint below. Until it has
 * arrived, Markdown.vue shows the text plain (escaped, as text);
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
    // Handed over in a task of its own: the chunk's evaluation and the messages drawn again
    // as markdown are then two short tasks, not one long one that holds up input.
    (m) =>
      new Promise<RenderMarkdown>((resolve) =>
        setTimeout(() => resolve((ready.value = m.renderMarkdown)), 0),
      ),
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

/** Starts the load if needed; failures leave text plain. */
export function wantMarkdown(): void {
  // Why the catch is safe: without the chunk, messages keep showing as plain text.
  if (!ready.value) loadMarkdown().catch(() => {});
}

/**
 * For a message about to be drawn: starts the load once the frame with the message in it has
 * been painted, so the text is on screen first and the renderer's parsing does not hold it up.
 */
export function wantMarkdownAfterPaint(): void {
  if (ready.value) return;
  requestAnimationFrame(() => setTimeout(wantMarkdown, 0));
}

/**
 * For a view that will show markdown (an agent's conversation), as it opens. Served from the
 * device (a service worker controls the page, so the chunk is in its cache), the renderer is
 * loaded at once and is usually in before the first message, which then never shows plain.
 * From the network it waits for the first message (wantMarkdownAfterPaint): on a slow network
 * its 50 KB would compete with the view's own code and data, and plain text reads meanwhile.
 */
export function wantMarkdownSoon(): void {
  if (typeof navigator !== "undefined" && navigator.serviceWorker?.controller) wantMarkdown();
}
