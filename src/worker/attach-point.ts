/**
 * An agent the worker runs, made attachable from an editor on this machine: its Mux served on
 * a Unix socket in the socket folder, with a registry entry beside it, so `switchboard-worker
 * ls` lists it and `switchboard-worker attach <name>` joins it, like a `mux` session. One worker
 * process serves many of these; each has its own key (`<pid>-<n>`).
 */
import type { Mux } from "../mux/mux.ts";
import {
  claimKey,
  listSessions,
  prepareSocketDir,
  removeSession,
  socketDir,
  socketPath,
  writeInfo,
  type SessionInfo,
} from "../mux/registry.ts";
import { serveSocket, type SocketServer } from "../mux/socket-server.ts";

/** The longest name slugify makes (before a suffix that makes it unique). */
export const MAX_SLUG_CHARS = 40;
/** The name of an agent whose name has no letter or digit, and the prefix of a numeric one. */
export const FALLBACK_NAME = "agent";
/** The first suffix of a name already taken: `fake`, then `fake-2`, `fake-3` … */
const FIRST_SUFFIX = 2;

export interface AttachPointOptions {
  mux: Mux;
  /** The socket folder (default: socketDir(), which honours $SWITCHBOARD_SOCKET_DIR). */
  dir?: string;
  /** The agent's name: its slug (made unique) is the name to attach by. */
  name: string;
  agentId: string;
  workspaceId?: string;
  cwd: string;
  command: string[];
  sessionId: string;
  /** The mux's frontends now (the hub's own among them). */
  clients: number;
}

/**
 * Lower case letters, digits and single dashes, at most MAX_SLUG_CHARS: something to type after
 * `attach`. Never all digits or `<pid>-<n>`-shaped (those name processes and keys), never a
 * path, never empty.
 */
export function slugify(name: string): string {
  const slug = name
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+/, "")
    .slice(0, MAX_SLUG_CHARS)
    .replace(/-+$/, "");
  if (slug === "") return FALLBACK_NAME;
  return /^\d/.test(slug) ? `${FALLBACK_NAME}-${slug}` : slug;
}

/** `base`, or the first `base-<k>` (k = 2, 3 …) that no live session holds. */
export function uniqueName(base: string, taken: ReadonlySet<string>): string {
  if (!taken.has(base)) return base;
  for (let k = FIRST_SUFFIX; ; k++) if (!taken.has(`${base}-${k}`)) return `${base}-${k}`;
}

export class AttachPoint {
  readonly socket: string;
  readonly name: string;
  private readonly dir: string;
  private readonly key: string;
  private readonly info: SessionInfo;
  private server: SocketServer | null;

  /**
   * Prepares the folder, picks the name and a key, listens, and writes the entry. The name is
   * chosen and the key claimed in one synchronous step, so agents of this process starting
   * together never share a name. Throws when the folder is unusable (another user's, say).
   */
  constructor(opts: AttachPointOptions) {
    this.dir = opts.dir ?? socketDir();
    prepareSocketDir(this.dir);
    const taken = new Set<string>();
    for (const s of listSessions(this.dir)) if (s.name !== null) taken.add(s.name);
    this.name = uniqueName(slugify(opts.name), taken);
    this.key = claimKey(this.dir);
    this.socket = socketPath(this.dir, this.key);
    this.info = {
      pid: process.pid,
      name: this.name,
      socket: this.socket,
      command: opts.command,
      cwd: opts.cwd,
      clients: opts.clients,
      startedAt: new Date().toISOString(),
      sessionId: opts.sessionId,
      agentId: opts.agentId,
      ...(opts.workspaceId ? { workspaceId: opts.workspaceId } : {}),
    };
    let server: SocketServer | null = null;
    try {
      server = serveSocket(opts.mux, this.socket);
      writeInfo(this.dir, this.info, this.key);
    } catch (e) {
      server?.stop();
      removeSession(this.dir, this.key);
      throw e;
    }
    this.server = server;
  }

  get open(): boolean {
    return this.server !== null;
  }

  /** The mux's frontends came or went: `ls` shows the count. */
  frontends(count: number): void {
    if (!this.server || count === this.info.clients) return;
    this.info.clients = count;
    writeInfo(this.dir, this.info, this.key);
  }

  /** Stops listening and removes the socket and the entry; connections close with the mux. */
  close(): void {
    if (!this.server) return;
    this.server.stop();
    this.server = null;
    removeSession(this.dir, this.key);
  }
}
