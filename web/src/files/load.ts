/**
 * A read the view shows: its result, whether it runs, its error sentence. Only the latest run
 * counts, so a quick click through folders never shows an older folder's answer last.
 */
import { reactive, shallowRef, type ShallowRef } from "vue";
import { errorMessage } from "../api/errors.ts";

export interface Load<T> {
  readonly data: ShallowRef<T | null>;
  readonly state: { pending: boolean; error: string | null };
  run(): Promise<void>;
}

export function useLoad<T>(fn: () => Promise<T>): Load<T> {
  const data = shallowRef<T | null>(null);
  const state = reactive({ pending: false, error: null as string | null });
  let latest = 0;
  async function run() {
    const mine = ++latest;
    state.pending = true;
    state.error = null;
    data.value = null;
    try {
      const value = await fn();
      if (mine === latest) data.value = value;
    } catch (err) {
      if (mine === latest) state.error = errorMessage(err);
    } finally {
      if (mine === latest) state.pending = false;
    }
  }
  return { data, state, run };
}
