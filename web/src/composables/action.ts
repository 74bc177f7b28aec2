/**
 * A button's async work: whether it runs, and the sentence to show when it failed (the hub's
 * message, never a stack trace). Returned reactive, so templates read `save.pending`.
 */
import { reactive } from "vue";
import { errorMessage } from "../api/errors.ts";

export interface Action<A extends unknown[], R> {
  pending: boolean;
  error: string | null;
  /** Runs the work; resolves to its result, or undefined when it failed (error is set). */
  run(...args: A): Promise<R | undefined>;
}

export function useAction<A extends unknown[], R>(fn: (...args: A) => Promise<R>): Action<A, R> {
  const state: Action<A, R> = reactive({
    pending: false,
    error: null as string | null,
    async run(...args: A): Promise<R | undefined> {
      state.pending = true;
      state.error = null;
      try {
        return await fn(...args);
      } catch (err) {
        state.error = errorMessage(err);
        return undefined;
      } finally {
        state.pending = false;
      }
    },
  }) as Action<A, R>;
  return state;
}
