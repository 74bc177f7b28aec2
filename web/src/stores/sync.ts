/**
 * Keeps the stores current: the hub's `changed` frames refetch what they name, a reconnect
 * refetches what is shown (changes may have passed while the socket was down), and a socket
 * the hub closes or refuses makes the app ask whether the device is still signed in.
 */
import type { LiveClient } from "../live/live-client.ts";
import { useAgentsStore } from "./agents.ts";
import { useAuthStore } from "./auth.ts";
import { useWorkersStore } from "./workers.ts";
import { useWorkspacesStore } from "./workspaces.ts";

/** Wires the live client to the stores; returns the unwiring. Call once, in App's setup. */
export function syncStores(live: LiveClient): () => void {
  const auth = useAuthStore();
  const workspaces = useWorkspacesStore();
  const agents = useAgentsStore();
  const workers = useWorkersStore();
  // Refetches are best effort: a failure leaves the last list shown, the next change retries.
  const quietly = (p: Promise<unknown>) => void p.catch(() => {});
  let opened = false;

  const offs = [
    live.onChanged((c) => {
      switch (c.what) {
        case "workspaces":
        case "shares":
          quietly(workspaces.load());
          if (c.workspaceId && workspaces.shares[c.workspaceId])
            quietly(workspaces.loadShares(c.workspaceId));
          if (c.workspaceId && agents.byWorkspace[c.workspaceId])
            quietly(agents.load(c.workspaceId));
          return;
        case "agents":
          if (c.workspaceId && agents.byWorkspace[c.workspaceId])
            quietly(agents.load(c.workspaceId));
          return;
        case "workers":
          if (workers.loaded) quietly(workers.load());
          return;
        case "devices":
          if (auth.devices.length > 0) quietly(auth.loadDevices());
          return;
      }
    }),
    live.onState((s) => {
      if (s !== "open") return;
      if (opened) {
        quietly(workspaces.load());
        for (const id of agents.loadedWorkspaces()) quietly(agents.load(id));
      }
      opened = true;
    }),
    live.onClosing(() => quietly(auth.refresh())),
    live.onClose((info) => {
      if (!info.wasOpen) quietly(auth.refresh());
    }),
  ];
  return () => offs.forEach((off) => off());
}
