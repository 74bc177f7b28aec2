/**
 * Git's porcelain status letters (GitFileStatus: index and worktree) as words, and which diff
 * shows a file's change: the working tree's when it has one, else what is staged.
 */
import type { GitFileStatus } from "@gen/switchboard/v1/files_pb.ts";

const WORDS: Record<string, string> = {
  M: "modified",
  A: "added",
  D: "deleted",
  R: "renamed",
  C: "copied",
  T: "type changed",
  U: "conflict",
  "?": "untracked",
  "!": "ignored",
};

export interface FileChange {
  path: string;
  origPath: string;
  /** What happened, in words ("modified", "staged: added", …). */
  label: string;
  /** The letter shown as a badge. */
  letter: string;
  untracked: boolean;
  conflict: boolean;
  /** Whether its diff is the staged one (nothing changed in the working tree). */
  staged: boolean;
  /** Both staged and working tree changes: both diffs exist. */
  both: boolean;
}

const blank = (c: string) => c === "" || c === " ";

export function describeChange(f: GitFileStatus): FileChange {
  const index = f.index || " ";
  const worktree = f.worktree || " ";
  const untracked = index === "?" || worktree === "?";
  const conflict =
    index === "U" || worktree === "U" || (index === worktree && (index === "A" || index === "D"));
  const staged = !untracked && blank(worktree) && !blank(index);
  const both = !untracked && !blank(worktree) && !blank(index);
  let label: string;
  if (untracked) label = "untracked";
  else if (conflict) label = "conflict";
  else if (staged) label = `staged: ${WORDS[index] ?? index}`;
  else if (both) label = `${WORDS[worktree] ?? worktree}, partly staged`;
  else label = WORDS[worktree] ?? worktree;
  const letter = untracked ? "?" : conflict ? "U" : blank(worktree) ? index : worktree;
  return { path: f.path, origPath: f.origPath, label, letter, untracked, conflict, staged, both };
}
