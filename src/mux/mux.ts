/**
 * The ACP multiplexer: one agent session, many frontends.
 *
 * To the agent it is one ACP client: one `initialize`, one `session/new`, fs and terminal
 * capabilities it serves itself (or through the primary frontend). To every frontend it is the
 * agent: answers under the frontend's own ids, the shared session's id, its history, then live
 * updates. Everything happens on one thread in arrival order, which is what gives every frontend
 * the same single order with no gap and no duplicate.
 */
import { AgentCalls } from "./agent-calls.ts";
import type { ClientService } from "./client-service.ts";
import { Frontend, type FrontendOptions } from "./frontend.ts";
import { History, type SessionNotificationParams } from "./history.ts";
import {
  asObject,
  ErrorCode,
  encode,
  errorResponse,
  parseLine,
  type Parsed,
  type JsonRpcId,
  type RpcError,
  type RpcMessage,
  type RpcNotification,
  type RpcRequest,
  type RpcResponse,
} from "./jsonrpc.ts";
import { LineSplitter } from "./lines.ts";
import { PermissionBroker } from "./permissions.ts";
import type { Sink } from "./outlet.ts";

/** Agent output between two nudges of the garbage collector (see agentOutput). */
const COLLECT_EVERY_BYTES = 1024 * 1024;

/**
 * When every live frontend has this much waiting (or says it is full, see Frontend.setFull),
 * the mux stops reading the agent until one has room: the pipe holds the backlog (and slows the
 * agent) instead of the mux's memory, and updates wait in one place instead of in every
 * frontend's queue.
 */
export const PAUSE_AGENT_AT_BYTES = 64 * 1024;

/** Frontend names come from the client's own initialize; keep them printable in logs. */
const MAX_NAME_CHARS = 64;

export const EXT = {
  turnFinished: "_switchboard/turn_finished",
  frontends: "_switchboard/frontends",
  agentExited: "_switchboard/agent_exited",
} as const;

/** Where the mux writes lines for the agent (its stdin). */
export interface AgentPort {
  write(line: string): void;
}

export interface MuxOptions {
  agent: AgentPort;
  /** Bound of the replay history in bytes. */
  historyBytes?: number;
  /** Serves fs/terminal calls for a session rooted at `cwd` (default: the built-in service). */
  clientService?: (cwd: string) => ClientService;
  clientRequestTimeoutMs?: number;
  longClientRequestTimeoutMs?: number;
  maxQueuedBytes?: number;
  log?: (line: string) => void;
  /** The session was opened (its id is known). */
  onSession?: (sessionId: string) => void;
  /** The set of frontends changed; with zero the session has no one left. */
  onFrontends?: (count: number) => void;
}

export interface AgentExit {
  code: number | null;
  signal: string | null;
  stderr: string;
}

interface SessionState {
  id: string;
  cwd: string;
  /** The agent's `session/new` answer, kept current as the mode and options change. */
  response: Record<string, unknown>;
}

type Waiter = (r: RpcResponse) => void;

export class Mux {
  readonly frontends: Frontend[] = [];
  private readonly agent: AgentPort;
  private readonly opts: MuxOptions;
  private readonly history: History;
  private readonly permissions: PermissionBroker;
  private readonly agentSplitter: LineSplitter;
  private readonly agentPending = new Map<number, Waiter>();
  private nextAgentId = 1;
  private initResult: unknown = null;
  private initWaiters: Waiter[] | null = null;
  private session: SessionState | null = null;
  private sessionWaiters: Waiter[] | null = null;
  private readonly calls: AgentCalls;
  private batch: Uint8Array[] = [];
  private batchBytes = 0;
  private exited: AgentExit | null = null;
  private nextFrontendNo = 1;
  private sinceCollect = 0;
  private room: PromiseWithResolvers<void> | null = null;

  constructor(opts: MuxOptions) {
    this.opts = opts;
    this.agent = opts.agent;
    this.history = new History(() => this.session?.id ?? "", opts.historyBytes);
    this.permissions = new PermissionBroker({
      liveFrontends: () => this.live(),
      answerAgent: (id, result) => this.toAgent({ jsonrpc: "2.0", id, result }),
      announce: (method, params) => this.announce(method, params),
      log: (l) => this.log(l),
    });
    this.calls = new AgentCalls(
      {
        toAgent: (msg) => this.toAgent(msg),
        primary: () => this.frontends.find((f) => f.primary) ?? null,
        firstLive: () => this.live().next().value ?? null,
        sessionCwd: () => this.session?.cwd ?? null,
      },
      {
        clientService: opts.clientService,
        timeoutMs: opts.clientRequestTimeoutMs,
        longTimeoutMs: opts.longClientRequestTimeoutMs,
      },
    );
    this.agentSplitter = new LineSplitter({
      line: (bytes) => {
        try {
          this.fromAgent(bytes);
        } catch (e) {
          // An agent message the mux cannot handle is logged and dropped; the session goes on.
          this.log(`agent message not handled: ${(e as Error).stack ?? e}`);
        }
      },
      oversize: (n) => this.log(`agent sent a line of ${n} bytes, over the limit: dropped`),
      chunkEnd: () => this.flushBatch(),
    });
  }

  get sessionId(): string | null {
    return this.session?.id ?? null;
  }

  get historyStats(): { entries: number; bytes: number; recorded: number } {
    return {
      entries: this.history.length,
      bytes: this.history.bytes,
      recorded: this.history.recorded,
    };
  }

  /** Adds a frontend on a transport; feed it with `receive`, tell it `closed` when it ends. */
  attach(sink: Sink, opts: Partial<FrontendOptions> = {}): Frontend {
    const no = this.nextFrontendNo++;
    const f = new Frontend(this, sink, {
      name: opts.name ?? `frontend#${no}`,
      primary: opts.primary,
      maxQueuedBytes: opts.maxQueuedBytes ?? this.opts.maxQueuedBytes,
    });
    if (opts.name === undefined) f.renameOnInitialize = (client) => `${client}#${no}`;
    if (this.exited) {
      f.send(this.exitNotice(this.exited));
      f.end();
      return f;
    }
    this.frontends.push(f);
    this.opts.onFrontends?.(this.frontends.length);
    return f;
  }

  /**
   * Null when the agent may be read now; else a promise that resolves when it may: some live
   * frontend has room, or none is live, or the agent is gone. Ask after the microtasks of the
   * last chunk ran (the outlets flush in them).
   */
  roomForAgent(): Promise<void> | null {
    if (this.hasRoom()) return null;
    this.room ??= Promise.withResolvers<void>();
    return this.room.promise;
  }

  /** A frontend's transport took bytes, or it is no longer full: the agent may be read again. */
  drained(_f: Frontend): void {
    this.checkRoom();
  }

  private hasRoom(): boolean {
    if (this.exited) return true;
    let live = 0;
    for (const f of this.frontends) {
      if (!f.live) continue;
      if (!f.full && f.queuedBytes < PAUSE_AGENT_AT_BYTES) return true;
      live++;
    }
    return live === 0;
  }

  private checkRoom(): void {
    if (!this.room || !this.hasRoom()) return;
    const room = this.room;
    this.room = null;
    room.resolve();
  }

  /** Bytes from the agent's stdout. */
  agentOutput(chunk: Uint8Array): void {
    this.agentSplitter.push(chunk);
    // Every update leaves short-lived garbage (its decoded form). Left to itself the collector
    // lets a fast stream grow the heap far past what is live; a collection every few MiB of
    // output keeps resident memory near the live set (a few ms per MiB, measured).
    this.sinceCollect += chunk.length;
    if (this.sinceCollect > COLLECT_EVERY_BYTES) {
      this.sinceCollect = 0;
      Bun.gc(true);
    }
  }

  /** The agent process ended: fail what waits on it, tell everyone, close every frontend. */
  agentExited(exit: AgentExit): void {
    if (this.exited) return;
    this.flushBatch();
    this.exited = exit;
    const why = `the agent exited (${exit.signal ? `signal ${exit.signal}` : `code ${exit.code}`})`;
    const error = {
      code: ErrorCode.internal,
      message: `${why}${exit.stderr ? `: ${exit.stderr.split("\n").slice(-3).join(" | ")}` : ""}`,
      data: { stderr: exit.stderr },
    };
    for (const [, waiter] of this.agentPending) waiter(errorResponse(null, error));
    this.agentPending.clear();
    this.permissions.abandon();
    const notice = this.exitNotice(exit);
    for (const f of [...this.frontends]) {
      f.send(notice);
      f.detached = true;
      f.end();
    }
    this.frontends.length = 0;
    this.calls.close();
    this.checkRoom();
    this.opts.onFrontends?.(0);
  }

  /** Ends the session from the mux's side (shutdown): frontends are closed, nothing else. */
  close(): void {
    for (const f of [...this.frontends]) {
      f.detached = true;
      f.end();
    }
    this.frontends.length = 0;
    this.calls.close();
  }

  // ---------------------------------------------------------------- frontends -> agent

  fromFrontend(f: Frontend, bytes: Uint8Array): void {
    const parsed = parseLine(bytes);
    try {
      this.handleFrontend(f, parsed);
    } catch (e) {
      // A message the mux cannot handle is that frontend's error, never everyone's crash.
      this.log(`${f.name}: ${(e as Error).stack ?? e}`);
      const id = parsed.kind === "request" ? parsed.msg.id : null;
      if (parsed.kind !== "notification" && parsed.kind !== "response") {
        f.send(errorResponse(id, { code: ErrorCode.internal, message: "internal error" }));
      }
    }
  }

  private handleFrontend(f: Frontend, parsed: Parsed): void {
    switch (parsed.kind) {
      case "invalid":
        f.send(errorResponse(parsed.id, parsed.error));
        return;
      case "response": {
        const id = parsed.msg.id;
        const waiter = id === null ? undefined : f.outgoing.get(id);
        if (!waiter) {
          if (id !== null && f.withdrawn.delete(id)) return;
          return this.log(`${f.name} answered an unknown request id ${id}: ignored`);
        }
        f.outgoing.delete(id!);
        waiter(parsed.msg);
        return;
      }
      case "notification":
        return this.frontendNotification(f, parsed.msg);
      case "request":
        return this.frontendRequest(f, parsed.msg);
    }
  }

  private frontendRequest(f: Frontend, req: RpcRequest): void {
    if (this.exited) return this.replyError(f, req.id, ErrorCode.internal, "the agent has exited");
    switch (req.method) {
      case "initialize":
        return this.initialize(f, req);
      case "session/new":
        return this.newSession(f, req);
      case "session/load":
        return this.loadSession(f, req);
      case "session/prompt":
        return this.prompt(f, req);
      case "session/close":
        // Closing is per frontend: the shared session goes on for the others.
        f.live = false;
        return f.send({ jsonrpc: "2.0", id: req.id, result: {} });
      default:
        if (this.session && req.method.startsWith("session/") && !this.ownSession(f, req)) return;
        // A frontend that names the session without session/new or load joins it as it is.
        if (this.session && !f.live && sessionOf(req.params) === this.session.id)
          this.goLive(f, false);
        return this.forward(f, req, (r) => this.afterForward(f, req, r));
    }
  }

  private frontendNotification(f: Frontend, n: RpcNotification): void {
    if (this.exited) return;
    if (n.method === "session/cancel") {
      this.permissions.cancelAll(f);
      this.toAgent(n);
      return;
    }
    if (n.method === "$/cancel_request") {
      const requestId = (n.params as { requestId?: JsonRpcId } | undefined)?.requestId;
      const agentId = requestId === undefined ? undefined : f.forwarded.get(requestId);
      if (agentId !== undefined) {
        this.toAgent({
          jsonrpc: "2.0",
          method: "$/cancel_request",
          params: { requestId: agentId },
        });
      }
      return;
    }
    this.toAgent(n);
  }

  private initialize(f: Frontend, req: RpcRequest): void {
    const params = asObject(req.params);
    f.capabilities = (params.clientCapabilities ?? null) as Frontend["capabilities"];
    const info = params.clientInfo as { name?: unknown } | undefined;
    if (typeof info?.name === "string" && f.renameOnInitialize) {
      f.name = f.renameOnInitialize(info.name.slice(0, MAX_NAME_CHARS));
    }
    if (this.initResult !== null)
      return f.send({ jsonrpc: "2.0", id: req.id, result: this.initResult });
    const answer: Waiter = (r) => f.send({ ...r, id: req.id });
    if (this.initWaiters) return void this.initWaiters.push(answer);
    this.initWaiters = [answer];
    // The agent sees the first frontend's request, with fs and terminal always on: the mux
    // serves them when no frontend does.
    const caps = asObject(params.clientCapabilities);
    const toAgent = {
      ...params,
      clientCapabilities: {
        ...caps,
        fs: { readTextFile: true, writeTextFile: true },
        terminal: true,
      },
    };
    this.agentRequest("initialize", toAgent, (r) => {
      const waiters = this.initWaiters ?? [];
      this.initWaiters = null;
      if (!r.error) this.initResult = r.result ?? {};
      for (const w of waiters) w(r);
    });
  }

  private newSession(f: Frontend, req: RpcRequest): void {
    if (this.session) {
      f.send({ jsonrpc: "2.0", id: req.id, result: this.session.response });
      return this.goLive(f, true);
    }
    const params = asObject(req.params);
    this.openSession(f, req, "session/new", (r) => {
      const result = (r.result ?? {}) as Record<string, unknown>;
      if (typeof result.sessionId !== "string") {
        return {
          error: {
            code: ErrorCode.internal,
            message: "the agent answered session/new without a sessionId",
          },
        };
      }
      return { id: result.sessionId, cwd: String(params.cwd ?? process.cwd()), response: result };
    });
  }

  private loadSession(f: Frontend, req: RpcRequest): void {
    const params = asObject(req.params);
    if (this.session) {
      if (params.sessionId !== this.session.id) {
        return this.replyError(
          f,
          req.id,
          ErrorCode.resourceNotFound,
          `this multiplexer serves session ${this.session.id}, not ${String(params.sessionId)}`,
        );
      }
      // As the spec orders: the whole conversation first, then the answer.
      this.goLive(f, true, () => f.send({ jsonrpc: "2.0", id: req.id, result: this.loadResult() }));
      return;
    }
    this.openSession(f, req, "session/load", () => {
      if (typeof params.sessionId !== "string") {
        return {
          error: { code: ErrorCode.invalidParams, message: "session/load needs a sessionId" },
        };
      }
      return { id: params.sessionId, cwd: String(params.cwd ?? process.cwd()), response: {} };
    });
  }

  /**
   * Opens the one session through the agent. Frontends that ask while it opens wait and are
   * answered like later ones. `make` turns the agent's answer into the session (or an error).
   */
  private openSession(
    f: Frontend,
    req: RpcRequest,
    method: "session/new" | "session/load",
    make: (r: RpcResponse) => SessionState | { error: RpcError },
  ): void {
    const join: Waiter = (r) => {
      if (r.error) return f.send({ ...r, id: req.id });
      if (method === "session/load") {
        this.goLive(f, true, () =>
          f.send({ jsonrpc: "2.0", id: req.id, result: this.loadResult() }),
        );
      } else {
        f.send({ jsonrpc: "2.0", id: req.id, result: this.session!.response });
        this.goLive(f, true);
      }
    };
    if (this.sessionWaiters) return void this.sessionWaiters.push(join);
    this.sessionWaiters = [join];
    this.agentRequest(method, req.params, (r) => {
      const waiters = this.sessionWaiters ?? [];
      this.sessionWaiters = null;
      let answer = r;
      if (!r.error) {
        const made = make(r);
        if ("error" in made) {
          answer = errorResponse(null, made.error);
        } else {
          if (method === "session/load")
            made.response = { ...(r.result as object), sessionId: made.id };
          this.session = made;
          this.opts.onSession?.(made.id);
        }
      }
      this.flushBatch();
      for (const w of waiters) w(answer);
    });
  }

  private loadResult(): Record<string, unknown> {
    const { sessionId: _id, ...rest } = this.session!.response;
    return rest;
  }

  private prompt(f: Frontend, req: RpcRequest): void {
    if (!this.ownSession(f, req)) return;
    if (!f.live) this.goLive(f, false);
    const prompt = asObject(req.params).prompt;
    if (!Array.isArray(prompt)) {
      return this.replyError(
        f,
        req.id,
        ErrorCode.invalidParams,
        "session/prompt needs a prompt array",
      );
    }
    const blocks: unknown[] = prompt;
    // The others see what was asked before the answer streams; the history keeps it too.
    this.flushBatch();
    this.history.beginTurn();
    const messageId = `switchboard-prompt-${crypto.randomUUID()}`;
    for (const content of blocks) {
      const notification: RpcNotification = {
        jsonrpc: "2.0",
        method: "session/update",
        params: {
          sessionId: this.session!.id,
          update: {
            sessionUpdate: "user_message_chunk",
            content,
            messageId,
            _meta: { switchboard: { frontend: f.name } },
          },
        },
      };
      const bytes = Buffer.from(JSON.stringify(notification) + "\n");
      this.history.add(notification.params as SessionNotificationParams, bytes.subarray(0, -1));
      for (const other of this.live()) if (other !== f) other.sendBytes(bytes);
    }
    this.forward(f, req, (r) => {
      const stopReason = (r.result as { stopReason?: unknown } | undefined)?.stopReason;
      this.announce(
        EXT.turnFinished,
        {
          sessionId: this.session!.id,
          stopReason: stopReason ?? null,
          frontend: f.name,
          error: r.error ?? null,
        },
        f,
        false,
      );
    });
  }

  /** After a forwarded request's answer: keep the cached session answer current. */
  private afterForward(f: Frontend, req: RpcRequest, r: RpcResponse): void {
    if (r.error || !this.session) return;
    const p = asObject(req.params);
    if (req.method === "session/set_mode" && typeof p.modeId === "string") {
      const modes = this.session.response.modes as { currentModeId?: string } | undefined;
      // Agents that send no current_mode_update (the Claude adapter) still get everyone told.
      if (modes && modes.currentModeId !== p.modeId) {
        this.sessionUpdate({ sessionUpdate: "current_mode_update", currentModeId: p.modeId }, f);
      }
    } else if (req.method === "session/set_config_option") {
      const options = (r.result as { configOptions?: unknown } | undefined)?.configOptions;
      if (Array.isArray(options)) {
        this.sessionUpdate({ sessionUpdate: "config_option_update", configOptions: options }, f);
      }
    }
  }

  private ownSession(f: Frontend, req: RpcRequest): boolean {
    const id = sessionOf(req.params);
    if (!this.session) {
      this.replyError(
        f,
        req.id,
        ErrorCode.resourceNotFound,
        "no session yet: call session/new first",
      );
      return false;
    }
    if (id !== undefined && id !== this.session.id) {
      this.replyError(
        f,
        req.id,
        ErrorCode.resourceNotFound,
        `unknown session ${id}; this one is ${this.session.id}`,
      );
      return false;
    }
    return true;
  }

  /** Sends a frontend's request to the agent under a fresh id; the answer returns under its own. */
  private forward(f: Frontend, req: RpcRequest, after?: (r: RpcResponse) => void): void {
    const agentId = this.agentRequest(req.method, req.params, (r) => {
      f.forwarded.delete(req.id);
      if (!f.detached)
        f.send({
          jsonrpc: "2.0",
          id: req.id,
          ...(r.error ? { error: r.error } : { result: r.result }),
        });
      after?.(r);
    });
    f.forwarded.set(req.id, agentId);
  }

  /**
   * Makes a frontend live: the history (and open permission requests) first, then live updates,
   * all in this one synchronous step so nothing can slip between them.
   */
  private goLive(f: Frontend, replay: boolean, beforeLive?: () => void): void {
    if (f.live || f.detached) return beforeLive?.();
    this.flushBatch();
    if (replay) f.sendBytes(this.history.replay());
    beforeLive?.();
    f.live = true;
    this.permissions.offerTo(f);
    this.announceFrontends();
  }

  detach(f: Frontend, reason: string): void {
    const i = this.frontends.indexOf(f);
    if (i === -1) return;
    this.frontends.splice(i, 1);
    f.detached = true;
    f.live = false;
    if (!reason.startsWith("it disconnected")) this.log(`dropped ${f.name}: ${reason}`);
    f.abort();
    this.permissions.forget(f);
    // Requests the agent sent through this frontend are answered by the others' rules.
    const waiting = [...f.outgoing.values()];
    f.outgoing.clear();
    for (const w of waiting)
      w(errorResponse(null, { code: ErrorCode.internal, message: `${f.name} left` }));
    this.announceFrontends();
    this.checkRoom();
    this.opts.onFrontends?.(this.frontends.length);
  }

  // ---------------------------------------------------------------- agent -> frontends

  private fromAgent(bytes: Uint8Array): void {
    const parsed = parseLine(bytes);
    if (parsed.kind === "notification" && parsed.msg.method === "session/update") {
      return this.agentUpdate(parsed.msg, bytes);
    }
    // Whatever else the agent says may reach some frontend directly: the updates before it go
    // out first, so every frontend sees the agent's own order.
    this.flushBatch();
    switch (parsed.kind) {
      case "invalid":
        return this.log(`agent sent an invalid line: ${parsed.error.message}`);
      case "response": {
        const id = parsed.msg.id;
        const waiter = typeof id === "number" ? this.agentPending.get(id) : undefined;
        if (!waiter) return this.log(`agent answered an unknown request id ${id}: ignored`);
        this.agentPending.delete(id as number);
        return waiter(parsed.msg);
      }
      case "notification": {
        const n = parsed.msg;
        if (n.method === "$/cancel_request") return this.agentCancel(n);
        // Other notifications (extensions) pass to every live frontend as they came.
        const line = Buffer.concat([bytes, NEWLINE]);
        for (const f of this.live()) f.sendBytes(line);
        return;
      }
      case "request":
        return this.agentRequestIn(parsed.msg);
    }
  }

  private agentUpdate(n: RpcNotification, bytes: Uint8Array): void {
    const params = n.params as SessionNotificationParams | undefined;
    if (!params?.update || typeof params.update.sessionUpdate !== "string") {
      return this.log("agent sent a session/update without an update: dropped");
    }
    this.track(params.update);
    this.history.add(params, bytes);
    // Forwarded byte for byte; lines of one read leave together in one write per frontend.
    // The view stays valid: the batch is flushed before the splitter returns (chunkEnd).
    this.batch.push(bytes, NEWLINE);
    this.batchBytes += bytes.length + 1;
  }

  /** Keeps the cached session answer current so later frontends start from the truth. */
  private track(update: Record<string, unknown>): void {
    if (!this.session) return;
    const r = this.session.response;
    if (update.sessionUpdate === "current_mode_update" && r.modes && typeof r.modes === "object") {
      r.modes = { ...(r.modes as object), currentModeId: update.currentModeId };
    } else if (
      update.sessionUpdate === "config_option_update" &&
      Array.isArray(update.configOptions)
    ) {
      r.configOptions = update.configOptions;
    }
  }

  private flushBatch(): void {
    if (this.batchBytes === 0) return;
    const out = Buffer.concat(this.batch, this.batchBytes);
    this.batch = [];
    this.batchBytes = 0;
    for (const f of this.frontends) if (f.live) f.sendBytes(out);
  }

  private agentCancel(n: RpcNotification): void {
    const requestId = (n.params as { requestId?: JsonRpcId } | undefined)?.requestId;
    if (requestId === undefined) return;
    if (!this.permissions.withdrawnByAgent(requestId)) this.calls.cancel(requestId);
  }

  private agentRequestIn(req: RpcRequest): void {
    if (req.method === "session/request_permission") {
      return this.permissions.request(req.id, asObject(req.params));
    }
    this.calls.handle(req);
  }

  // ---------------------------------------------------------------- helpers

  private *live(): Generator<Frontend> {
    for (const f of this.frontends) if (f.live) yield f;
  }

  private agentRequest(method: string, params: unknown, onAnswer: Waiter): number {
    const id = this.nextAgentId++;
    this.agentPending.set(id, onAnswer);
    this.toAgent({ jsonrpc: "2.0", id, method, params } as RpcRequest);
    return id;
  }

  private toAgent(msg: RpcMessage): void {
    if (this.exited) return;
    this.agent.write(encode(msg));
  }

  /** A session/update of the mux's own, recorded and sent to every live frontend but `except`. */
  private sessionUpdate(update: Record<string, unknown>, except: Frontend | null): void {
    const params = { sessionId: this.session!.id, update } as SessionNotificationParams;
    const bytes = Buffer.from(
      JSON.stringify({ jsonrpc: "2.0", method: "session/update", params }) + "\n",
    );
    this.track(update);
    this.history.add(params, bytes.subarray(0, -1));
    this.flushBatch();
    for (const f of this.live()) if (f !== except) f.sendBytes(bytes);
  }

  /** An extension notification to every live frontend (but `except`), kept in the history. */
  private announce(
    method: string,
    params: Record<string, unknown>,
    except: Frontend | null = null,
    keep = true,
  ): void {
    this.flushBatch();
    if (keep) this.history.addNotice(method, params);
    const bytes = Buffer.from(encode({ jsonrpc: "2.0", method, params }));
    for (const f of this.live()) if (f !== except) f.sendBytes(bytes);
  }

  private announceFrontends(): void {
    if (!this.session) return;
    this.announce(
      EXT.frontends,
      {
        sessionId: this.session.id,
        frontends: this.frontends
          .filter((f) => f.live)
          .map((f) => ({ name: f.name, primary: f.primary })),
      },
      null,
      false,
    );
  }

  private exitNotice(exit: AgentExit): RpcNotification {
    return {
      jsonrpc: "2.0",
      method: EXT.agentExited,
      params: { sessionId: this.session?.id ?? null, ...exit },
    };
  }

  private replyError(f: Frontend, id: JsonRpcId, code: number, message: string): void {
    f.send(errorResponse(id, { code, message }));
  }

  private log(line: string): void {
    this.opts.log?.(line);
  }
}

const NEWLINE = new Uint8Array([0x0a]);

function sessionOf(params: unknown): string | undefined {
  const id = (params as { sessionId?: unknown } | null | undefined)?.sessionId;
  return typeof id === "string" ? id : undefined;
}
