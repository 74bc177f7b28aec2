/** A folder's listing for the file views: folders first, then by name; read again on change. */
import { expect, test } from "bun:test";
import { create } from "@bufbuild/protobuf";
import { flushPromises } from "@vue/test-utils";
import { effectScope, ref } from "vue";
import { FileEntrySchema, FileKind, FileService } from "@gen/switchboard/v1/files_pb.ts";
import { testApp } from "../testing/app.ts";
import { childPath, useFolder } from "./folder.ts";

test("childPath: a name in the root stands alone, elsewhere after its folder", () => {
  expect(childPath("", "a.ts")).toBe("a.ts");
  expect(childPath("src/lib", "a.ts")).toBe("src/lib/a.ts");
});

test("useFolder lists folders first, then by name, without git's folder, and reads again when the folder changes", async () => {
  const asked: string[] = [];
  const t = testApp({
    routes: (r) =>
      r.service(FileService, {
        listDir: (req) => {
          asked.push(`${req.workspaceId}:${req.path}`);
          const entry = (name: string, kind: FileKind) => create(FileEntrySchema, { name, kind });
          return {
            path: req.path,
            truncated: req.path === "big",
            entries: [
              entry("b.ts", FileKind.FILE),
              entry("zeta", FileKind.DIR),
              entry("a.ts", FileKind.FILE),
              entry("alpha", FileKind.DIR),
              entry(".git", FileKind.DIR),
              entry(".gitignore", FileKind.FILE),
            ],
          };
        },
      }),
  });
  const path = ref("");
  const scope = effectScope();
  const { list, entries } = t.run(() =>
    scope.run(() => useFolder(() => ({ workspaceId: "w1", path: path.value })))!,
  );
  expect(entries.value).toEqual([]);
  await flushPromises();
  expect(entries.value.map((e) => e.name)).toEqual(["alpha", "zeta", ".gitignore", "a.ts", "b.ts"]);
  expect(list.data.value?.truncated).toBe(false);

  path.value = "big";
  await flushPromises();
  expect(asked).toEqual(["w1:", "w1:big"]);
  expect(list.data.value?.truncated).toBe(true);
  scope.stop();
});
