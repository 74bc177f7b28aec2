/**
 * Confinement of browser-supplied paths to a workspace folder on the worker.
 *
 * A path is relative to the workspace root; "..", absolute paths and NUL bytes are refused
 * before the filesystem is asked, and what remains is resolved with realpath (every symlink
 * followed, at any component) and must land inside the real root. Callers then operate on
 * the returned real path, so that what was checked is what gets touched.
 *
 * Refusals name the path as sent, never where it resolves to, so nothing outside the root is
 * revealed (not even whether it exists). A symlink swapped in between check and use is not
 * caught: the agent can run commands in the folder anyway; this guards the browser's reads.
 */
import { realpath, stat } from "node:fs/promises";
import path from "node:path";
import { resolveReal } from "../mux/paths.ts";
import { CommandError } from "./link.ts";

/** A workspace folder as configured and as the filesystem resolves it. */
export interface Root {
  root: string;
  real: string;
}

/** A confined path: as normalised relative text ("" for the root) and as its real location. */
export interface Confined {
  rel: string;
  real: string;
}

export function errno(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException | null)?.code;
}

/** True when `p` is the real root itself or lies below it (both real, absolute). */
export function isInsideReal(realRoot: string, p: string): boolean {
  if (p === realRoot) return true;
  const prefix = realRoot.endsWith(path.sep) ? realRoot : realRoot + path.sep;
  return p.startsWith(prefix);
}

/** Checks that the workspace folder exists and is a folder (failed_precondition if not). */
export async function openRoot(root: string): Promise<Root> {
  if (!root || !path.isAbsolute(root) || root.includes("\0")) {
    throw new CommandError(
      "failed_precondition",
      `the workspace folder ${JSON.stringify(root)} is not an absolute path`,
    );
  }
  let real: string;
  try {
    real = await realpath(root);
    if (!(await stat(real)).isDirectory()) throw Object.assign(new Error(), { code: "ENOTDIR" });
  } catch (e) {
    const why = errno(e) === "ENOTDIR" ? "is not a folder" : "does not exist";
    throw new CommandError("failed_precondition", `the workspace folder ${root} ${why}`);
  }
  return { root, real };
}

/**
 * Splits a relative path into its components, refusing what could leave the root by text
 * alone: absolute paths, ".." anywhere, NUL bytes. "" and "." are the root.
 */
export function relParts(p: string, what = "path"): string[] {
  const shown = JSON.stringify(p);
  if (p.includes("\0")) {
    throw new CommandError("permission_denied", `${what} ${shown} contains a NUL byte`);
  }
  if (path.isAbsolute(p)) {
    throw new CommandError(
      "permission_denied",
      `${what} ${shown} is absolute; paths are relative to the workspace folder`,
    );
  }
  const parts = p.split("/").filter((c) => c !== "" && c !== ".");
  if (parts.includes("..")) {
    throw new CommandError("permission_denied", `${what} ${shown} leads outside the workspace`);
  }
  return parts;
}

function outside(p: string, what: string): CommandError {
  return new CommandError(
    "permission_denied",
    `${what} ${JSON.stringify(p)} leads outside the workspace`,
  );
}

/**
 * Confines `p` (relative to the root) and returns its real location. With `mustExist`
 * (the default) a missing path is not_found; without it, the real location of a path that
 * need not exist (a file deleted from the working tree, say): its nearest existing
 * ancestor's real path plus the rest, dangling symlinks followed.
 */
export async function confine(
  root: Root,
  p: string,
  opts: { mustExist?: boolean; what?: string } = {},
): Promise<Confined> {
  const what = opts.what ?? "path";
  const parts = relParts(p, what);
  const rel = parts.join("/");
  if (parts.length === 0) return { rel, real: root.real };
  const joined = path.join(root.real, ...parts);
  let real: string;
  try {
    real = await realpath(joined);
  } catch (e) {
    const code = errno(e);
    if (code === "ELOOP") {
      throw new CommandError(
        "invalid_argument",
        `${what} ${JSON.stringify(p)}: too many symbolic links`,
      );
    }
    if (code === "EACCES" || code === "EPERM") {
      throw new CommandError(
        "permission_denied",
        `${what} ${JSON.stringify(p)}: permission denied`,
      );
    }
    // Missing (or a parent is a file): judge where it would lead before saying so, so that a
    // dangling link out is refused like any other way out.
    let would: string;
    try {
      would = await resolveReal(joined);
    } catch {
      would = joined;
    }
    if (!isInsideReal(root.real, would)) throw outside(p, what);
    if (opts.mustExist === false && (code === "ENOENT" || code === "ENOTDIR")) {
      return { rel, real: would };
    }
    throw new CommandError("not_found", `${what} ${JSON.stringify(p)} does not exist`);
  }
  if (!isInsideReal(root.real, real)) throw outside(p, what);
  return { rel, real };
}

/** The real path of a confined location relative to the real root ("" for the root). */
export function realRel(root: Root, real: string): string {
  return path.relative(root.real, real).split(path.sep).join("/");
}
