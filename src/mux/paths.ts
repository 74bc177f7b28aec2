/**
 * Confinement of agent-supplied paths to a session's working folder.
 *
 * A path is accepted when its real location (every symlink followed, including
 * dangling ones that a write would create through) lies inside the real root.
 * Callers must then operate on the returned real path, never on the string the
 * agent sent, so that what was checked is what gets touched.
 *
 * This guards against mistakes, not a hostile agent: the agent can run any
 * command in a terminal, and a symlink swapped in between check and use is not
 * caught here.
 */
import { lstat, readlink, realpath } from "node:fs/promises";
import path from "node:path";
import { ErrorCode, RpcFailure } from "./jsonrpc.ts";

/** Same bound as Linux's MAXSYMLINKS, so link loops fail instead of spinning. */
const MAX_SYMLINK_HOPS = 40;

function errno(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException | null)?.code;
}

/** True when `p` is `root` itself or lies below it (both already real). */
export function isInside(root: string, p: string): boolean {
  const rel = path.relative(root, p);
  return rel === "" || (rel !== ".." && !rel.startsWith(".." + path.sep) && !path.isAbsolute(rel));
}

/**
 * The real path of `p`, which need not exist: the real path of its nearest
 * existing ancestor plus the missing rest. A dangling symlink is followed to its
 * target, because writing through it would create the target.
 */
export async function resolveReal(p: string, hops = 0): Promise<string> {
  try {
    return await realpath(p);
  } catch (e) {
    if (errno(e) !== "ENOENT") throw e;
  }
  const parent = path.dirname(p);
  if (parent === p) return p; // the filesystem root always exists; kept for totality
  const st = await lstat(p).catch((e) => {
    if (errno(e) === "ENOENT") return null;
    throw e;
  });
  if (st?.isSymbolicLink()) {
    if (hops >= MAX_SYMLINK_HOPS) {
      throw Object.assign(new Error(`too many symbolic links at ${p}`), { code: "ELOOP" });
    }
    // The link exists, so its folder does too; targets are relative to the real folder.
    const target = path.resolve(await realpath(parent), await readlink(p));
    return resolveReal(target, hops + 1);
  }
  return path.join(await resolveReal(parent, hops), path.basename(p));
}

/** The session's working folder as configured and as the filesystem resolves it. */
export interface Workspace {
  root: string;
  realRoot: string;
}

export async function openWorkspace(root: string): Promise<Workspace> {
  const resolved = path.resolve(root);
  return { root: resolved, realRoot: await realpath(resolved) };
}

/**
 * Checks an agent-supplied absolute path against the workspace and returns the
 * real path to operate on. `what` names the argument in error messages.
 */
export async function confine(ws: Workspace, p: string, what = "path"): Promise<string> {
  if (!path.isAbsolute(p)) {
    throw new RpcFailure(ErrorCode.invalidParams, `${what} ${p} must be an absolute path`);
  }
  if (p.includes("\0")) {
    throw new RpcFailure(ErrorCode.invalidParams, `${what} must not contain a NUL byte`);
  }
  // Lexical normalisation first, so `..` is judged the way path.resolve reads it.
  const normal = path.resolve(p);
  let real: string;
  try {
    real = await resolveReal(normal);
  } catch (e) {
    // Say "outside" rather than leak whether something exists beyond the root.
    if (!isInside(ws.root, normal) && !isInside(ws.realRoot, normal)) throw outside(ws, what, p);
    throw fsFailure(e, `${what} ${p}`);
  }
  if (!isInside(ws.realRoot, real)) {
    throw outside(ws, what, p, real === normal ? undefined : real);
  }
  return real;
}

function outside(ws: Workspace, what: string, p: string, via?: string): RpcFailure {
  const how = via === undefined ? "" : ` (it resolves to ${via})`;
  return new RpcFailure(
    ErrorCode.invalidParams,
    `${what} ${p} is outside the workspace ${ws.root}${how}`,
  );
}

/** Turns a filesystem error into an RpcFailure whose message names `subject`. */
export function fsFailure(e: unknown, subject: string): RpcFailure {
  if (e instanceof RpcFailure) return e;
  switch (errno(e)) {
    case "ENOENT":
      return new RpcFailure(ErrorCode.resourceNotFound, `${subject} does not exist`);
    case "ENOTDIR":
      return new RpcFailure(ErrorCode.invalidParams, `${subject}: a parent is not a folder`);
    case "EISDIR":
      return new RpcFailure(ErrorCode.invalidParams, `${subject} is a folder, not a file`);
    case "ELOOP":
      return new RpcFailure(ErrorCode.invalidParams, `${subject}: too many symbolic links`);
    case "EACCES":
    case "EPERM":
      return new RpcFailure(ErrorCode.internal, `${subject}: permission denied`);
    default:
      return new RpcFailure(ErrorCode.internal, `${subject}: ${(e as Error).message}`);
  }
}
