/** The hub's workers (the owner's view): online state, registration keys, revocation. */
import { defineStore } from "pinia";
import { ref, shallowRef } from "vue";
import type { Worker } from "@gen/switchboard/v1/worker_pb.ts";
import { useServices } from "../services.ts";

export const useWorkersStore = defineStore("workers", () => {
  const { api } = useServices();
  const list = shallowRef<Worker[]>([]);
  const loaded = ref(false);

  async function load(): Promise<void> {
    list.value = (await api.workers.listWorkers({})).workers;
    loaded.value = true;
  }

  /** A one-time key (valid an hour) for `switchboard-worker connect --key`. */
  async function createKey(): Promise<{ key: string; expiresAtMs: number }> {
    const { key, expiresAtMs } = await api.workers.createWorkerKey({});
    return { key, expiresAtMs };
  }

  async function revoke(workerId: string): Promise<void> {
    await api.workers.revokeWorker({ workerId });
    await load();
  }

  return { list, loaded, load, createKey, revoke };
});
