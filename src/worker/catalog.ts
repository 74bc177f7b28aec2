/**
 * The worker's catalog: what the hub may ask it to start by name. Entries come from the
 * worker's config file (JSON: {"agents": [{id, name, kind: "acp" | "terminal", command, env?,
 * description?}]}); the hub only ever sees ids, names, kinds and descriptions.
 */
import { existsSync, readFileSync } from "node:fs";
import { z } from "zod";
import { AgentKind } from "../gen/switchboard/v1/common_pb.ts";

const EntrySchema = z.object({
  id: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, "ids are lower-case words: a-z 0-9 . _ -"),
  name: z.string().min(1).max(100),
  kind: z.enum(["acp", "terminal"]),
  command: z.array(z.string().max(4096)).min(1).max(64),
  env: z.record(z.string(), z.string()).optional(),
  description: z.string().max(500).optional(),
});
const FileSchema = z.object({ agents: z.array(EntrySchema).max(200) });

export interface CatalogEntry {
  id: string;
  name: string;
  kind: AgentKind;
  command: string[];
  env: Record<string, string>;
  description: string;
}

/** Reads the catalog file; a missing file is an empty catalog, a broken one a clear error. */
export function loadCatalog(path: string | null): CatalogEntry[] {
  if (!path || !existsSync(path)) return [];
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, "utf8"));
  } catch (err) {
    throw new Error(`${path}: not JSON (${(err as Error).message})`);
  }
  const parsed = FileSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`${path}: ${issue.path.join(".")}: ${issue.message}`);
  }
  const seen = new Set<string>();
  return parsed.data.agents.map((e) => {
    if (seen.has(e.id)) throw new Error(`${path}: the id ${e.id} is used twice`);
    seen.add(e.id);
    return {
      id: e.id,
      name: e.name,
      kind: e.kind === "acp" ? AgentKind.ACP : AgentKind.TERMINAL,
      command: e.command,
      env: e.env ?? {},
      description: e.description ?? "",
    };
  });
}
