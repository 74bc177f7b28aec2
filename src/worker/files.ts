/**
 * The worker's answers to a browser reading a workspace: listing folders, reading files,
 * searching names and contents, and (through git.ts) git status, diff, branches and log.
 *
 * Every path is relative to the workspace folder and confined to it (confine.ts): "..",
 * absolute paths, NUL bytes and symlinks leading out are refused with permission_denied.
 * Every answer is bounded: listings, file sizes, walks, search output and time.
 */
import { create, toJsonString, type DescMessage, type MessageInitShape } from "@bufbuild/protobuf";
import type { Dirent, Stats } from "node:fs";
import { constants } from "node:fs";
import { lstat, open, readdir, realpath, stat, type FileHandle } from "node:fs/promises";
import path from "node:path";
import { resolveReal } from "../mux/paths.ts";
import {
  FileKind,
  ListDirResponseSchema,
  ReadFileResponseSchema,
  SearchFilesResponseSchema,
  SearchMode,
  FileEntrySchema,
  type ListDirRequest,
  type ReadFileRequest,
  type SearchFilesRequest,
  SearchMatchSchema,
} from "../gen/switchboard/v1/files_pb.ts";
import type { FileCall } from "../gen/switchboard/v1/link_pb.ts";
import { confine, errno, isInsideReal, openRoot, type Root } from "./confine.ts";
import {
  GIT_CONFIG,
  gitBranches,
  gitDiff,
  gitEnv,
  gitLog,
  gitStatus,
  repoInfo,
  runCapped,
} from "./git.ts";
import { CommandError } from "./link.ts";

/** Entries in one listing at most (the first ones by name); more sets `truncated`. */
export const MAX_LIST_ENTRIES = 5_000;
/** Text sent at most; longer files are cut (at a character boundary) and marked truncated. */
export const MAX_TEXT_BYTES = 1024 * 1024;
/** Images sent at most; a larger one is answered with its type and size only, truncated. */
export const MAX_IMAGE_BYTES = 10 * 1024 * 1024;
/** How much of a file decides whether it is text: a NUL or invalid UTF-8 in it means binary. */
export const SNIFF_BYTES = 8 * 1024;
/** Folder entries a name search looks at, at most. */
export const MAX_WALK_ENTRIES = 100_000;
/** Search results: the default and the most a request may ask for. */
export const DEFAULT_MAX_RESULTS = 200;
export const MAX_RESULTS = 1_000;
/** A search stops after this long, answering what it found, truncated. */
export const SEARCH_TIMEOUT_MS = 10_000;
/** Output read from grep at most, and of one output line. */
export const MAX_SEARCH_OUTPUT_BYTES = 8 * 1024 * 1024;
const MAX_GREP_LINE_BYTES = 16 * 1024;
/** Preview text of a content match, in characters. */
export const MAX_PREVIEW_CHARS = 200;
/** The longest query accepted. */
export const MAX_QUERY_CHARS = 1_000;
/** Folders a search never enters. */
const SKIP_DIRS = new Set([".git", "node_modules"]);
/** Stats run at once while listing. */
const STAT_CONCURRENCY = 64;

/** Answers a file call with the matching response message as protobuf JSON. */
export async function handleFileCall(call: FileCall): Promise<string> {
  const root = await openRoot(call.root);
  const c = call.call;
  try {
    switch (c.case) {
      case "listDir":
        return await listDir(root, c.value);
      case "readFile":
        return await readFile(root, c.value);
      case "search":
        return await searchFiles(root, c.value);
      case "gitStatus":
        return await gitStatus(root, c.value);
      case "gitDiff":
        return await gitDiff(root, c.value);
      case "gitBranches":
        return await gitBranches(root, c.value);
      case "gitLog":
        return await gitLog(root, c.value);
      default:
        throw new CommandError("invalid_argument", "the file call has no request");
    }
  } catch (e) {
    throw asCommandError(e);
  }
}

/** Filesystem errors that escape a handler (races, permissions) as Connect codes. */
function asCommandError(e: unknown): unknown {
  if (e instanceof CommandError) return e;
  const message = (e as Error)?.message ?? String(e);
  switch (errno(e)) {
    case "ENOENT":
    case "ENOTDIR":
      return new CommandError("not_found", message);
    case "EACCES":
    case "EPERM":
      return new CommandError("permission_denied", message);
    case "ELOOP":
      return new CommandError("permission_denied", message);
    default:
      return e;
  }
}

// ---------------------------------------------------------------------------------------------
// Listing

/** Names in a stable, human order: case-insensitive, then exact. */
export function compareNames(a: string, b: string): number {
  const la = a.toLowerCase();
  const lb = b.toLowerCase();
  if (la !== lb) return la < lb ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

function kindOf(st: Stats): FileKind {
  if (st.isDirectory()) return FileKind.DIR;
  if (st.isFile()) return FileKind.FILE;
  return FileKind.OTHER;
}

/** One listed entry; null when it vanished meanwhile. */
async function describe(
  root: Root,
  dir: string,
  d: Dirent,
): Promise<MessageInitShape<typeof FileEntrySchema> | null> {
  const full = path.join(dir, d.name);
  try {
    const own = await lstat(full);
    if (!own.isSymbolicLink()) {
      return { name: d.name, kind: kindOf(own), size: own.size, modifiedMs: own.mtimeMs };
    }
    // A symlink is what it points to, if that stays inside; else it is only a way out.
    const out = { name: d.name, kind: FileKind.SYMLINK_OUT, size: 0, modifiedMs: own.mtimeMs };
    let target: string;
    try {
      target = await realpath(full);
    } catch {
      // Dangling (or a loop): inside it cannot be opened either.
      const would = await resolveReal(full).catch(() => full);
      return isInsideReal(root.real, would) ? { ...out, kind: FileKind.OTHER } : out;
    }
    if (!isInsideReal(root.real, target)) return out;
    const st = await stat(target);
    return { name: d.name, kind: kindOf(st), size: st.size, modifiedMs: st.mtimeMs };
  } catch (e) {
    if (errno(e) === "ENOENT") return null;
    throw e;
  }
}

async function mapLimited<T, R>(items: T[], limit: number, f: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await f(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

export async function listDir(root: Root, req: ListDirRequest): Promise<string> {
  const dir = await confine(root, req.path);
  if (!(await stat(dir.real)).isDirectory()) {
    throw new CommandError(
      "invalid_argument",
      `${JSON.stringify(req.path)} is a file, not a folder`,
    );
  }
  const all = await readdir(dir.real, { withFileTypes: true });
  all.sort((a, b) => compareNames(a.name, b.name));
  const truncated = all.length > MAX_LIST_ENTRIES;
  const kept = truncated ? all.slice(0, MAX_LIST_ENTRIES) : all;
  const described = await mapLimited(kept, STAT_CONCURRENCY, (d) => describe(root, dir.real, d));
  const entries = described.filter(
    (e): e is MessageInitShape<typeof FileEntrySchema> => e !== null,
  );
  entries.sort((a, b) => {
    const ad = a.kind === FileKind.DIR ? 0 : 1;
    const bd = b.kind === FileKind.DIR ? 0 : 1;
    return ad - bd || compareNames(a.name!, b.name!);
  });
  return toJsonString(
    ListDirResponseSchema,
    create(ListDirResponseSchema, { path: dir.rel, entries, truncated }),
  );
}

// ---------------------------------------------------------------------------------------------
// Reading

const IMAGE_TYPES: Record<string, { mime: string; magic: (b: Uint8Array) => boolean }> = {
  ".png": {
    mime: "image/png",
    magic: (b) => startsWith(b, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
  },
  ".jpg": { mime: "image/jpeg", magic: (b) => startsWith(b, [0xff, 0xd8, 0xff]) },
  ".jpeg": { mime: "image/jpeg", magic: (b) => startsWith(b, [0xff, 0xd8, 0xff]) },
  ".gif": {
    mime: "image/gif",
    magic: (b) => ascii(b, 0, 6) === "GIF87a" || ascii(b, 0, 6) === "GIF89a",
  },
  ".webp": {
    mime: "image/webp",
    magic: (b) => ascii(b, 0, 4) === "RIFF" && ascii(b, 8, 12) === "WEBP",
  },
};

function startsWith(b: Uint8Array, magic: number[]): boolean {
  return b.length >= magic.length && magic.every((m, i) => b[i] === m);
}

function ascii(b: Uint8Array, from: number, to: number): string {
  return b.length >= to ? String.fromCharCode(...b.subarray(from, to)) : "";
}

/**
 * Reads up to `n` bytes from the start (fewer at the end of the file). The buffer starts at
 * the size the file says it has and grows, so small files stay cheap and growing ones (or
 * ones that report no size) are still read to the bound.
 */
async function readUpTo(fh: FileHandle, n: number, sizeHint: number): Promise<Uint8Array> {
  let buf = new Uint8Array(Math.min(n, Math.max(sizeHint + 1, 64 * 1024)));
  let got = 0;
  for (;;) {
    if (got === buf.length) {
      if (buf.length >= n) break;
      const bigger = new Uint8Array(Math.min(n, buf.length * 2));
      bigger.set(buf);
      buf = bigger;
    }
    const { bytesRead } = await fh.read(buf, got, buf.length - got, got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return buf.subarray(0, got);
}

/** True when the sample has a NUL or is not UTF-8 (an incomplete last character is fine). */
export function looksBinary(sample: Uint8Array): boolean {
  if (sample.includes(0)) return true;
  try {
    new TextDecoder("utf-8", { fatal: true }).decode(sample, { stream: true });
    return false;
  } catch {
    return true;
  }
}

/** UTF-8 text of bytes that may have been cut mid-character (the cut character dropped). */
function decodeText(bytes: Uint8Array, cut: boolean): string {
  try {
    // Streaming leaves an incomplete last character out instead of replacing it.
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes, { stream: cut });
  } catch {
    // Invalid past the sniffed start: shown with replacement characters.
    return new TextDecoder("utf-8").decode(bytes, { stream: cut });
  }
}

export async function readFile(root: Root, req: ReadFileRequest): Promise<string> {
  const file = await confine(root, req.path);
  // No following a link swapped in since, and no blocking on a FIFO: it is refused below.
  const fh = await open(
    file.real,
    constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK,
  );
  try {
    const st = await fh.stat();
    if (st.isDirectory()) {
      throw new CommandError(
        "invalid_argument",
        `${JSON.stringify(req.path)} is a folder, not a file`,
      );
    }
    if (!st.isFile()) {
      throw new CommandError(
        "invalid_argument",
        `${JSON.stringify(req.path)} is not a regular file`,
      );
    }
    const base = { path: file.rel, size: st.size };
    const image = IMAGE_TYPES[path.extname(file.real).toLowerCase()];
    let head: Uint8Array | null = null;
    if (image) {
      if (st.size <= MAX_IMAGE_BYTES) {
        const bytes = await readUpTo(fh, MAX_IMAGE_BYTES + 1, st.size);
        if (image.magic(bytes) && bytes.length <= MAX_IMAGE_BYTES) {
          return json(ReadFileResponseSchema, { ...base, data: bytes, mimeType: image.mime });
        }
        head = bytes;
      } else {
        const bytes = await readUpTo(fh, MAX_TEXT_BYTES + 1, st.size);
        if (image.magic(bytes)) {
          // Too large to send: its type and size, for the viewer to say so.
          return json(ReadFileResponseSchema, { ...base, mimeType: image.mime, truncated: true });
        }
        head = bytes;
      }
      // Named like an image but not one: judged like any other file.
    }
    const bytes = (head ?? (await readUpTo(fh, MAX_TEXT_BYTES + 1, st.size))).subarray(
      0,
      MAX_TEXT_BYTES + 1,
    );
    if (looksBinary(bytes.subarray(0, SNIFF_BYTES))) {
      return json(ReadFileResponseSchema, { ...base, binary: true });
    }
    const truncated = bytes.length > MAX_TEXT_BYTES;
    const text = decodeText(truncated ? bytes.subarray(0, MAX_TEXT_BYTES) : bytes, truncated);
    return json(ReadFileResponseSchema, { ...base, text, truncated });
  } finally {
    await fh.close();
  }
}

/** A response message as protobuf JSON. */
function json<D extends DescMessage>(schema: D, init: MessageInitShape<D>): string {
  return toJsonString(schema, create(schema, init));
}

// ---------------------------------------------------------------------------------------------
// Searching

export async function searchFiles(root: Root, req: SearchFilesRequest): Promise<string> {
  const query = req.query;
  if (query === "") throw new CommandError("invalid_argument", "the search query is empty");
  if (query.length > MAX_QUERY_CHARS) {
    throw new CommandError(
      "invalid_argument",
      `the search query is over ${MAX_QUERY_CHARS} characters`,
    );
  }
  if (query.includes("\0")) {
    throw new CommandError("invalid_argument", "the search query contains a NUL byte");
  }
  const max = Math.min(req.maxResults || DEFAULT_MAX_RESULTS, MAX_RESULTS);
  const found =
    req.mode === SearchMode.CONTENT
      ? await searchContent(root, query, max)
      : await searchNames(root, query, max);
  return json(SearchFilesResponseSchema, found);
}

interface Found {
  matches: MessageInitShape<typeof SearchMatchSchema>[];
  truncated: boolean;
}

/** True when the link at `full` leads to a file inside the root. */
async function linksToFileInside(root: Root, full: string): Promise<boolean> {
  try {
    const target = await realpath(full);
    return isInsideReal(root.real, target) && (await stat(target)).isFile();
  } catch {
    return false;
  }
}

/**
 * Files whose name contains the query (case-insensitive), breadth first, names in order.
 * Symlinked folders are not entered (no loops, no way out); .git and node_modules are skipped.
 */
export async function searchNames(root: Root, query: string, max: number): Promise<Found> {
  const needle = query.toLowerCase();
  const deadline = Date.now() + SEARCH_TIMEOUT_MS;
  const queue: { real: string; rel: string }[] = [{ real: root.real, rel: "" }];
  const matches: MessageInitShape<typeof SearchMatchSchema>[] = [];
  let seen = 0;
  for (let q = 0; q < queue.length; q++) {
    const dir = queue[q]!;
    let ents: Dirent[];
    try {
      ents = await readdir(dir.real, { withFileTypes: true });
    } catch {
      continue; // unreadable or gone: searched as far as possible
    }
    ents.sort((a, b) => compareNames(a.name, b.name));
    for (const e of ents) {
      if (++seen > MAX_WALK_ENTRIES || Date.now() > deadline) return { matches, truncated: true };
      const rel = dir.rel ? `${dir.rel}/${e.name}` : e.name;
      if (e.isDirectory()) {
        if (!SKIP_DIRS.has(e.name)) queue.push({ real: path.join(dir.real, e.name), rel });
        continue;
      }
      if (!e.name.toLowerCase().includes(needle)) continue;
      if (
        e.isFile() ||
        (e.isSymbolicLink() && (await linksToFileInside(root, path.join(dir.real, e.name))))
      ) {
        if (matches.length >= max) return { matches, truncated: true };
        matches.push({ path: rel, line: 0, preview: e.name });
      }
    }
  }
  return { matches, truncated: false };
}

/** A preview of a matching line: trimmed, and if long, a window that shows the match. */
export function preview(line: string, query: string): string {
  const text = line.trim();
  if (text.length <= MAX_PREVIEW_CHARS) return text;
  const at = text.toLowerCase().indexOf(query.toLowerCase());
  if (at < 0 || at + query.length <= MAX_PREVIEW_CHARS - 1) {
    return text.slice(0, MAX_PREVIEW_CHARS - 1) + "…";
  }
  const start = Math.max(0, Math.min(at - 40, text.length - (MAX_PREVIEW_CHARS - 1)));
  const window = text.slice(start, start + MAX_PREVIEW_CHARS - 2);
  return "…" + window + (start + window.length < text.length ? "…" : "");
}

/**
 * Splits a byte stream into lines of at most `maxLine` bytes (the rest of a longer line is
 * dropped); `onLine` returns false to stop.
 */
export class LineSplitter {
  private parts: Uint8Array[] = [];
  private len = 0;
  constructor(
    private readonly maxLine: number,
    private readonly onLine: (line: Uint8Array) => boolean,
  ) {}

  push(chunk: Uint8Array): boolean {
    let from = 0;
    while (from < chunk.length) {
      const nl = chunk.indexOf(0x0a, from);
      const end = nl < 0 ? chunk.length : nl;
      this.keep(chunk.subarray(from, end));
      if (nl < 0) break;
      from = nl + 1;
      if (!this.flush()) return false;
    }
    return true;
  }

  private keep(part: Uint8Array): void {
    const room = this.maxLine - this.len;
    if (room <= 0 || part.length === 0) return;
    const p = part.length > room ? part.subarray(0, room) : part;
    // Copied: the chunk's buffer may be reused by the stream.
    this.parts.push(p.slice());
    this.len += p.length;
  }

  private flush(): boolean {
    const line = new Uint8Array(this.len);
    let at = 0;
    for (const p of this.parts) {
      line.set(p, at);
      at += p.length;
    }
    this.parts = [];
    this.len = 0;
    return this.onLine(line);
  }
}

/**
 * One line of `grep --null -n` (`path\0line:text`) or `git grep -z -n` (`path\0line\0text`).
 */
export function parseGrepLine(
  line: Uint8Array,
): { path: string; line: number; text: string } | null {
  const nul = line.indexOf(0);
  if (nul < 0) return null;
  let p = new TextDecoder().decode(line.subarray(0, nul));
  if (p.startsWith("./")) p = p.slice(2);
  let i = nul + 1;
  let n = 0;
  while (i < line.length && line[i]! >= 0x30 && line[i]! <= 0x39) n = n * 10 + line[i++]! - 0x30;
  if (i >= line.length || (line[i] !== 0x3a && line[i] !== 0)) return null;
  const text = new TextDecoder().decode(line.subarray(i + 1)).replace(/\r$/, "");
  return { path: p, line: n, text };
}

/** Runs one grep and collects up to `max` matches; null when the command failed outright. */
async function grepWith(
  argv: string[],
  cwd: string,
  env: Record<string, string | undefined> | undefined,
  query: string,
  max: number,
): Promise<(Found & { code: number | null }) | null> {
  const matches: MessageInitShape<typeof SearchMatchSchema>[] = [];
  let more = false;
  const lines = new LineSplitter(MAX_GREP_LINE_BYTES, (raw) => {
    const m = parseGrepLine(raw);
    if (!m) return true;
    if (matches.length >= max) {
      more = true;
      return false;
    }
    matches.push({ path: m.path, line: m.line, preview: preview(m.text, query) });
    return true;
  });
  const r = await runCapped(argv, {
    cwd,
    env,
    timeoutMs: SEARCH_TIMEOUT_MS,
    maxBytes: MAX_SEARCH_OUTPUT_BYTES,
    onData: (chunk) => lines.push(chunk),
  });
  // 0: found, 1: nothing found; more (2, 128) is an error, though grep also says 2 when
  // some file could not be read and still answers for the rest.
  if (r.code !== null && r.code > 1 && matches.length === 0) return null;
  return { matches, truncated: more || r.truncated || r.timedOut, code: r.code };
}

/**
 * Lines containing the query (literal, case-insensitive). In a git work tree `git grep`
 * (tracked and untracked files, ignored ones left out), else `grep -r`; binary files skipped,
 * symlinks never followed, .git and node_modules never searched.
 */
export async function searchContent(root: Root, query: string, max: number): Promise<Found> {
  // No line contains a newline: such a query matches nothing (and grep would split it).
  if (query.includes("\n")) return { matches: [], truncated: false };
  const inRepo = await repoInfo(root).catch(() => null);
  if (inRepo) {
    const found = await grepWith(
      [
        "git",
        ...GIT_CONFIG,
        "-c",
        "grep.fullName=false",
        "-c",
        "grep.fallbackToNoIndex=false",
        "grep",
        "-z",
        "-n",
        "-I",
        "-i",
        "-F",
        "--untracked",
        "--no-color",
        "-e",
        query,
        "--",
        ".",
        ":(exclude,glob)**/node_modules/**",
      ],
      root.real,
      gitEnv(),
      query,
      max,
    ).catch(() => null);
    if (found) return { matches: found.matches, truncated: found.truncated };
  }
  const found = await grepWith(
    [
      "grep",
      "-r",
      "-n",
      "-I",
      "-i",
      "-F",
      "--null",
      "--no-messages",
      ...[...SKIP_DIRS].map((d) => `--exclude-dir=${d}`),
      "-e",
      query,
      "--",
      ".",
    ],
    root.real,
    undefined,
    query,
    max,
  );
  return found
    ? { matches: found.matches, truncated: found.truncated }
    : { matches: [], truncated: false };
}
