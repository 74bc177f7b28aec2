/** The workspaces the user owns or was given, and who each is shared with. */
import { defineStore } from "pinia";
import { computed, reactive, ref, shallowRef } from "vue";
import type { Role } from "@gen/switchboard/v1/common_pb.ts";
import type { Share, Workspace } from "@gen/switchboard/v1/workspace_pb.ts";
import { isNetworkError } from "../api/errors.ts";
import { useServices } from "../services.ts";

const LIST_KEY = "workspaces";

export const useWorkspacesStore = defineStore("workspaces", () => {
  const { api, cache } = useServices();
  const list = shallowRef<Workspace[]>([]);
  /** The list came from the hub at least once this session (else it is cached or empty). */
  const loaded = ref(false);
  const shares = reactive<Record<string, Share[]>>({});

  function byId(id: string): Workspace | undefined {
    return list.value.find((w) => w.id === id);
  }

  /** The cached list at once (if nothing is shown yet), then the hub's. */
  async function load(): Promise<void> {
    if (list.value.length === 0) {
      const cached = await cache.get<Workspace[]>(LIST_KEY);
      if (cached && !loaded.value) list.value = cached;
    }
    try {
      const { workspaces } = await api.workspaces.listWorkspaces({});
      list.value = workspaces;
      loaded.value = true;
      await cache.set(LIST_KEY, workspaces);
    } catch (err) {
      // Offline with a cached list: show it; the next reconnect loads again.
      if (!(isNetworkError(err) && list.value.length > 0)) throw err;
    }
  }

  async function create(name: string, workerId: string, path: string): Promise<Workspace> {
    const { workspace } = await api.workspaces.createWorkspace({ name, workerId, path });
    await load();
    return workspace!;
  }

  async function remove(workspaceId: string): Promise<void> {
    await api.workspaces.deleteWorkspace({ workspaceId });
    await load();
  }

  async function loadShares(workspaceId: string): Promise<void> {
    shares[workspaceId] = (await api.workspaces.listShares({ workspaceId })).shares;
  }

  async function share(workspaceId: string, userName: string, role: Role): Promise<void> {
    await api.workspaces.shareWorkspace({ workspaceId, userName, role });
    await loadShares(workspaceId);
  }

  async function unshare(workspaceId: string, userId: string): Promise<void> {
    await api.workspaces.unshareWorkspace({ workspaceId, userId });
    await loadShares(workspaceId);
  }

  const count = computed(() => list.value.length);

  return { list, loaded, shares, count, byId, load, create, remove, loadShares, share, unshare };
});
