/**
 * The desktop's tiling: 1 to MAX_PANES panes side by side, each showing one thing (an agent,
 * the files, the terminals, the start form), with widths as fractions that sum to 1 and one
 * focused pane (the route shows its content). Every operation is pure: it returns a new
 * layout, or the same one when the operation does not apply.
 *
 * Stored per user on the hub (SaveLayout) as small JSON: {v: 1, workspaces: [{id, panes:
 * [{c, w}], f}]}, most recently used last; parseStored accepts only what it understands and
 * drops the rest.
 */

/** Four panes of at least ~300 px fit a 1280 px screen beside the agent list. */
export const MAX_PANES = 4;
/** No pane narrower than this share of the area (a divider cannot squeeze one to nothing). */
export const MIN_WIDTH = 0.12;
/** What one arrow-key press on a divider moves it by. */
export const KEY_STEP = 0.05;
/** Workspaces whose layout is kept (the most recently used ones). */
export const MAX_STORED_WORKSPACES = 30;
/** Bounds of what is kept of ids and paths, so a stored layout stays small. */
const MAX_ID = 200;
const MAX_PATH = 1024;

export type PaneContent =
  | { kind: "start" }
  | { kind: "agent"; agentId: string }
  /** agentId "": the workspace's newest running terminal. */
  | { kind: "terminal"; agentId: string }
  | { kind: "files"; path: string; file: string };

export interface Pane {
  /** Stable within a page, for rendering; not stored. */
  id: number;
  content: PaneContent;
  width: number;
}

export interface Layout {
  panes: Pane[];
  focus: number;
}

export function single(content: PaneContent): Layout {
  return { panes: [{ id: 1, content, width: 1 }], focus: 0 };
}

const nextId = (l: Layout) => Math.max(0, ...l.panes.map((p) => p.id)) + 1;

export function sameContent(a: PaneContent, b: PaneContent): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** A new pane after `index` taking half its width, showing `content` (else a copy); focused. */
export function split(l: Layout, index: number, content?: PaneContent): Layout {
  const p = l.panes[index];
  if (!p || l.panes.length >= MAX_PANES) return l;
  const half = p.width / 2;
  const panes = [...l.panes];
  panes.splice(
    index,
    1,
    { ...p, width: half },
    { id: nextId(l), content: content ?? p.content, width: half },
  );
  return { panes, focus: index + 1 };
}

/** Removes a pane (never the last); its width goes to its left neighbour (else its right). */
export function close(l: Layout, index: number): Layout {
  if (l.panes.length <= 1 || !l.panes[index]) return l;
  const gone = l.panes[index]!;
  const panes = l.panes.filter((_, i) => i !== index);
  const heir = Math.max(0, index - 1);
  panes[heir] = { ...panes[heir]!, width: panes[heir]!.width + gone.width };
  let focus = l.focus;
  if (focus > index || focus >= panes.length) focus--;
  return { panes, focus: Math.max(0, focus) };
}

/**
 * Moves the divider after pane `index` by `delta` (a share of the area; positive is right),
 * keeping both neighbours at least MIN_WIDTH.
 */
export function resize(l: Layout, index: number, delta: number): Layout {
  const a = l.panes[index];
  const b = l.panes[index + 1];
  if (!a || !b || !Number.isFinite(delta)) return l;
  const total = a.width + b.width;
  const aw = Math.min(Math.max(a.width + delta, MIN_WIDTH), total - MIN_WIDTH);
  if (aw === a.width) return l;
  const panes = [...l.panes];
  panes[index] = { ...a, width: aw };
  panes[index + 1] = { ...b, width: total - aw };
  return { ...l, panes };
}

/**
 * Shows `content` in pane `index` and focuses it; index === panes.length adds a pane at the
 * end (when there is room), splitting the last one.
 */
export function place(l: Layout, index: number, content: PaneContent): Layout {
  if (index === l.panes.length) return split(l, l.panes.length - 1, content);
  const p = l.panes[index];
  if (!p) return l;
  const panes = [...l.panes];
  panes[index] = { ...p, content };
  return { panes, focus: index };
}

/** Exchanges what two panes show (a pane dragged onto another); focus follows the moved one. */
export function swap(l: Layout, from: number, to: number): Layout {
  const a = l.panes[from];
  const b = l.panes[to];
  if (!a || !b || from === to) return l;
  const panes = [...l.panes];
  panes[from] = { ...a, content: b.content };
  panes[to] = { ...b, content: a.content };
  return { panes, focus: to };
}

export function focus(l: Layout, index: number): Layout {
  if (!l.panes[index] || l.focus === index) return l;
  return { ...l, focus: index };
}

/** The next (+1) or previous (-1) pane, wrapping around. */
export function cycle(l: Layout, step: 1 | -1): Layout {
  const n = l.panes.length;
  return focus(l, (((l.focus + step) % n) + n) % n);
}

// ------------------------------------------------------------------ stored form

interface StoredPane {
  c: PaneContent;
  w: number;
}
interface StoredLayout {
  id: string;
  panes: StoredPane[];
  f: number;
}
export interface Stored {
  v: 1;
  /** Most recently used last (an array: object keys that look like numbers reorder). */
  workspaces: StoredLayout[];
}

export const emptyStored = (): Stored => ({ v: 1, workspaces: [] });

const isId = (v: unknown): v is string =>
  typeof v === "string" && v.length > 0 && v.length <= MAX_ID;
const isPath = (v: unknown): v is string => typeof v === "string" && v.length <= MAX_PATH;

function parseContent(v: unknown): PaneContent | null {
  if (typeof v !== "object" || v === null) return null;
  const o = v as Record<string, unknown>;
  switch (o.kind) {
    case "start":
      return { kind: "start" };
    case "agent":
      return isId(o.agentId) ? { kind: "agent", agentId: o.agentId } : null;
    case "terminal":
      return o.agentId === "" || isId(o.agentId) ? { kind: "terminal", agentId: o.agentId } : null;
    case "files":
      return isPath(o.path) && isPath(o.file)
        ? { kind: "files", path: o.path, file: o.file }
        : null;
  }
  return null;
}

/** One workspace's stored layout as a Layout, or null when nothing usable is left of it. */
function parseLayout(v: unknown): Layout | null {
  if (typeof v !== "object" || v === null) return null;
  const o = v as Record<string, unknown>;
  if (!Array.isArray(o.panes)) return null;
  const panes: Pane[] = [];
  for (const p of o.panes.slice(0, MAX_PANES)) {
    const content = parseContent((p as { c?: unknown } | null)?.c);
    const w = (p as { w?: unknown } | null)?.w;
    if (!content) continue;
    panes.push({
      id: panes.length + 1,
      content,
      width: typeof w === "number" && w > 0 && w <= 1 ? w : 0,
    });
  }
  if (panes.length === 0) return null;
  return {
    panes: normalise(panes),
    focus:
      Number.isInteger(o.f) && Number(o.f) >= 0 && Number(o.f) < panes.length ? Number(o.f) : 0,
  };
}

/** Widths that sum to 1 with none under MIN_WIDTH (equal shares when they make no sense). */
function normalise(panes: Pane[]): Pane[] {
  const sum = panes.reduce((s, p) => s + p.width, 0);
  if (panes.some((p) => p.width <= 0) || sum <= 0)
    return panes.map((p) => ({ ...p, width: 1 / panes.length }));
  // Panes under the minimum get it; the rest share what is left in proportion, again until
  // none falls under (MAX_PANES * MIN_WIDTH < 1, so this ends within MAX_PANES rounds).
  const widths = panes.map((p) => p.width / sum);
  const pinned = new Set<number>();
  for (let round = 0; round < panes.length; round++) {
    const free = widths.map((_, i) => i).filter((i) => !pinned.has(i));
    const left = 1 - pinned.size * MIN_WIDTH;
    const freeSum = free.reduce((s, i) => s + widths[i]!, 0);
    for (const i of free) widths[i] = (widths[i]! / freeSum) * left;
    const under = free.filter((i) => widths[i]! < MIN_WIDTH);
    if (under.length === 0) break;
    for (const i of under) {
      pinned.add(i);
      widths[i] = MIN_WIDTH;
    }
  }
  return panes.map((p, i) => ({ ...p, width: widths[i]! }));
}

/** The hub's JSON as a Stored, keeping every workspace that parses; anything else is dropped. */
export function parseStored(json: string): Stored {
  const out = emptyStored();
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    return out; // never saved (""), or not ours: start afresh
  }
  if (typeof raw !== "object" || raw === null || (raw as { v?: unknown }).v !== 1) return out;
  const ws = (raw as { workspaces?: unknown }).workspaces;
  if (!Array.isArray(ws)) return out;
  const seen = new Set<string>();
  for (const v of ws.slice(-MAX_STORED_WORKSPACES)) {
    const id = (v as { id?: unknown } | null)?.id;
    if (!isId(id) || seen.has(id)) continue;
    const l = parseLayout(v);
    if (!l) continue;
    seen.add(id);
    out.workspaces.push(toStored(id, l));
  }
  return out;
}

/** A workspace's Layout from the stored form (null when there is none). */
export function layoutOf(s: Stored, workspaceId: string): Layout | null {
  return parseLayout(s.workspaces.find((w) => w.id === workspaceId));
}

function toStored(id: string, l: Layout): StoredLayout {
  // Three decimals are plenty for a width, and keep the JSON short.
  const panes = l.panes.map((p) => ({ c: p.content, w: Math.round(p.width * 1000) / 1000 }));
  return { id, panes, f: l.focus };
}

/**
 * `s` with a workspace's layout set, as the most recent (last) entry; the oldest beyond
 * MAX_STORED_WORKSPACES are dropped.
 */
export function withLayout(s: Stored, workspaceId: string, l: Layout): Stored {
  const others = s.workspaces.filter((w) => w.id !== workspaceId);
  return { v: 1, workspaces: [...others, toStored(workspaceId, l)].slice(-MAX_STORED_WORKSPACES) };
}
