/**
 * The connection as the user sees it: the live socket's state and whether the browser thinks
 * it is online. Shown as a quiet indicator; the LiveClient does the reconnecting.
 */
import { defineStore } from "pinia";
import { computed, onScopeDispose, ref } from "vue";
import type { LiveState } from "../live/live-client.ts";
import { useServices } from "../services.ts";

export const useConnectionStore = defineStore("connection", () => {
  const { live } = useServices();
  const state = ref<LiveState>(live.state);
  const online = ref(typeof navigator === "undefined" ? true : navigator.onLine);
  const offState = live.onState((s) => (state.value = s));
  const setOnline = () => (online.value = true);
  const setOffline = () => (online.value = false);
  if (typeof window !== "undefined") {
    window.addEventListener("online", setOnline);
    window.addEventListener("offline", setOffline);
  }
  onScopeDispose(() => {
    offState();
    if (typeof window === "undefined") return;
    window.removeEventListener("online", setOnline);
    window.removeEventListener("offline", setOffline);
  });

  /** A sentence for the indicator, or null when all is well (or signed out). */
  const problem = computed(() => {
    if (!online.value) return "Offline: showing what this device kept.";
    // "connecting" is not shown: it is every start's first moment, and usually short.
    if (state.value === "waiting") return "Reconnecting to the hub…";
    return null;
  });

  return { state, online, problem };
});
