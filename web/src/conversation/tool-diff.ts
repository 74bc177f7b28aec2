/**
 * A tool call's diff view (ToolDiff.vue), loaded when a conversation first shows a diff: the
 * `diff` package and the drawing are not in the conversation's own chunk. `loadToolDiff` is
 * the one load the component waits for too, so whoever needs it drawn (tests) can await it.
 */
import { defineAsyncComponent, type Component } from "vue";

let loading: Promise<Component> | null = null;

/** Starts loading the diff view (once) and resolves to it. */
export function loadToolDiff(): Promise<Component> {
  loading ??= import("./ToolDiff.vue").then(
    (m) => m.default,
    (e: unknown) => {
      // A failed chunk (offline, a new deploy): the next conversation to show a diff tries again.
      loading = null;
      throw e;
    },
  );
  return loading;
}

/** The diff view as a component: nothing until it has arrived, then the diff. */
export const ToolDiff = defineAsyncComponent(loadToolDiff);
