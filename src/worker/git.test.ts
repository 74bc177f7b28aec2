/**
 * Git reads on real repositories: status (staged, unstaged, untracked, renamed, upstream),
 * diffs of the working tree and the index (also with no commits yet), branches, log, a
 * workspace in a repository's subfolder, and a folder that is no repository at all.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { create, fromJsonString, type MessageInitShape } from "@bufbuild/protobuf";
import { mkdirSync, mkdtempSync, realpathSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import {
  GitBranchesResponseSchema,
  GitDiffResponseSchema,
  GitLogResponseSchema,
  GitStatusResponseSchema,
} from "../gen/switchboard/v1/files_pb.ts";
import { FileCallSchema } from "../gen/switchboard/v1/link_pb.ts";
import { handleFileCall } from "./files.ts";
import { MAX_DIFF_BYTES, parseBranchHeader, parseStatus, runCapped } from "./git.ts";
import { CommandError } from "./link.ts";

const made: string[] = [];
afterAll(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = realpathSync(mkdtempSync(path.join(tmpdir(), "switchboard-git-")));
  made.push(d);
  return d;
}

/** Fixed dates, so times can be checked: 2024-01-02T03:04:05Z plus `n` minutes. */
function dateEnv(n: number): Record<string, string> {
  const d = `${1704164645 + n * 60} +0000`;
  return { GIT_AUTHOR_DATE: d, GIT_COMMITTER_DATE: d };
}
const timeMs = (n: number) => (1704164645 + n * 60) * 1000;

/** Runs git as a user would, isolated from this machine's configuration. */
function git(cwd: string, args: string[], env: Record<string, string> = {}): string {
  const r = Bun.spawnSync(
    ["git", "-c", "user.name=Ada Lovelace", "-c", "user.email=ada@example.com", ...args],
    {
      cwd,
      env: { ...process.env, GIT_CONFIG_GLOBAL: "/dev/null", GIT_CONFIG_NOSYSTEM: "1", ...env },
    },
  );
  if (r.exitCode !== 0) throw new Error(`git ${args.join(" ")}: ${r.stderr.toString()}`);
  return r.stdout.toString();
}

function write(root: string, rel: string, content: string): void {
  const p = path.join(root, rel);
  mkdirSync(path.dirname(p), { recursive: true });
  writeFileSync(p, content);
}

function newRepo(): string {
  const dir = tempDir();
  git(dir, ["init", "-q", "-b", "main"]);
  return dir;
}

function commitAll(dir: string, message: string, n: number): void {
  git(dir, ["add", "-A"]);
  git(dir, ["commit", "-q", "-m", message], dateEnv(n));
}

type Call = MessageInitShape<typeof FileCallSchema>["call"];
const run = (root: string, call: Call) => handleFileCall(create(FileCallSchema, { root, call }));

async function status(root: string) {
  return fromJsonString(GitStatusResponseSchema, await run(root, { case: "gitStatus", value: {} }));
}
async function diff(root: string, staged = false, p = "") {
  return fromJsonString(
    GitDiffResponseSchema,
    await run(root, { case: "gitDiff", value: { staged, path: p } }),
  );
}
async function branches(root: string) {
  return fromJsonString(
    GitBranchesResponseSchema,
    await run(root, { case: "gitBranches", value: {} }),
  );
}
async function log(root: string, limit = 0) {
  return fromJsonString(
    GitLogResponseSchema,
    await run(root, { case: "gitLog", value: { limit } }),
  );
}

async function failure(p: Promise<unknown>): Promise<CommandError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(CommandError);
    return e as CommandError;
  }
  throw new Error("expected a CommandError, but it worked");
}

function files(s: Awaited<ReturnType<typeof status>>) {
  return s.files
    .map((f) => ({ path: f.path, index: f.index, worktree: f.worktree, origPath: f.origPath }))
    .sort((a, b) => (a.path < b.path ? -1 : 1));
}

/** A repository with three commits and every kind of change on top. */
function busyRepo(): string {
  const dir = newRepo();
  write(dir, "a.txt", "alpha\n");
  write(dir, "b.txt", "bravo\nbravo\nbravo\n");
  commitAll(dir, "first: add a and b", 0);
  write(dir, "c.txt", "charlie\n");
  commitAll(dir, "second – añadir c (100% done)", 1);
  write(dir, "a.txt", "alpha\nmore alpha\n");
  commitAll(dir, "third: grow a", 2);
  // Unstaged change, a staged new file, a staged rename, an untracked file, a unicode name.
  write(dir, "a.txt", "alpha\nmore alpha\nunstaged line\n");
  write(dir, "d.txt", "delta\n");
  git(dir, ["add", "d.txt"]);
  git(dir, ["mv", "b.txt", "renamed b.txt"]);
  write(dir, "untracked.txt", "u\n");
  write(dir, "ünïcode.txt", "u\n");
  return dir;
}

describe("status", () => {
  test("staged, unstaged, untracked and renamed files, with the branch", async () => {
    const dir = busyRepo();
    const s = await status(dir);
    expect(s.isRepo).toBe(true);
    expect(s.branch).toBe("main");
    expect(s.upstream).toBe("");
    expect([s.ahead, s.behind]).toEqual([0, 0]);
    expect(files(s)).toEqual([
      { path: "a.txt", index: " ", worktree: "M", origPath: "" },
      { path: "d.txt", index: "A", worktree: " ", origPath: "" },
      { path: "renamed b.txt", index: "R", worktree: " ", origPath: "b.txt" },
      { path: "untracked.txt", index: "?", worktree: "?", origPath: "" },
      { path: "ünïcode.txt", index: "?", worktree: "?", origPath: "" },
    ]);
  });

  test("upstream with ahead and behind", async () => {
    const dir = newRepo();
    write(dir, "f", "1\n");
    commitAll(dir, "one", 0);
    git(dir, ["branch", "base"]);
    write(dir, "f", "2\n");
    commitAll(dir, "two", 1);
    write(dir, "g", "1\n");
    commitAll(dir, "three", 2);
    git(dir, ["checkout", "-q", "base"]);
    write(dir, "h", "1\n");
    commitAll(dir, "on base", 3);
    git(dir, ["checkout", "-q", "main"]);
    git(dir, ["branch", "-q", "--set-upstream-to=base"]);
    const s = await status(dir);
    expect(s).toMatchObject({
      isRepo: true,
      branch: "main",
      upstream: "base",
      ahead: 2,
      behind: 1,
    });
    expect(s.files).toEqual([]);
  });

  test("a folder that is no repository is is_repo=false, and the other reads say so", async () => {
    const dir = tempDir();
    write(dir, "x.txt", "x\n");
    const s = await status(dir);
    expect(s.isRepo).toBe(false);
    expect(s.files).toEqual([]);
    // One at a time: a rejection nobody awaits yet would count as unhandled.
    for (const read of [diff, branches, log]) {
      const e = await failure(read(dir));
      expect(e.code).toBe("failed_precondition");
      expect(e.message).toContain("not a git repository");
    }
  });

  test("a workspace in a repository's subfolder sees its own files, relative", async () => {
    const dir = newRepo();
    write(dir, "top.txt", "top\n");
    write(dir, "sub/in.txt", "in\n");
    commitAll(dir, "init", 0);
    write(dir, "top.txt", "top changed\n");
    write(dir, "sub/in.txt", "in changed\n");
    write(dir, "sub/new.txt", "new\n");
    const sub = path.join(dir, "sub");
    const s = await status(sub);
    expect(s.isRepo).toBe(true);
    expect(files(s)).toEqual([
      { path: "in.txt", index: " ", worktree: "M", origPath: "" },
      { path: "new.txt", index: "?", worktree: "?", origPath: "" },
    ]);
    const d = await diff(sub);
    expect(d.diff).toContain("a/in.txt");
    expect(d.diff).toContain("+in changed");
    expect(d.diff).not.toContain("top");
    // The log is the repository's.
    expect((await log(sub)).commits.map((c) => c.subject)).toEqual(["init"]);
  });
});

describe("diff", () => {
  test("working tree against HEAD, and what is staged", async () => {
    const dir = busyRepo();
    const work = await diff(dir);
    expect(work.truncated).toBe(false);
    expect(work.diff).toContain("diff --git a/a.txt b/a.txt");
    expect(work.diff).toContain("+unstaged line");
    expect(work.diff).toContain("+delta");
    expect(work.diff).toContain("rename to renamed b.txt");
    expect(work.diff).not.toContain("untracked");

    const staged = await diff(dir, true);
    expect(staged.diff).toContain("+delta");
    expect(staged.diff).toContain("rename from b.txt");
    expect(staged.diff).not.toContain("unstaged line");
  });

  test("one path, including a deleted one; paths are confined", async () => {
    const dir = busyRepo();
    const a = await diff(dir, false, "a.txt");
    expect(a.diff).toContain("+unstaged line");
    expect(a.diff).not.toContain("delta");
    unlinkSync(path.join(dir, "c.txt"));
    const c = await diff(dir, false, "c.txt");
    expect(c.diff).toContain("deleted file mode");
    expect(c.diff).toContain("-charlie");
    // Glob characters are taken literally.
    expect((await diff(dir, false, "*.txt")).diff).toBe("");
    for (const bad of ["../x", "/etc/passwd", "a/../../x", "x\0y"]) {
      expect((await failure(diff(dir, false, bad))).code).toBe("permission_denied");
    }
  });

  test("a repository with no commits yet diffs against the empty tree", async () => {
    const dir = newRepo();
    write(dir, "first.txt", "one\n");
    git(dir, ["add", "first.txt"]);
    write(dir, "first.txt", "one\ntwo\n");
    write(dir, "loose.txt", "untracked\n");

    const s = await status(dir);
    expect(s.branch).toBe("main");
    expect(files(s)).toEqual([
      { path: "first.txt", index: "A", worktree: "M", origPath: "" },
      { path: "loose.txt", index: "?", worktree: "?", origPath: "" },
    ]);
    const work = await diff(dir);
    expect(work.diff).toContain("new file mode");
    expect(work.diff).toContain("+one\n+two\n");
    const staged = await diff(dir, true);
    expect(staged.diff).toContain("+one\n");
    expect(staged.diff).not.toContain("+two");
    expect((await log(dir)).commits).toEqual([]);
    const b = await branches(dir);
    expect(b.branches.map((x) => [x.name, x.current, x.lastCommitMs])).toEqual([["main", true, 0]]);
  });

  test("a huge diff is cut at a line end and marked truncated", async () => {
    const dir = newRepo();
    write(dir, "big.txt", "seed\n");
    commitAll(dir, "seed", 0);
    write(
      dir,
      "big.txt",
      "a line of text that repeats\n".repeat(Math.ceil((MAX_DIFF_BYTES * 1.5) / 28)),
    );
    const d = await diff(dir);
    expect(d.truncated).toBe(true);
    expect(Buffer.byteLength(d.diff)).toBeLessThanOrEqual(MAX_DIFF_BYTES);
    expect(Buffer.byteLength(d.diff)).toBeGreaterThan(MAX_DIFF_BYTES - 100);
    expect(d.diff.endsWith("+a line of text that repeats\n")).toBe(true);
  });
});

describe("branches and log", () => {
  test("branches with the current one, upstreams and last commit times", async () => {
    const dir = newRepo();
    write(dir, "f", "1\n");
    commitAll(dir, "one", 0);
    git(dir, ["branch", "feature/x"]);
    write(dir, "f", "2\n");
    commitAll(dir, "two", 5);
    git(dir, ["branch", "-q", "--set-upstream-to=feature/x"]);
    const b = await branches(dir);
    expect(b.branches.map((x) => [x.name, x.current, x.upstream, x.lastCommitMs])).toEqual([
      ["feature/x", false, "", timeMs(0)],
      ["main", true, "feature/x", timeMs(5)],
    ]);
    // Detached: no branch is current.
    git(dir, ["checkout", "-q", "--detach"]);
    expect((await branches(dir)).branches.some((x) => x.current)).toBe(false);
    expect((await status(dir)).branch).toBe("HEAD");
  });

  test("log: newest first, with hash, author, time and subject; limited", async () => {
    const dir = busyRepo();
    const l = await log(dir);
    expect(l.commits.map((c) => c.subject)).toEqual([
      "third: grow a",
      "second – añadir c (100% done)",
      "first: add a and b",
    ]);
    const head = git(dir, ["rev-parse", "HEAD"]).trim();
    expect(l.commits[0]).toMatchObject({ hash: head, author: "Ada Lovelace", timeMs: timeMs(2) });
    expect(l.commits.every((c) => /^[0-9a-f]{40}$/.test(c.hash))).toBe(true);
    expect((await log(dir, 2)).commits.map((c) => c.timeMs)).toEqual([timeMs(2), timeMs(1)]);
  });
});

describe("parsing and running", () => {
  test("branch headers of every shape", () => {
    expect(parseBranchHeader("## main")).toEqual({
      branch: "main",
      upstream: "",
      ahead: 0,
      behind: 0,
    });
    expect(parseBranchHeader("## main...origin/main [ahead 3, behind 4]")).toEqual({
      branch: "main",
      upstream: "origin/main",
      ahead: 3,
      behind: 4,
    });
    expect(parseBranchHeader("## dev...origin/dev [behind 2]")).toMatchObject({
      behind: 2,
      ahead: 0,
    });
    expect(parseBranchHeader("## dev...origin/dev [gone]")).toMatchObject({
      branch: "dev",
      upstream: "origin/dev",
      ahead: 0,
    });
    expect(parseBranchHeader("## No commits yet on trunk")).toMatchObject({ branch: "trunk" });
    expect(parseBranchHeader("## Initial commit on trunk")).toMatchObject({ branch: "trunk" });
    expect(parseBranchHeader("## HEAD (no branch)")).toMatchObject({ branch: "HEAD" });
  });

  test("status output cut mid-entry keeps the whole entries only", () => {
    const raw = "## main\0R  sub/new\0sub/old\0 M sub/x\0?? sub/partial-na";
    expect(parseStatus(raw, "sub/").files).toEqual([
      { path: "new", index: "R", worktree: " ", origPath: "old" },
      { path: "x", index: " ", worktree: "M", origPath: "" },
    ]);
  });

  test("commands are killed at their timeout and at their output bound", async () => {
    const slow = await runCapped(["sleep", "5"], { cwd: tmpdir(), timeoutMs: 100, maxBytes: 10 });
    expect(slow.timedOut).toBe(true);
    expect(slow.code).toBeNull();
    const loud = await runCapped(["yes"], { cwd: tmpdir(), timeoutMs: 5_000, maxBytes: 1_000 });
    expect(loud.truncated).toBe(true);
    expect(loud.timedOut).toBe(false);
    expect(loud.stdout.length).toBe(1_000);
    const missing = await failure(
      runCapped(["definitely-not-a-program-xyz"], {
        cwd: tmpdir(),
        timeoutMs: 1_000,
        maxBytes: 10,
      }),
    );
    expect(missing.code).toBe("failed_precondition");
  });
});
