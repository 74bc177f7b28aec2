/**
 * Git reads of a workspace through the git CLI: status, diff, branches and log.
 *
 * Every command runs with an argv (never a shell), in the real workspace folder, with a
 * timeout and bounded output, without a terminal prompt and without optional locks, so a
 * browser looking at a repository never blocks or disturbs the agent working in it. The
 * worker's own GIT_* variables are dropped so that git finds the workspace's repository and
 * nothing else. When the workspace is a subfolder of a repository, status and diff cover
 * that subfolder only (paths relative to it); branches and log are the repository's.
 */
import { create, toJsonString, type MessageInitShape } from "@bufbuild/protobuf";
import {
  GitBranchesResponseSchema,
  GitDiffResponseSchema,
  GitLogResponseSchema,
  GitStatusResponseSchema,
  GitBranchSchema,
  type GitBranchesRequest,
  GitCommitSchema,
  type GitDiffRequest,
  GitFileStatusSchema,
  type GitLogRequest,
  type GitStatusRequest,
} from "../gen/switchboard/v1/files_pb.ts";
import { confine, realRel, type Root } from "./confine.ts";
import { CommandError } from "./link.ts";

/** A git command taking longer than this is killed. */
export const GIT_TIMEOUT_MS = 10_000;
/** Diff text beyond this is cut (at a line end) and marked truncated. */
export const MAX_DIFF_BYTES = 2 * 1024 * 1024;
/** Status output beyond this is cut at the last whole entry (the response has no flag). */
export const MAX_STATUS_BYTES = 4 * 1024 * 1024;
/** Branches listed at most. */
export const MAX_BRANCHES = 1_000;
/** Commits in a log: the default and the most. */
export const DEFAULT_LOG_LIMIT = 50;
export const MAX_LOG_LIMIT = 500;
/** Output read from any other git command at most. */
const MAX_OUTPUT_BYTES = 4 * 1024 * 1024;
/** Error output kept for messages. */
const MAX_STDERR_BYTES = 64 * 1024;

// ---------------------------------------------------------------------------------------------
// Running commands

export interface RunOptions {
  cwd: string;
  env?: Record<string, string | undefined>;
  timeoutMs: number;
  /** Stdout read at most; the process is killed past it and the result marked truncated. */
  maxBytes: number;
  /** Takes stdout as it comes instead of collecting it; return false to stop (and kill). */
  onData?: (chunk: Uint8Array) => boolean;
}

export interface RunResult {
  /** Exit code; null when killed. */
  code: number | null;
  /** Collected stdout (empty with onData), at most maxBytes. */
  stdout: Uint8Array;
  stderr: string;
  /** Stdout went past maxBytes. */
  truncated: boolean;
  timedOut: boolean;
  /** onData asked to stop. */
  stopped: boolean;
}

/**
 * Runs argv (no shell) with a timeout and bounded output; never rejects for a failing exit
 * code. Throws CommandError(failed_precondition) when the program cannot be started.
 */
export async function runCapped(argv: string[], opts: RunOptions): Promise<RunResult> {
  let proc: Bun.Subprocess<"ignore", "pipe", "pipe">;
  try {
    proc = Bun.spawn(argv, {
      cwd: opts.cwd,
      env: opts.env ?? (process.env as Record<string, string | undefined>),
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
    });
  } catch (e) {
    throw new CommandError("failed_precondition", `cannot run ${argv[0]}: ${(e as Error).message}`);
  }
  const reader = proc.stdout.getReader();
  const errReader = proc.stderr.getReader();
  let timedOut = false;
  let truncated = false;
  let stopped = false;
  const halt = () => {
    proc.kill(9);
    // A grandchild could hold the pipe open; stop waiting on it.
    void reader.cancel().catch(() => {});
    void errReader.cancel().catch(() => {});
  };
  const timer = setTimeout(() => {
    timedOut = true;
    halt();
  }, opts.timeoutMs);

  const stderrDone = (async () => {
    const chunks: Uint8Array[] = [];
    let kept = 0;
    try {
      for (;;) {
        const { done, value } = await errReader.read();
        if (done) break;
        if (kept < MAX_STDERR_BYTES) {
          const part = value.subarray(0, MAX_STDERR_BYTES - kept);
          chunks.push(part);
          kept += part.length;
        }
      }
    } catch {
      // Cancelled with the process.
    }
    return new TextDecoder().decode(concat(chunks));
  })();

  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      let chunk = value;
      if (total + chunk.length > opts.maxBytes) {
        chunk = chunk.subarray(0, opts.maxBytes - total);
        truncated = true;
      }
      total += chunk.length;
      if (opts.onData) {
        if (chunk.length > 0 && !opts.onData(chunk)) stopped = true;
      } else if (chunk.length > 0) {
        chunks.push(chunk);
      }
      if (truncated || stopped) {
        halt();
        break;
      }
    }
  } catch {
    // Cancelled after a timeout (or onData threw): make sure nothing is left running.
    halt();
  }
  // Still under the timer: a grandchild holding stderr open must not hang us either.
  const code = await proc.exited;
  const stderr = await stderrDone;
  clearTimeout(timer);
  return {
    code: timedOut || stopped || truncated ? null : code,
    stdout: concat(chunks),
    stderr,
    truncated,
    timedOut,
    stopped,
  };
}

function concat(chunks: Uint8Array[]): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/**
 * The environment git runs with: the worker's, minus anything that would point git at
 * another repository or change its output, plus no prompts and no optional locks.
 */
export function gitEnv(): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(process.env)) {
    // GIT_DIR, GIT_WORK_TREE, GIT_INDEX_FILE, config and pathspec switches: all the worker's
    // own business, never the workspace's. Where git lives and where discovery stops are kept.
    const keep = k === "GIT_EXEC_PATH" || k === "GIT_CEILING_DIRECTORIES";
    if ((k.startsWith("GIT_") && !keep) || k === "LC_ALL" || k === "LANGUAGE") continue;
    env[k] = v;
  }
  env.GIT_TERMINAL_PROMPT = "0";
  env.GIT_OPTIONAL_LOCKS = "0";
  env.GIT_PAGER = "cat";
  // Untranslated messages (status headers, errors we look at); file names keep LC_CTYPE.
  env.LC_MESSAGES = "C";
  return env;
}

/** Options that keep git's output plain whatever the user's configuration says. */
export const GIT_CONFIG = [
  "-c",
  "core.quotepath=off",
  "-c",
  "color.ui=false",
  "-c",
  "log.showSignature=false",
];

export interface GitRun extends RunResult {
  text: string;
}

/** Runs `git <args>` in the workspace; times out as deadline_exceeded. */
export async function git(
  cwd: string,
  args: string[],
  opts: { maxBytes?: number; timeoutMs?: number } = {},
): Promise<GitRun> {
  const r = await runCapped(["git", ...GIT_CONFIG, ...args], {
    cwd,
    env: gitEnv(),
    timeoutMs: opts.timeoutMs ?? GIT_TIMEOUT_MS,
    maxBytes: opts.maxBytes ?? MAX_OUTPUT_BYTES,
  });
  if (r.timedOut) {
    throw new CommandError(
      "deadline_exceeded",
      `git ${args[0]} took longer than ${(opts.timeoutMs ?? GIT_TIMEOUT_MS) / 1000} s`,
    );
  }
  return { ...r, text: new TextDecoder().decode(r.stdout) };
}

/** Runs git and requires success; failures are internal errors quoting git. */
async function gitOk(cwd: string, args: string[], opts?: { maxBytes?: number }): Promise<GitRun> {
  const r = await git(cwd, args, opts);
  if (r.code !== 0 && !r.truncated) {
    const why = r.stderr.trim().split("\n")[0] || `exit code ${r.code}`;
    throw new CommandError("internal", `git ${args[0]} failed: ${why}`);
  }
  return r;
}

export interface RepoInfo {
  /** The workspace's folder relative to the repository's top, with a trailing "/" ("" at top). */
  prefix: string;
}

/** The repository the workspace is in, or null when it is not in a work tree. */
export async function repoInfo(root: Root): Promise<RepoInfo | null> {
  const r = await git(root.real, ["rev-parse", "--is-inside-work-tree", "--show-prefix"]);
  if (r.code !== 0) return null;
  const [inside, prefix = ""] = r.text.split("\n");
  if (inside !== "true") return null;
  return { prefix };
}

async function requireRepo(root: Root): Promise<RepoInfo> {
  const info = await repoInfo(root);
  if (!info) {
    throw new CommandError(
      "failed_precondition",
      `the workspace folder ${root.root} is not a git repository`,
    );
  }
  return info;
}

/** True when HEAD names a commit (false in a repository with no commits yet). */
async function hasHead(root: Root): Promise<boolean> {
  const r = await git(root.real, ["rev-parse", "--verify", "--quiet", "HEAD^{commit}"]);
  return r.code === 0;
}

// ---------------------------------------------------------------------------------------------
// Status

/** Parses a `## ` header of `git status --porcelain=v1 --branch`. */
export function parseBranchHeader(line: string): {
  branch: string;
  upstream: string;
  ahead: number;
  behind: number;
} {
  const out = { branch: "", upstream: "", ahead: 0, behind: 0 };
  let rest = line.replace(/^## /, "");
  // Unborn branch: "No commits yet on main" (older git: "Initial commit on main").
  const unborn = /^(?:No commits yet|Initial commit) on (.+)$/.exec(rest);
  if (unborn) {
    out.branch = unborn[1]!;
    return out;
  }
  if (rest.startsWith("HEAD (no branch)")) {
    out.branch = "HEAD";
    return out;
  }
  const bracket = / \[([^\]]*)\]$/.exec(rest);
  if (bracket) {
    rest = rest.slice(0, bracket.index);
    for (const part of bracket[1]!.split(", ")) {
      const m = /^(ahead|behind) (\d+)$/.exec(part);
      if (m) out[m[1] as "ahead" | "behind"] = Number(m[2]);
    }
  }
  // Branch names cannot contain "..", so "..." only ever separates the upstream.
  const dots = rest.indexOf("...");
  if (dots >= 0) {
    out.branch = rest.slice(0, dots);
    out.upstream = rest.slice(dots + 3);
  } else {
    out.branch = rest;
  }
  return out;
}

/** Parses `git status --porcelain=v1 -z --branch`, paths made relative to `prefix`. */
export function parseStatus(
  raw: string,
  prefix = "",
): {
  header: ReturnType<typeof parseBranchHeader>;
  files: { path: string; index: string; worktree: string; origPath: string }[];
} {
  const fields = raw.split("\0");
  // Output ends with a NUL; a last field without one was cut by the output bound.
  fields.pop();
  let header = parseBranchHeader("");
  const files: { path: string; index: string; worktree: string; origPath: string }[] = [];
  const rel = (p: string) => (p.startsWith(prefix) ? p.slice(prefix.length) || "." : p);
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i]!;
    if (f.startsWith("## ")) {
      header = parseBranchHeader(f);
      continue;
    }
    if (f.length < 4) continue;
    const index = f[0]!;
    const worktree = f[1]!;
    const entry = { path: rel(f.slice(3)), index, worktree, origPath: "" };
    // Renames and copies carry their origin as the next field.
    if (index === "R" || index === "C" || worktree === "R" || worktree === "C") {
      const orig = fields[++i];
      if (orig === undefined) break;
      // An origin outside the workspace folder is not named.
      entry.origPath = orig.startsWith(prefix) ? orig.slice(prefix.length) : "";
    }
    files.push(entry);
  }
  return { header, files };
}

export async function gitStatus(root: Root, _req: GitStatusRequest): Promise<string> {
  const info = await repoInfo(root);
  if (!info)
    return toJsonString(
      GitStatusResponseSchema,
      create(GitStatusResponseSchema, { isRepo: false }),
    );
  const r = await git(
    root.real,
    ["status", "--porcelain=v1", "-z", "--branch", "--untracked-files=normal", "--", "."],
    { maxBytes: MAX_STATUS_BYTES },
  );
  if (r.code !== 0 && !r.truncated) {
    // Not a work tree after all (a bare repository, the .git folder): not a repository to show.
    return toJsonString(
      GitStatusResponseSchema,
      create(GitStatusResponseSchema, { isRepo: false }),
    );
  }
  const { header, files } = parseStatus(r.text, info.prefix);
  return toJsonString(
    GitStatusResponseSchema,
    create(GitStatusResponseSchema, {
      isRepo: true,
      branch: header.branch,
      upstream: header.upstream,
      ahead: header.ahead,
      behind: header.behind,
      files: files satisfies MessageInitShape<typeof GitFileStatusSchema>[],
    }),
  );
}

// ---------------------------------------------------------------------------------------------
// Diff

/** Cuts text that was cut at a byte bound back to its last whole line. */
function lastWholeLine(bytes: Uint8Array): Uint8Array {
  const nl = bytes.lastIndexOf(0x0a);
  return nl >= 0 ? bytes.subarray(0, nl + 1) : new Uint8Array(0);
}

export async function gitDiff(root: Root, req: GitDiffRequest): Promise<string> {
  // Confined first, so a bad path is refused whether or not this is a repository. The path
  // need not exist: a file deleted from the working tree still has a diff.
  const target = req.path ? await confine(root, req.path, { mustExist: false }) : null;
  await requireRepo(root);
  const args = ["diff", "--no-color", "--no-ext-diff", "--no-textconv", "--relative"];
  if (req.staged) {
    // Also right with no commits yet: the index against the empty tree.
    args.push("--cached");
  } else if (await hasHead(root)) {
    args.push("HEAD");
  } else {
    const empty = await gitOk(root.real, ["hash-object", "-t", "tree", "/dev/null"]);
    args.push(empty.text.trim());
  }
  args.push("--");
  if (target) {
    const rel = realRel(root, target.real);
    args.push(rel === "" ? "." : `:(literal)${rel}`);
  }
  const r = await gitOk(root.real, args, { maxBytes: MAX_DIFF_BYTES });
  const bytes = r.truncated ? lastWholeLine(r.stdout) : r.stdout;
  return toJsonString(
    GitDiffResponseSchema,
    create(GitDiffResponseSchema, {
      diff: new TextDecoder().decode(bytes),
      truncated: r.truncated,
    }),
  );
}

// ---------------------------------------------------------------------------------------------
// Branches

const BRANCH_FORMAT = [
  "%(refname:short)",
  "%(HEAD)",
  "%(upstream:short)",
  "%(committerdate:raw)",
].join("%00");

export async function gitBranches(root: Root, _req: GitBranchesRequest): Promise<string> {
  await requireRepo(root);
  const r = await gitOk(root.real, [
    "for-each-ref",
    `--count=${MAX_BRANCHES}`,
    `--format=${BRANCH_FORMAT}`,
    "refs/heads",
  ]);
  const branches: MessageInitShape<typeof GitBranchSchema>[] = [];
  for (const line of r.text.split("\n")) {
    if (!line) continue;
    const [name = "", head = "", upstream = "", date = ""] = line.split("\0");
    const seconds = Number(date.split(" ")[0]);
    branches.push({
      name,
      current: head === "*",
      upstream,
      lastCommitMs: Number.isFinite(seconds) ? seconds * 1000 : 0,
    });
  }
  if (!branches.some((b) => b.current)) {
    // No commits yet: the current branch has no ref, but it is the branch the user is on.
    const head = await git(root.real, ["symbolic-ref", "--quiet", "--short", "HEAD"]);
    const name = head.text.trim();
    if (head.code === 0 && name && !branches.some((b) => b.name === name)) {
      branches.push({ name, current: true, upstream: "", lastCommitMs: 0 });
    }
  }
  return toJsonString(GitBranchesResponseSchema, create(GitBranchesResponseSchema, { branches }));
}

// ---------------------------------------------------------------------------------------------
// Log

/** Each commit's fields end with a NUL; records are separated by a newline. */
const LOG_FORMAT = "%H%x00%an%x00%at%x00%s%x00";

export async function gitLog(root: Root, req: GitLogRequest): Promise<string> {
  await requireRepo(root);
  const limit = Math.min(req.limit || DEFAULT_LOG_LIMIT, MAX_LOG_LIMIT);
  const commits: MessageInitShape<typeof GitCommitSchema>[] = [];
  if (await hasHead(root)) {
    const r = await gitOk(root.real, [
      "log",
      "--no-color",
      "--no-show-signature",
      "-n",
      String(limit),
      `--format=${LOG_FORMAT}`,
      "HEAD",
      "--",
    ]);
    const fields = r.text.split("\0");
    for (let i = 0; i + 4 <= fields.length; i += 4) {
      const hash = fields[i]!.replace(/^\n/, "");
      if (!/^[0-9a-f]+$/.test(hash)) break;
      commits.push({
        hash,
        author: fields[i + 1]!,
        timeMs: Number(fields[i + 2]) * 1000 || 0,
        subject: fields[i + 3]!,
      });
    }
  }
  return toJsonString(GitLogResponseSchema, create(GitLogResponseSchema, { commits }));
}
