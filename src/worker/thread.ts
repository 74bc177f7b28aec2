/**
 * The hub's own worker on a thread of its own: the same worker as a remote one (it dials the
 * hub's /link over loopback), inside the hub's process, so agents run on the hub's machine
 * with no second process, and storing/fanning out (the hub's thread) and running agents (this
 * one) use two cores.
 */
import { startWorker, type RunningWorker, type WorkerRunOptions } from "./worker.ts";

declare const self: Worker;

export type ThreadMessage =
  { type: "start"; opts: Omit<WorkerRunOptions, "log" | "onState"> } | { type: "stop" };

let running: RunningWorker | null = null;

self.onmessage = async (e: MessageEvent<ThreadMessage>) => {
  const m = e.data;
  if (m.type === "start") {
    try {
      running = await startWorker(m.opts);
      self.postMessage({ type: "started" });
    } catch (err) {
      self.postMessage({ type: "failed", message: (err as Error).message });
    }
  } else if (m.type === "stop") {
    await running?.stop();
    self.postMessage({ type: "stopped" });
  }
};
