/** Diffs as rows: from two texts and from git's unified text, unified and side by side. */
import { expect, test } from "bun:test";
import { diffTexts, lineCount, parseUnified, splitRows } from "./diff.ts";

test("two texts: changed lines with their numbers, counted", () => {
  const f = diffTexts("a.ts", "one\ntwo\nthree\n", "one\n2\nthree\nfour\n");
  expect(f).toMatchObject({ oldPath: "a.ts", change: "modified", added: 2, removed: 1 });
  expect(f.hunks).toHaveLength(1);
  expect(f.hunks[0]!.lines).toEqual([
    { type: "ctx", oldNo: 1, newNo: 1, text: "one" },
    { type: "del", oldNo: 2, newNo: null, text: "two" },
    { type: "add", oldNo: null, newNo: 2, text: "2" },
    { type: "ctx", oldNo: 3, newNo: 3, text: "three" },
    { type: "add", oldNo: null, newNo: 4, text: "four" },
  ]);
});

test("no old text is a new file, all added", () => {
  const f = diffTexts("n.txt", null, "a\nb\n");
  expect(f.change).toBe("added");
  expect(f.hunks[0]!.lines.map((l) => `${l.type}:${l.newNo}:${l.text}`)).toEqual([
    "add:1:a",
    "add:2:b",
  ]);
});

const GIT = `diff --git a/x.ts b/x.ts
index 1111111..2222222 100644
--- a/x.ts
+++ b/x.ts
@@ -10,3 +10,3 @@ function f() {
 a
-b
+c
 d
\\ No newline at end of file
diff --git a/new.txt b/new.txt
new file mode 100644
index 0000000..e69de29
--- /dev/null
+++ b/new.txt
@@ -0,0 +1 @@
+hi
diff --git a/img.png b/img.png
Binary files a/img.png and b/img.png differ
`;

test("git's unified diff: files, what changed, line numbers from the hunk header", () => {
  const files = parseUnified(GIT);
  expect(files.map((f) => [f.newPath, f.change])).toEqual([
    ["x.ts", "modified"],
    ["new.txt", "added"],
    ["img.png", "binary"],
  ]);
  const lines = files[0]!.hunks[0]!.lines;
  expect(lines[1]).toEqual({ type: "del", oldNo: 11, newNo: null, text: "b" });
  expect(lines[2]).toEqual({ type: "add", oldNo: null, newNo: 11, text: "c" });
  expect(lines[4]).toMatchObject({ type: "note", text: "No newline at end of file" });
  expect(parseUnified("")).toEqual([]);
});

test("side by side: removals beside additions, context on both sides", () => {
  const f = diffTexts("a", "k\nx1\nx2\nk2\n", "k\ny1\nk2\n");
  const rows = splitRows(f);
  expect(rows[0]!.header).toMatch(/^@@/);
  const shown = rows.slice(1).map((r) => `${r.left?.text ?? "-"}|${r.right?.text ?? "-"}`);
  expect(shown).toEqual(["k|k", "x1|y1", "x2|-", "k2|k2"]);
  expect(lineCount(f)).toBe(6);
});
