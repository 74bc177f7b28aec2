/**
 * A view's main landmark. On its own a view is the page's `<main id="main">` (the skip link's
 * target); inside a tiled pane it is a plain block, because the tiling area is the page's one
 * main and several panes may show views at once (one id, one main per page).
 */
import { inject, provide, type InjectionKey } from "vue";

const IN_PANE: InjectionKey<boolean> = Symbol("in-pane");

/** Called by a tiled pane for the views inside it. */
export function provideInPane(): void {
  provide(IN_PANE, true);
}

export function useLandmark(): { tag: "main" | "div"; id: string | undefined } {
  const inPane = inject(IN_PANE, false);
  return inPane ? { tag: "div", id: undefined } : { tag: "main", id: "main" };
}
