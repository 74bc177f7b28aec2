/** The device cache's contract, on memory and on idb's fallback where IndexedDB is missing. */
import { expect, test } from "bun:test";
import { create } from "@bufbuild/protobuf";
import { EventSchema } from "@gen/switchboard/v1/common_pb.ts";
import { idbCache, memoryCache, type Cache } from "./cache.ts";

const ev = (seq: number) => create(EventSchema, { seq, json: `{"n":${seq}}` });

for (const [name, make] of [
  ["memory", () => memoryCache(3)],
  // Bun has no IndexedDB: idbCache must fall back to memory instead of failing the app.
  ["idb without IndexedDB", () => idbCache(3, "test")],
] as [string, () => Cache][]) {
  test(`${name}: appends, keeps the newest, resets, stores small values, clears`, async () => {
    const c = make();
    await c.append("s", [ev(1), ev(2)], false);
    await c.append("s", [ev(3), ev(4)], false);
    expect((await c.events("s")).map((e) => e.seq)).toEqual([2, 3, 4]);
    expect((await c.events("s"))[0]!.json).toBe('{"n":2}');
    await c.append("s", [ev(9)], true);
    expect((await c.events("s")).map((e) => e.seq)).toEqual([9]);
    expect(await c.events("other")).toEqual([]);
    await c.set("k", { a: [1, 2] });
    expect(await c.get<{ a: number[] }>("k")).toEqual({ a: [1, 2] });
    await c.clear();
    expect(await c.get("k")).toBeUndefined();
    expect(await c.events("s")).toEqual([]);
  });
}
