/** Porcelain letters as words, and which diff shows a change. */
import { expect, test } from "bun:test";
import { create } from "@bufbuild/protobuf";
import { GitFileStatusSchema } from "@gen/switchboard/v1/files_pb.ts";
import { describeChange } from "./status.ts";

const change = (index: string, worktree: string, origPath = "") =>
  describeChange(create(GitFileStatusSchema, { path: "a.ts", index, worktree, origPath }));

test("working tree, staged, both, untracked and conflicts", () => {
  expect(change(" ", "M")).toMatchObject({ label: "modified", letter: "M", staged: false });
  expect(change("A", " ")).toMatchObject({ label: "staged: added", letter: "A", staged: true });
  expect(change("M", "M")).toMatchObject({ label: "modified, partly staged", both: true });
  expect(change("?", "?")).toMatchObject({ label: "untracked", untracked: true, staged: false });
  expect(change("U", "U")).toMatchObject({ label: "conflict", conflict: true });
  expect(change("A", "A")).toMatchObject({ conflict: true });
  expect(change("R", " ", "old.ts")).toMatchObject({
    label: "staged: renamed",
    origPath: "old.ts",
  });
});
