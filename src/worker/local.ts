/** Starts and stops the hub's own worker on its thread (thread.ts). */
import type { ThreadMessage } from "./thread.ts";
import type { WorkerRunOptions } from "./worker.ts";

/** How long the hub waits for its worker to stop its agents before it goes anyway. */
const STOP_WAIT_MS = 10_000;

export interface LocalWorker {
  stop(): Promise<void>;
}

export async function startLocalWorker(
  opts: Omit<WorkerRunOptions, "log" | "onState">,
): Promise<LocalWorker> {
  const thread = new Worker(new URL("./thread.ts", import.meta.url).href);
  const reply = (want: string) =>
    new Promise<{ type: string; message?: string }>((resolve) => {
      const on = (e: MessageEvent<{ type: string; message?: string }>) => {
        if (e.data.type === want || e.data.type === "failed") {
          thread.removeEventListener("message", on);
          resolve(e.data);
        }
      };
      thread.addEventListener("message", on);
    });
  const started = reply("started");
  thread.postMessage({ type: "start", opts } satisfies ThreadMessage);
  const r = await started;
  if (r.type === "failed") {
    thread.terminate();
    throw new Error(`the local worker did not start: ${r.message}`);
  }
  return {
    async stop() {
      const stopped = reply("stopped");
      thread.postMessage({ type: "stop" } satisfies ThreadMessage);
      await Promise.race([stopped, Bun.sleep(STOP_WAIT_MS)]);
      thread.terminate();
    },
  };
}
