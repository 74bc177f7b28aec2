/**
 * The hub's end of the worker link (/link). A worker dials in with its credential; the hub
 * answers its hello with the heads it has stored, stores each batch of events before it acks
 * and fans them out, and sends commands that the worker answers by id. A link that sends
 * nothing for HEARTBEAT_DEAD_MS is closed; the worker dials again and resends what was not
 * acknowledged, and repeats are ignored by (stream, seq).
 */
import type { Database } from "bun:sqlite";
import { create, fromBinary, toBinary, type MessageInitShape } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { codeFromString } from "@connectrpc/connect/protocol-connect";
import type { ServerWebSocket } from "bun";
import {
  CommandSchema,
  HubFrameSchema,
  WorkerFrameSchema,
  type Reply,
  type StreamEvents,
  type WorkerHello,
} from "../gen/switchboard/v1/link_pb.ts";
import type { Event } from "../gen/switchboard/v1/common_pb.ts";
import type { LiveHub } from "./live.ts";
import { hashSecret } from "./store/ids.ts";
import { EventLog, StreamGapError } from "./store/events.ts";
import { applyEventsToAgents, RUNNING_SQL } from "./store/agents.ts";
import { ownersOfHub } from "./rights.ts";

/** The hub pings each link this often (a few bytes); the worker does the same. */
export const HEARTBEAT_MS = 5_000;
/**
 * A link that sent nothing (not even a pong) for this long is dead. Checked every
 * HEARTBEAT_MS, so a dead link is found within 30 s, as promised.
 */
export const HEARTBEAT_DEAD_MS = 25_000;
/** How long a command waits for the worker's reply. */
export const COMMAND_TIMEOUT_MS = 30_000;
/** Catalog entries a worker may announce (its config file allows 200). */
export const MAX_CATALOG_ENTRIES = 200;
/** The largest frame a worker may send: a batch of events with a few large images. */
export const MAX_LINK_FRAME_BYTES = 64 * 1024 * 1024;

export interface LinkData {
  kind: "link";
  workerId: string;
  lastHeard: number;
  hello: boolean;
}

type LinkSocket = ServerWebSocket<LinkData>;
type CommandBody = MessageInitShape<typeof CommandSchema>["body"];

interface Pending {
  resolve: (json: string) => void;
  reject: (err: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

export class LinkHub {
  private readonly links = new Map<string, LinkSocket>();
  private readonly pending = new Map<string, Pending>();
  private nextCommand = 1;
  private readonly heartbeat: ReturnType<typeof setInterval>;
  /** Told of each batch after it is stored and published (the hub's push notifications). */
  onStored: ((streamId: string, workspaceId: string, events: Event[]) => void) | null = null;

  constructor(
    private readonly db: Database,
    private readonly events: EventLog,
    private readonly live: LiveHub,
    private readonly log: (line: string) => void,
    private readonly now: () => number = Date.now,
  ) {
    this.heartbeat = setInterval(() => this.beat(), HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  /** The worker a bearer credential belongs to, or null (unknown or revoked). */
  authenticate(req: Request): string | null {
    const auth = req.headers.get("authorization") ?? "";
    const m = /^Bearer ([A-Za-z0-9_-]{20,200})$/.exec(auth);
    if (!m) return null;
    const row = this.db
      .query("SELECT id FROM workers WHERE credential_hash = ? AND revoked_at IS NULL")
      .get(hashSecret(m[1]!)) as { id: string } | null;
    return row?.id ?? null;
  }

  online(workerId: string): boolean {
    return this.links.get(workerId)?.data.hello === true;
  }

  open(ws: LinkSocket): void {
    const old = this.links.get(ws.data.workerId);
    if (old) old.close(4002, "replaced by a newer link from the same worker");
    this.links.set(ws.data.workerId, ws);
  }

  close(ws: LinkSocket): void {
    if (this.links.get(ws.data.workerId) !== ws) return;
    this.links.delete(ws.data.workerId);
    this.touch(ws.data.workerId);
    for (const [id, p] of this.pending) {
      if (id.startsWith(`${ws.data.workerId}/`)) {
        this.pending.delete(id);
        clearTimeout(p.timer);
        p.reject(new ConnectError("the worker went offline before answering", Code.Unavailable));
      }
    }
    this.live.changed("workers", "", ownersOfHub(this.db));
    this.log(`worker ${ws.data.workerId} offline`);
  }

  /** Closes a revoked worker's link at once. */
  revoke(workerId: string): void {
    this.links.get(workerId)?.close(4003, "this worker was revoked");
  }

  message(ws: LinkSocket, raw: string | Buffer): void {
    ws.data.lastHeard = this.now();
    if (typeof raw === "string") return void ws.close(1003, "binary protobuf frames only");
    let frame;
    try {
      frame = fromBinary(WorkerFrameSchema, raw).frame;
    } catch {
      return void ws.close(1007, "not a WorkerFrame");
    }
    if (!ws.data.hello && frame.case !== "hello") {
      return void ws.close(1008, "the first frame must be a hello");
    }
    switch (frame.case) {
      case "hello":
        return this.hello(ws, frame.value);
      case "events":
        return this.stored(ws, frame.value);
      case "reply":
        return this.replied(ws, frame.value);
      case "ping":
        return this.send(ws, { case: "pong", value: { nonce: frame.value.nonce } });
      case "pong":
        return;
      default:
        return void ws.close(1007, "unknown frame");
    }
  }

  /** Sends a command to a worker and waits for its reply (the reply's JSON, "" when none). */
  command(workerId: string, actor: string, body: CommandBody, timeoutMs = COMMAND_TIMEOUT_MS) {
    const ws = this.links.get(workerId);
    if (!ws || !ws.data.hello) {
      return Promise.reject(
        new ConnectError("the workspace's worker is offline", Code.Unavailable),
      );
    }
    const id = `${workerId}/${this.nextCommand++}`;
    return new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new ConnectError("the worker did not answer in time", Code.DeadlineExceeded));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      this.send(ws, { case: "command", value: { id, actor, body } });
    });
  }

  stop(): void {
    clearInterval(this.heartbeat);
    for (const ws of this.links.values()) ws.close(1001, "the hub is stopping");
  }

  private hello(ws: LinkSocket, h: WorkerHello): void {
    if (ws.data.hello) return void ws.close(1008, "a second hello");
    ws.data.hello = true;
    // A worker is trusted with its own machine, not with the hub's database: its catalog is
    // bounded like any other input.
    const catalog = h.catalog.slice(0, MAX_CATALOG_ENTRIES).map((c) => ({
      id: c.id.slice(0, 64),
      name: c.name.slice(0, 100),
      kind: c.kind,
      description: c.description.slice(0, 500),
    }));
    this.db
      .query(
        "UPDATE workers SET hostname = ?, version = ?, catalog_json = ?, last_seen_at = ? WHERE id = ?",
      )
      .run(
        h.hostname.slice(0, 200),
        h.version.slice(0, 50),
        JSON.stringify(catalog),
        this.now(),
        ws.data.workerId,
      );
    const heads = this.events.headsOfWorker(ws.data.workerId);
    const running = new Set(h.runningAgentIds);
    // The agents the hub expects running on this worker, in one read.
    const expected = this.db
      .query(
        `SELECT a.id AS agentId, a.workspace_id AS workspaceId, w.path AS cwd, a.kind, a.catalog_id AS catalogId,
                a.command_json AS commandJson, a.name, s.head_seq AS headSeq
         FROM agents a JOIN workspaces w ON w.id = a.workspace_id JOIN streams s ON s.agent_id = a.id
         WHERE w.worker_id = ? AND a.status IN (${RUNNING_SQL})`,
      )
      .all(ws.data.workerId) as {
      agentId: string;
      workspaceId: string;
      cwd: string;
      kind: number;
      catalogId: string;
      commandJson: string;
      name: string;
      headSeq: number;
    }[];
    const missing = expected
      .filter((a) => !running.has(a.agentId))
      .map((a) => ({ ...a, command: JSON.parse(a.commandJson) as string[] }));
    this.send(ws, {
      case: "welcome",
      value: {
        workerId: ws.data.workerId,
        heads: heads.map((x) => ({ streamId: x.streamId, seq: x.seq })),
        missingAgents: missing,
      },
    });
    // Agents the worker still runs that the hub stopped or deleted while it was away.
    const expectedIds = new Set(expected.map((a) => a.agentId));
    for (const agentId of running) {
      if (!expectedIds.has(agentId)) {
        this.command(ws.data.workerId, "hub", { case: "stopAgent", value: { agentId } }).catch(
          (err: Error) => this.log(`stopping stray agent ${agentId}: ${err.message}`),
        );
      }
    }
    this.live.changed("workers", "", ownersOfHub(this.db));
    this.log(`worker ${ws.data.workerId} online (${h.hostname}, ${h.version})`);
  }

  private stored(ws: LinkSocket, batch: StreamEvents): void {
    const owner = this.db
      .query(
        "SELECT s.workspace_id AS workspaceId FROM streams s JOIN workspaces w ON w.id = s.workspace_id WHERE s.id = ? AND w.worker_id = ?",
      )
      .get(batch.streamId, ws.data.workerId) as { workspaceId: string } | null;
    if (!owner) {
      // A stream the hub no longer has (its agent or workspace was deleted): ack so the
      // worker stops resending it; nothing is kept.
      const last = batch.events.at(-1)?.seq ?? 0;
      return this.send(ws, { case: "ack", value: { streamId: batch.streamId, seq: last } });
    }
    let stored;
    try {
      stored = this.events.append(batch.streamId, batch.events);
    } catch (err) {
      if (err instanceof StreamGapError) return void ws.close(1008, err.message.slice(0, 120));
      throw err;
    }
    const head = this.events.head(batch.streamId)?.head ?? 0;
    this.send(ws, { case: "ack", value: { streamId: batch.streamId, seq: head } });
    if (stored.length === 0) return;
    this.live.published(batch.streamId, stored, head);
    if (applyEventsToAgents(this.db, batch.streamId, stored)) {
      this.live.changed("agents", owner.workspaceId);
    }
    this.onStored?.(batch.streamId, owner.workspaceId, stored);
  }

  private replied(ws: LinkSocket, r: Reply): void {
    const p = this.pending.get(r.commandId);
    if (!p || !r.commandId.startsWith(`${ws.data.workerId}/`)) return;
    this.pending.delete(r.commandId);
    clearTimeout(p.timer);
    if (r.errorCode)
      p.reject(new ConnectError(r.errorMessage || r.errorCode, codeFrom(r.errorCode)));
    else p.resolve(r.json);
  }

  private send(ws: LinkSocket, frame: MessageInitShape<typeof HubFrameSchema>["frame"]): void {
    ws.send(toBinary(HubFrameSchema, create(HubFrameSchema, { frame })));
  }

  /** Closes dead links and pings the others (runs every HEARTBEAT_MS; tests call it). */
  beat(): void {
    const now = this.now();
    for (const ws of this.links.values()) {
      if (now - ws.data.lastHeard > HEARTBEAT_DEAD_MS) {
        ws.close(4004, "no heartbeat");
        continue;
      }
      this.send(ws, { case: "ping", value: { nonce: now % 0xffffffff } });
    }
  }

  private touch(workerId: string): void {
    this.db.query("UPDATE workers SET last_seen_at = ? WHERE id = ?").run(this.now(), workerId);
  }
}

function codeFrom(name: string): Code {
  return codeFromString(name) ?? Code.Internal;
}
