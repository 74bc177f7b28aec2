/** Whether a media query matches, kept current. */
import { onScopeDispose, ref, type Ref } from "vue";

/** Where the layout turns from phone (one pane, a bottom bar) to desktop (panes side by side). */
export const DESKTOP_QUERY = "(min-width: 900px)";

export function useMedia(query: string): Ref<boolean> {
  const m = typeof matchMedia === "function" ? matchMedia(query) : null;
  const matches = ref(m?.matches ?? false);
  const update = (e: MediaQueryListEvent) => (matches.value = e.matches);
  m?.addEventListener("change", update);
  onScopeDispose(() => m?.removeEventListener("change", update));
  return matches;
}

export const useDesktop = () => useMedia(DESKTOP_QUERY);
