/**
 * A folder's listing as the file views show it (the desktop's tree, the phone's list): folders
 * first, then by name, read again whenever the workspace or the folder changes.
 */
import { computed, watch, type ComputedRef } from "vue";
import { FileKind, type FileEntry } from "@gen/switchboard/v1/files_pb.ts";
import { useServices } from "../services.ts";
import { useLoad, type Load } from "./load.ts";

export interface Listing {
  entries: FileEntry[];
  /** The hub listed only the first entries. */
  truncated: boolean;
}

/** The path of `name` inside the folder `dir`, relative to the workspace ("" is its root). */
export function childPath(dir: string, name: string): string {
  return dir ? `${dir}/${name}` : name;
}

/** Folders before files, then by name. */
function byKindThenName(a: FileEntry, b: FileEntry): number {
  return (
    Number(b.kind === FileKind.DIR) - Number(a.kind === FileKind.DIR) ||
    a.name.localeCompare(b.name)
  );
}

/**
 * Git's own folder: its objects mean nothing to a reader, and the Changes tab shows what git
 * knows. Hidden from listings only; a path into it can still be opened.
 */
const HIDDEN = new Set([".git"]);

/** Lists the folder `where()` names, again whenever it changes; `entries` is [] until read. */
export function useFolder(where: () => { workspaceId: string; path: string }): {
  list: Load<Listing>;
  entries: ComputedRef<FileEntry[]>;
} {
  const { api } = useServices();
  const list = useLoad(async (): Promise<Listing> => {
    const r = await api.files.listDir(where());
    const shown = r.entries.filter((e) => !(e.kind === FileKind.DIR && HIDDEN.has(e.name)));
    return { entries: shown.sort(byKindThenName), truncated: r.truncated };
  });
  watch(
    () => [where().workspaceId, where().path] as const,
    () => void list.run(),
    { immediate: true },
  );
  const entries = computed(() => list.data.value?.entries ?? []);
  return { list, entries };
}
