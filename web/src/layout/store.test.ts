import { expect, test } from "bun:test";
import { WorkspaceService } from "@gen/switchboard/v1/workspace_pb.ts";
import { testApp } from "../testing/app.ts";
import { emptyStored, parseStored, single, split, withLayout } from "./layout.ts";
import { useLayoutStore } from "./store.ts";

function hub(initial: string) {
  const saved: string[] = [];
  const state = { json: initial };
  let release: () => void = () => {};
  const gate = new Promise<void>((r) => (release = r));
  const t = testApp({
    routes: (r) =>
      r.service(WorkspaceService, {
        getLayout: async () => {
          await gate;
          return { json: state.json, updatedAtMs: 1 };
        },
        saveLayout: (req) => {
          saved.push(req.json);
          state.json = req.json;
          return { updatedAtMs: 2 };
        },
      }),
  });
  return { t, saved, release, state };
}

test("the stored layout is restored, and changes are saved beside the other workspaces'", async () => {
  const before = withLayout(emptyStored(), "other", single({ kind: "start" }));
  const mine = split(single({ kind: "agent", agentId: "a" }), 0, {
    kind: "files",
    path: "",
    file: "",
  });
  const start = withLayout(before, "w1", mine);
  const { t, saved, release } = hub(JSON.stringify(start));
  const store = t.run(() => useLayoutStore());
  release();
  await store.load();
  const back = store.restored("w1")!;
  expect(back.panes.map((p) => p.content)).toEqual(mine.panes.map((p) => p.content));
  expect(store.restored("nowhere")).toBeNull();

  store.set("w1", split(back, 1, { kind: "terminal", agentId: "t1" }));
  await store.flush();
  expect(saved.length).toBe(1);
  const s = parseStored(saved[0]!);
  expect(s.workspaces.map((w) => w.id)).toEqual(["other", "w1"]);
  expect(s.workspaces[1]!.panes.map((p) => p.c.kind)).toEqual(["agent", "files", "terminal"]);
  // Nothing changed since: no second save.
  await store.flush();
  expect(saved.length).toBe(1);
});

test("a change made before the hub answered waits for it, so other layouts survive", async () => {
  const other = withLayout(emptyStored(), "other", single({ kind: "start" }));
  const { t, saved, release } = hub(JSON.stringify(other));
  const store = t.run(() => useLayoutStore());
  void store.load();
  store.set("w1", single({ kind: "agent", agentId: "a" }));
  const flushing = store.flush();
  await Promise.resolve();
  expect(saved.length).toBe(0);
  release();
  await flushing;
  expect(parseStored(saved[0]!).workspaces.map((w) => w.id)).toEqual(["other", "w1"]);
});

test("a layout the hub cannot give (invalid JSON) starts afresh", async () => {
  const { t, release } = hub("{ not json");
  const store = t.run(() => useLayoutStore());
  release();
  await store.load();
  expect(store.restored("w1")).toBeNull();
});

test("a save keeps what another desktop saved meanwhile for other workspaces", async () => {
  const { t, saved, release, state } = hub("");
  const store = t.run(() => useLayoutStore());
  release();
  await store.load();
  // Another desktop saves its layout of w2 after this page read the (empty) layouts.
  state.json = JSON.stringify(withLayout(emptyStored(), "w2", single({ kind: "start" })));
  store.set("w1", single({ kind: "agent", agentId: "a" }));
  await store.flush();
  expect(parseStored(saved[0]!).workspaces.map((w) => w.id)).toEqual(["w2", "w1"]);
});
