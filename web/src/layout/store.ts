/**
 * The desktop's pane layout per workspace, kept on the hub for the user (GetLayout and
 * SaveLayout of WorkspaceService) so it comes back on the next load, on any desktop. Read
 * once; each change is saved after SAVE_DELAY_MS of quiet (a divider drag is many changes),
 * over a fresh read, so what other desktops saved for other workspaces is kept.
 */
import { defineStore } from "pinia";
import { ref, shallowReactive } from "vue";
import { errorMessage } from "../api/errors.ts";
import { useServices } from "../services.ts";
import {
  emptyStored,
  layoutOf,
  parseStored,
  withLayout,
  type Layout,
  type Stored,
} from "./layout.ts";

/** Quiet time before a change is saved: one save for a whole drag or a burst of keys. */
export const SAVE_DELAY_MS = 1000;

export const useLayoutStore = defineStore("layout", () => {
  const { api } = useServices();
  /** The layout shown per workspace (this page's). */
  const layouts = shallowReactive<Record<string, Layout>>({});
  /** The last save's failure, if it failed (the layout then only lasts this page). */
  const saveError = ref<string | null>(null);
  let stored: Stored = emptyStored();
  let loading: Promise<void> | null = null;
  let loaded = false;
  let timer: ReturnType<typeof setTimeout> | null = null;
  /** Workspaces changed since the last save. */
  const dirty = new Set<string>();

  /** Reads the user's layouts from the hub, once per page. */
  function load(): Promise<void> {
    return (loading ??= api.workspaces
      .getLayout({})
      .then((r) => {
        stored = parseStored(r.json);
      })
      // Unreadable (offline, an older hub): the panes start afresh; saving still works.
      .catch(() => {})
      .finally(() => {
        loaded = true;
        if (dirty.size > 0) schedule();
      }));
  }

  /** What the user had in a workspace, as stored (null when nothing usable was). */
  function restored(workspaceId: string): Layout | null {
    return layoutOf(stored, workspaceId);
  }

  function set(workspaceId: string, layout: Layout): void {
    if (layouts[workspaceId] === layout) return;
    layouts[workspaceId] = layout;
    dirty.add(workspaceId);
    schedule();
  }

  function schedule(): void {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => void flush(), SAVE_DELAY_MS);
  }

  /**
   * Saves the changes now (a page about to be hidden; tests). Waits for the first read, so
   * the other workspaces' layouts are not overwritten by an empty list.
   */
  async function flush(): Promise<void> {
    if (timer) clearTimeout(timer);
    timer = null;
    if (!loaded) {
      await load();
      return flush();
    }
    if (dirty.size === 0) return;
    const changed = [...dirty];
    dirty.clear();
    try {
      // Read again: another desktop may have saved its workspaces since, keep theirs.
      stored = parseStored((await api.workspaces.getLayout({})).json);
    } catch {
      // Unreadable now: what this page read before stands in for it.
    }
    for (const id of changed) if (layouts[id]) stored = withLayout(stored, id, layouts[id]);
    try {
      await api.workspaces.saveLayout({ json: JSON.stringify(stored) });
      saveError.value = null;
    } catch (err) {
      saveError.value = errorMessage(err);
    }
  }

  return { layouts, saveError, load, restored, set, flush };
});
