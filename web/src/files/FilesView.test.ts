/**
 * The files view against a FileService answered in memory: the tree with git's letters, a file
 * highlighted with line numbers, the changed files and their diff; and on a phone, one thing
 * at a time.
 */
import { afterEach, expect, test } from "bun:test";
import { create } from "@bufbuild/protobuf";
import { flushPromises, mount } from "@vue/test-utils";
import { createMemoryHistory, createRouter } from "vue-router";
import {
  FileEntrySchema,
  FileKind,
  FileService,
  GitFileStatusSchema,
  type GitDiffRequest,
} from "@gen/switchboard/v1/files_pb.ts";
import { SERVICES } from "../services.ts";
import { testApp } from "../testing/app.ts";
import { useDom } from "../testing/dom.ts";
import FilesView from "../views/FilesView.vue";

useDom();

const DIFF = `diff --git a/src/a.ts b/src/a.ts
index 1111111..2222222 100644
--- a/src/a.ts
+++ b/src/a.ts
@@ -1,2 +1,2 @@
 const a = 1;
-const b = 2;
+const b = 3;
`;

const diffs: GitDiffRequest[] = [];
function setup() {
  const t = testApp({
    routes: (r) =>
      r.service(FileService, {
        listDir: (req) => ({
          path: req.path,
          entries:
            req.path === ""
              ? [
                  create(FileEntrySchema, { name: "README.md", kind: FileKind.FILE, size: 10 }),
                  create(FileEntrySchema, { name: "src", kind: FileKind.DIR }),
                ]
              : [create(FileEntrySchema, { name: "a.ts", kind: FileKind.FILE, size: 26 })],
        }),
        readFile: (req) => ({ path: req.path, size: 26, text: "const a = 1;\nconst b = 3;\n" }),
        gitStatus: () => ({
          isRepo: true,
          branch: "main",
          files: [create(GitFileStatusSchema, { path: "src/a.ts", index: " ", worktree: "M" })],
        }),
        gitDiff: (req) => (diffs.push(req), { diff: DIFF }),
      }),
  });
  const router = createRouter({
    history: createMemoryHistory(),
    routes: [
      { path: "/w/:workspaceId", name: "agents", component: { render: () => null } },
      {
        path: "/w/:workspaceId/files",
        name: "files",
        component: FilesView,
        props: (r) => ({
          workspaceId: String(r.params.workspaceId),
          path: typeof r.query.path === "string" ? r.query.path : "",
          file: typeof r.query.file === "string" ? r.query.file : "",
        }),
      },
    ],
  });
  const App = { template: "<RouterView />" };
  return { t, router, App };
}

let restoreWidth: number | null = null;
afterEach(() => {
  if (restoreWidth !== null) setWidth(restoreWidth);
  restoreWidth = null;
});
function setWidth(width: number) {
  (
    window as unknown as { happyDOM: { setViewport(v: { width: number }): void } }
  ).happyDOM.setViewport({
    width,
  });
}

test("desktop: the tree opens to the file, marks its change, and shows it numbered", async () => {
  const { t, router, App } = setup();
  await router.push("/w/w1/files?path=src&file=src/a.ts");
  const w = mount(App, {
    global: { plugins: [router], provide: { [SERVICES as symbol]: t.services } },
  });
  await flushPromises();
  const tree = w.find('aside[aria-label="File tree"]');
  expect(tree.text()).toContain("README.md");
  expect(tree.find('button[aria-expanded="true"]').text()).toContain("src");
  const current = tree.find('[aria-current="page"]');
  expect(current.text()).toContain("a.ts");
  expect(current.find(".git").text()).toBe("M");
  const code = w.find("section .code");
  expect(code.find(".gutter").text()).toBe("1\n2");
  expect(code.find(".body").text()).toContain("const b = 3;");
  w.unmount();
});

test("desktop: the changes tab lists changed files and shows a file's diff", async () => {
  const { t, router, App } = setup();
  await router.push("/w/w1/files?changes=1&diff=src/a.ts");
  const w = mount(App, {
    global: { plugins: [router], provide: { [SERVICES as symbol]: t.services } },
  });
  await flushPromises();
  expect(w.find('nav[aria-label="Files or changes"] [aria-current="page"]').text()).toContain(
    "Changes",
  );
  const side = w.find('aside[aria-label="Changed files"]');
  expect(side.text()).toContain("main");
  expect(side.find('[aria-current="page"]').text()).toContain("modified");
  expect(diffs.at(-1)).toMatchObject({ path: "src/a.ts", staged: false });
  expect(w.find(".diff .del .text").text()).toBe("const b = 2;");
  expect(w.find(".diff .add .text").text()).toBe("const b = 3;");
  // Side by side on a desktop: the removal and the addition share a row.
  expect(w.find(".diff .split").exists()).toBe(true);
  w.unmount();
});

test("phone: the folder as a list, and a diff unified, on its own", async () => {
  restoreWidth = window.innerWidth;
  setWidth(400);
  const { t, router, App } = setup();
  await router.push("/w/w1/files");
  const w = mount(App, {
    global: { plugins: [router], provide: { [SERVICES as symbol]: t.services } },
  });
  await flushPromises();
  expect(w.find("aside").exists()).toBe(false);
  expect(w.find('section[aria-label="Folder contents"]').text()).toContain("src/");
  await router.push("/w/w1/files?changes=1&diff=src/a.ts");
  await flushPromises();
  expect(w.find('nav[aria-label="Files or changes"]').exists()).toBe(false);
  expect(w.find(".diff .unified").exists()).toBe(true);
  expect(w.find(".diff .del .text").text()).toBe("const b = 2;");
  w.unmount();
});
