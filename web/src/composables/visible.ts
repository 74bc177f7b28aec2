/** Whether the page is on screen (a shown tab, an unlocked phone), kept current. */
import { onScopeDispose, ref, type Ref } from "vue";

export function usePageVisible(): Ref<boolean> {
  const visible = ref(document.visibilityState === "visible");
  const update = () => (visible.value = document.visibilityState === "visible");
  document.addEventListener("visibilitychange", update);
  onScopeDispose(() => document.removeEventListener("visibilitychange", update));
  return visible;
}
