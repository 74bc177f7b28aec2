/**
 * Diffs as rows to draw: from two texts (an ACP `diff` tool content: path, oldText, newText)
 * or from unified diff text (git). Pure; Diff.vue draws the rows, unified on a phone and side
 * by side on a desktop.
 */
import { parsePatch, structuredPatch, type StructuredPatch } from "diff";

export interface DiffLine {
  /** add, del, ctx (unchanged), note ("\ No newline at end of file") */
  type: "add" | "del" | "ctx" | "note";
  oldNo: number | null;
  newNo: number | null;
  text: string;
}
export interface DiffHunk {
  header: string;
  lines: DiffLine[];
}
export interface DiffFile {
  oldPath: string;
  newPath: string;
  /** added, deleted, modified, renamed, binary */
  change: "added" | "deleted" | "modified" | "renamed" | "binary";
  hunks: DiffHunk[];
  added: number;
  removed: number;
}
/** One row of a side-by-side diff: the old line on the left, the new on the right. */
export interface SplitRow {
  left: DiffLine | null;
  right: DiffLine | null;
  /** A hunk header spanning both sides. */
  header?: string;
}

/** Lines of context around each change. */
const CONTEXT = 3;
/** Comparing texts gives up after this long and shows old out, new in (diff is O(N·D)). */
const DIFF_TIMEOUT_MS = 200;

const DEV_NULL = "/dev/null";
const stripPrefix = (p: string | undefined) => (p ?? "").replace(/^[ab]\//, "");

function toHunks(patch: StructuredPatch): { hunks: DiffHunk[]; added: number; removed: number } {
  let added = 0;
  let removed = 0;
  const hunks = patch.hunks.map((h) => {
    let oldNo = h.oldStart;
    let newNo = h.newStart;
    const lines: DiffLine[] = [];
    for (const raw of h.lines) {
      const sign = raw[0];
      const text = raw.slice(1);
      if (sign === "+") {
        lines.push({ type: "add", oldNo: null, newNo: newNo++, text });
        added++;
      } else if (sign === "-") {
        lines.push({ type: "del", oldNo: oldNo++, newNo: null, text });
        removed++;
      } else if (sign === "\\") {
        lines.push({ type: "note", oldNo: null, newNo: null, text: raw.slice(2) });
      } else {
        lines.push({ type: "ctx", oldNo: oldNo++, newNo: newNo++, text });
      }
    }
    const header = `@@ -${h.oldStart},${h.oldLines} +${h.newStart},${h.newLines} @@`;
    return { header, lines };
  });
  return { hunks, added, removed };
}

/** Everything old removed, everything new added: for when comparing takes too long. */
function wholesale(oldText: string, newText: string): StructuredPatch {
  const split = (t: string) => (t === "" ? [] : t.replace(/\n$/, "").split("\n"));
  const old = split(oldText);
  const now = split(newText);
  return {
    oldFileName: "",
    newFileName: "",
    oldHeader: "",
    newHeader: "",
    hunks: [
      {
        oldStart: old.length ? 1 : 0,
        oldLines: old.length,
        newStart: now.length ? 1 : 0,
        newLines: now.length,
        lines: [...old.map((l) => `-${l}`), ...now.map((l) => `+${l}`)],
      },
    ],
  };
}

/** The difference between two versions of a file; a null old text is a new file. */
export function diffTexts(path: string, oldText: string | null, newText: string): DiffFile {
  const patch =
    structuredPatch(path, path, oldText ?? "", newText, "", "", {
      context: CONTEXT,
      timeout: DIFF_TIMEOUT_MS,
    }) ?? wholesale(oldText ?? "", newText);
  const change = oldText === null ? "added" : "modified";
  return { oldPath: path, newPath: path, change, ...toHunks(patch) };
}

/** The files of a unified diff (git's, with or without its extended headers). */
export function parseUnified(text: string): DiffFile[] {
  if (!text.trim()) return [];
  let patches: StructuredPatch[];
  try {
    patches = parsePatch(text);
  } catch {
    // A diff cut short mid-hunk (the size limit) does not parse: show it as it came.
    const lines = text.split("\n").map((l): DiffLine => ({
      type: "ctx",
      oldNo: null,
      newNo: null,
      text: l,
    }));
    return [
      {
        oldPath: "",
        newPath: "",
        change: "modified",
        hunks: [{ header: "", lines }],
        added: 0,
        removed: 0,
      },
    ];
  }
  return (
    patches
      // A header-only stretch (no file names, no hunks) draws nothing.
      .filter((p) => p.oldFileName !== undefined || p.newFileName !== undefined || p.hunks.length)
      .map((p) => {
        const oldPath = p.oldFileName === DEV_NULL ? "" : stripPrefix(p.oldFileName);
        const newPath = p.newFileName === DEV_NULL ? "" : stripPrefix(p.newFileName);
        const change: DiffFile["change"] = p.isBinary
          ? "binary"
          : !oldPath
            ? "added"
            : !newPath
              ? "deleted"
              : oldPath !== newPath
                ? "renamed"
                : "modified";
        return { oldPath, newPath, change, ...toHunks(p) };
      })
  );
}

/**
 * The rows of a side-by-side view: unchanged lines on both sides, and within each run of
 * changes the removed lines beside the added ones, in order.
 */
export function splitRows(file: DiffFile): SplitRow[] {
  const rows: SplitRow[] = [];
  for (const h of file.hunks) {
    rows.push({ left: null, right: null, header: h.header });
    let dels: DiffLine[] = [];
    let adds: DiffLine[] = [];
    const flush = () => {
      for (let i = 0; i < Math.max(dels.length, adds.length); i++)
        rows.push({ left: dels[i] ?? null, right: adds[i] ?? null });
      dels = [];
      adds = [];
    };
    for (const l of h.lines) {
      if (l.type === "del") {
        if (adds.length) flush();
        dels.push(l);
      } else if (l.type === "add") adds.push(l);
      else {
        flush();
        rows.push({ left: l, right: l });
      }
    }
    flush();
  }
  return rows;
}

/** How many lines a file's diff draws (to decide whether to fold it). */
export const lineCount = (file: DiffFile): number =>
  file.hunks.reduce((n, h) => n + h.lines.length + 1, 0);
