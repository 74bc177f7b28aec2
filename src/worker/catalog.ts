/**
 * The worker's catalog: what the hub may ask it to start by name. Built-in entries come first
 * (see claude.ts: Claude Code, and Gemini CLI and Codex when installed); the worker's config file
 * is merged over them (JSON: {"agents": [{id, name, kind: "acp" | "terminal", command, env?,
 * description?, notice?}]}): an entry with a built-in's id replaces it, {"id": "gemini",
 * "disabled": true} removes it, other entries are added. The hub only ever sees ids, names,
 * kinds and descriptions.
 */
import { existsSync, readFileSync } from "node:fs";
import { z } from "zod";
import { AgentKind } from "../gen/switchboard/v1/common_pb.ts";
import { defaultCatalog } from "./claude.ts";

const IdSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, "ids are lower-case words: a-z 0-9 . _ -");
const EntrySchema = z.object({
  id: IdSchema,
  name: z.string().min(1).max(100),
  kind: z.enum(["acp", "terminal"]),
  command: z.array(z.string().max(4096)).min(1).max(64),
  env: z.record(z.string(), z.string()).optional(),
  description: z.string().max(500).optional(),
  notice: z.string().max(500).optional(),
  disabled: z.literal(false).optional(),
});
/** Removes the entry of that id (a built-in one, usually); its other fields are not read. */
const DisabledSchema = z.object({ id: IdSchema, disabled: z.literal(true) });
const FileSchema = z.object({ agents: z.array(z.unknown()).max(200) });

export interface CatalogEntry {
  id: string;
  name: string;
  kind: AgentKind;
  command: string[];
  env: Record<string, string>;
  description: string;
  /** Told to the user when the agent starts (the host emits it as an AGENT_STATUS message). */
  notice?: string;
}

/**
 * The built-in entries with the catalog file merged over them. A missing file leaves the
 * built-ins; a broken one is a clear error naming the file and the field.
 */
export function loadCatalog(
  path: string | null,
  defaults: CatalogEntry[] = defaultCatalog(),
): CatalogEntry[] {
  const merged = new Map(defaults.map((e) => [e.id, e]));
  if (!path || !existsSync(path)) return [...merged.values()];
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, "utf8"));
  } catch (err) {
    throw new Error(`${path}: not JSON (${(err as Error).message})`);
  }
  const file = FileSchema.safeParse(raw);
  if (!file.success) throw new Error(`${path}: ${describe(file.error.issues[0]!)}`);
  const seen = new Set<string>();
  file.data.agents.forEach((item, i) => {
    const off = (item as { disabled?: unknown } | null)?.disabled === true;
    const parsed = (off ? DisabledSchema : EntrySchema).safeParse(item);
    if (!parsed.success) {
      throw new Error(`${path}: ${describe(parsed.error.issues[0]!, ["agents", i])}`);
    }
    const e = parsed.data;
    if (seen.has(e.id)) throw new Error(`${path}: the id ${e.id} is used twice`);
    seen.add(e.id);
    // A disabled id that is not there (a built-in not installed here) is no error.
    if ("name" in e) merged.set(e.id, toEntry(e));
    else merged.delete(e.id);
  });
  return [...merged.values()];
}

function toEntry(e: z.infer<typeof EntrySchema>): CatalogEntry {
  return {
    id: e.id,
    name: e.name,
    kind: e.kind === "acp" ? AgentKind.ACP : AgentKind.TERMINAL,
    command: e.command,
    env: e.env ?? {},
    description: e.description ?? "",
    ...(e.notice ? { notice: e.notice } : {}),
  };
}

function describe(issue: { path: PropertyKey[]; message: string }, prefix: PropertyKey[] = []) {
  const at = [...prefix, ...issue.path].map(String).join(".");
  return at ? `${at}: ${issue.message}` : issue.message;
}
