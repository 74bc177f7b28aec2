/**
 * The worker's driver of one ACP agent: the process, a Mux around it (which keeps serving other
 * frontends, such as editors attached over a socket), and the hub's own in-process frontend,
 * whose view of the session becomes one ordered stream of events.
 *
 * Order: every event is emitted synchronously while handling the mux's line that caused it, so
 * the stream has the mux's order: a turn's updates come before its TURN_FINISHED, a permission
 * request before its resolution.
 *
 * Resume: given the session it served before (a restarted worker), the agent is asked to
 * session/load it when it advertises loadSession. What it replays then is already in the hub's
 * stream, so nothing of it is emitted again; SESSION_INFO says `resumed: true`. When it cannot
 * (no loadSession, or an error answer) a new session is opened instead, and the stream says so.
 *
 * Attach: once the session is open, its mux is served on a socket in the socket folder with a
 * registry entry (attach-point.ts), so an editor on this machine joins it with
 * `switchboard-worker attach <name>`; both go when the agent ends, however it ends.
 */
import { EventKind } from "../gen/switchboard/v1/common_pb.ts";
import { AgentProcess } from "../mux/agent-process.ts";
import { asObject, ErrorCode, type RpcNotification, type RpcRequest } from "../mux/jsonrpc.ts";
import { EXT, Mux, type AgentExit } from "../mux/mux.ts";
import { PERMISSION_RESOLVED } from "../mux/permissions.ts";
import { AttachPoint } from "./attach-point.ts";
import { MuxPeer } from "./mux-peer.ts";
import type { StreamPressure } from "./outbox.ts";
import { Permissions, type PermissionAnswer } from "./permission-requests.ts";

/** How long the agent gets to answer initialize, then session/new (npx may download first). */
export const START_TIMEOUT_MS = 120_000;
/** How long session/set_mode or set_config_option may take before the caller hears an error. */
export const CONTROL_TIMEOUT_MS = 30_000;
/** The hub's frontend name: other frontends see it, and the mux reports it as `by`. */
export const HUB_FRONTEND = "hub";
/** No fs or terminal offered: the mux serves those itself, confined to the workspace. */
const INITIALIZE = {
  protocolVersion: 1,
  clientCapabilities: {},
  clientInfo: { name: "switchboard-worker", version: "1" },
};
/** The actor of what the agent did by itself. */
const AGENT = "agent";
/** The AGENT_STATUS message when a resume fell back to a new session. */
export const NOT_RESUMED = "the agent could not resume its session; a new one started";

export interface AgentEventSink {
  (kind: EventKind, payload: { json?: unknown; data?: Uint8Array; actor?: string }): void;
}

export interface AcpAgentOptions {
  agentId: string;
  /** The agent's name at the hub: an editor attaches by it (slugified, made unique). */
  name?: string;
  /** Its workspace's id at the hub, for the registry entry. */
  workspaceId?: string;
  /**
   * The socket folder where editors find the session (default: socketDir(), which honours
   * $SWITCHBOARD_SOCKET_DIR); null serves no socket.
   */
  socketDir?: string | null;
  /** Workspace folder; the agent runs there and the session is rooted there. */
  cwd: string;
  command: string[];
  /** Added to the worker's own environment. */
  env?: Record<string, string>;
  /** Every event of the session stream, in order; the caller numbers and stores them. */
  emit: AgentEventSink;
  log?: (line: string) => void;
  /** Overrides START_TIMEOUT_MS (tests). */
  startTimeoutMs?: number;
  /** The session to load instead of opening a new one (it served it before). */
  resume?: { sessionId: string };
  /** The session's id, once known (new or resumed): the caller keeps it for a later resume. */
  onSession?: (sessionId: string) => void;
  /** Told to the user as the message of the first status, "starting" (a catalog entry's notice). */
  notice?: string;
  /**
   * The stream's window at the outbox: while it is full (the hub has not acknowledged enough)
   * the hub's frontend tells the mux so, and the agent is not read, as for a slow editor.
   */
  pressure?: StreamPressure;
}

export type AgentStatusName = "starting" | "idle" | "working" | "waiting" | "stopped" | "failed";

type Phase = "new" | "starting" | "running" | "stopping" | "ended";

export class AcpAgent {
  private readonly opts: AcpAgentOptions;
  /** Where editors attach, while the session is open. */
  private attachPoint: AttachPoint | null = null;
  /** The mux's frontends now (the count its onFrontends reported last). */
  private frontendCount = 0;
  private phase: Phase = "new";
  private proc: AgentProcess | null = null;
  private _mux: Mux | null = null;
  private peer: MuxPeer | null = null;
  private _sessionId = "";
  /** True from session/load until its answer: what the agent replays then is not emitted. */
  private loading = false;
  private status: AgentStatusName | null = null;
  /** The running turn and the frontend that prompted it (ours is HUB_FRONTEND). */
  private turn: { frontend: string } | null = null;
  private currentModeId: string | null = null;
  private exit: AgentExit | null = null;
  /** Settles after the exit was reported (see onExit). */
  private ended: Promise<void> | null = null;
  private stopping: Promise<void> | null = null;
  private readonly permissions: Permissions;
  /** Stops following the outbox's window (see AcpAgentOptions.pressure). */
  private unwatch: (() => void) | null = null;

  constructor(opts: AcpAgentOptions) {
    this.opts = opts;
    this.permissions = new Permissions({
      emit: (kind, json, actor) => this.emit(kind, json, actor),
      respond: (id, result) => this.peer?.respond(id, { result }),
      settle: (actor) => this.settle(actor),
      hub: HUB_FRONTEND,
    });
  }

  /** The agent's process is alive (from start until it exits). */
  get running(): boolean {
    return this.proc !== null && this.exit === null;
  }

  /** The multiplexer, for more frontends (an editor's socket, tests); null before start. */
  get mux(): Mux | null {
    return this._mux;
  }

  get pid(): number | null {
    return this.proc?.pid ?? null;
  }

  /** The session's Unix socket, for `switchboard-worker attach`, while it is served. */
  get socketPath(): string | undefined {
    return this.attachPoint?.socket;
  }

  /** The name to attach by (unique among the live sessions), while the socket is served. */
  get attachName(): string | undefined {
    return this.attachPoint?.name;
  }

  /** The ACP session's id; "" until the agent opened (or loaded) it. */
  get sessionId(): string {
    return this._sessionId;
  }

  async start(): Promise<void> {
    if (this.phase !== "new") throw new Error("the agent was started already");
    this.phase = "starting";
    this.setStatus("starting", AGENT, this.opts.notice ? { message: this.opts.notice } : {});
    const { command, cwd, env, log } = this.opts;
    let mux!: Mux;
    try {
      this.proc = new AgentProcess({
        command,
        cwd,
        env: { ...process.env, ...env },
        onOutput: (c) => mux.agentOutput(c),
        readGate: () => mux.roomForAgent(),
        onStderr: log && ((c) => this.log(`stderr: ${new TextDecoder().decode(c).trimEnd()}`)),
      });
    } catch (e) {
      this.phase = "ended";
      this.setStatus("failed", AGENT, { message: (e as Error).message, stderr: [] });
      throw e;
    }
    mux = this._mux = new Mux({
      agent: this.proc,
      log: (l) => this.log(`mux: ${l}`),
      onFrontends: (count) => {
        this.frontendCount = count;
        this.attachPoint?.frontends(count);
      },
    });
    this.peer = new MuxPeer(mux, HUB_FRONTEND, {
      notification: (n) => this.onNotification(n),
      request: (r) => this.onRequest(r),
      log: (l) => this.log(l),
    });
    const { pressure } = this.opts;
    if (pressure) {
      const frontend = this.peer.frontend;
      frontend.setFull(pressure.full);
      this.unwatch = pressure.onChange((full) => frontend.setFull(full));
    }
    this.ended = this.proc.exited.then((exit) => this.onExit(exit));
    const timeout = this.opts.startTimeoutMs ?? START_TIMEOUT_MS;
    try {
      const init = asObject(await this.peer.call("initialize", INITIALIZE, timeout));
      const { resume } = this.opts;
      let notResumed: string | undefined;
      if (resume) {
        const canLoad = asObject(init.agentCapabilities).loadSession === true;
        notResumed = canLoad
          ? await this.load(init, resume.sessionId, timeout)
          : "the agent does not support session/load";
        if (notResumed === undefined) return;
        this.log(`session ${resume.sessionId} not resumed: ${notResumed}`);
      }
      // Emitted in the answer's own step, so SESSION_INFO and idle lead what follows it.
      await this.peer.call("session/new", { cwd, mcpServers: [] }, timeout, (result) => {
        const r = asObject(result);
        this.opened(init, String(r.sessionId), r, resume ? false : undefined);
        if (notResumed === undefined) return this.settle(AGENT);
        this.setStatus("idle", AGENT, { message: NOT_RESUMED, reason: notResumed });
      });
    } catch (e) {
      if (!this.exit) {
        // The agent lives but did not answer well: report why, then end it quietly.
        const message = `the agent did not start: ${(e as Error).message}`;
        this.setStatus("failed", AGENT, { message, stderr: lines(this.proc.stderrTail()) });
        this.phase = "stopping";
        await this.proc.stop();
        await this.ended;
        throw new Error(message);
      }
      await this.ended;
      throw new Error(`the agent did not start: ${exitMessage(this.exit)}`);
    }
  }

  /**
   * Loads the earlier session: undefined once it is loaded (and reported), else why not, when
   * the agent answered with an error. Rejects on no answer or the agent's exit: then a new
   * session cannot be asked for either (the mux would still wait on the load).
   */
  private load(
    init: Record<string, unknown>,
    sessionId: string,
    timeoutMs: number,
  ): Promise<string | undefined> {
    const { promise, resolve, reject } = Promise.withResolvers<string | undefined>();
    const params = { sessionId, cwd: this.opts.cwd, mcpServers: [] };
    this.loading = true;
    let late = false;
    this.peer!.request("session/load", params, (r) => {
      if (late) return;
      clearTimeout(timer);
      this.loading = false;
      if (this.exit) return reject(new Error(exitMessage(this.exit)));
      if (r.error) return resolve(`session/load: ${r.error.message}`);
      // The answer has no sessionId of its own: it is the one asked for.
      this.opened(init, sessionId, asObject(r.result), true);
      this.settle(AGENT);
      resolve(undefined);
    });
    const timer = setTimeout(() => {
      late = true;
      this.loading = false;
      reject(new Error(`session/load: no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    return promise;
  }

  /** The session is open: its facts lead the stream, and the caller learns its id. */
  private opened(
    init: Record<string, unknown>,
    sessionId: string,
    r: Record<string, unknown>,
    resumed: boolean | undefined,
  ): void {
    this._sessionId = sessionId;
    this.currentModeId = (asObject(r.modes).currentModeId as string | undefined) ?? null;
    const { modes, models, configOptions } = r;
    const { agentInfo, agentCapabilities } = init;
    this.emit(EventKind.SESSION_INFO, {
      sessionId,
      ...{ modes, models, configOptions, agentInfo, agentCapabilities },
      ...(resumed === undefined ? {} : { resumed }),
    });
    this.phase = "running";
    this.serveAttachPoint();
    try {
      this.opts.onSession?.(sessionId);
    } catch (e) {
      this.log(`onSession failed: ${(e as Error).message}`);
    }
  }

  /** Makes the open session attachable; the agent runs on without it when that fails. */
  private serveAttachPoint(): void {
    const { socketDir, agentId, name, workspaceId, cwd, command } = this.opts;
    if (socketDir === null || this.exit || this.attachPoint) return;
    try {
      this.attachPoint = new AttachPoint({
        mux: this._mux!,
        dir: socketDir,
        name: name || agentId,
        agentId,
        workspaceId,
        cwd,
        command,
        sessionId: this._sessionId,
        clients: this.frontendCount,
      });
      const { name: as, socket } = this.attachPoint;
      this.log(`attach with \`switchboard-worker attach ${as}\` (socket ${socket})`);
    } catch (e) {
      this.log(`no socket for editors: ${(e as Error).message}`);
    }
  }

  /** Editors can no longer join: the socket and its entry go. */
  private closeAttachPoint(): void {
    this.attachPoint?.close();
    this.attachPoint = null;
  }

  /** Resolves once the prompt is sent; the turn's end arrives as TURN_FINISHED. */
  async prompt(prompt: unknown[], actor: string): Promise<void> {
    const peer = this.ready();
    if (!Array.isArray(prompt)) throw new Error("a prompt is an array of ACP content blocks");
    if (this.turn) {
      const by = this.turn.frontend === HUB_FRONTEND ? "" : ` (by ${this.turn.frontend})`;
      throw new Error(`a turn is already running${by}`);
    }
    this.turn = { frontend: HUB_FRONTEND };
    this.emit(EventKind.PROMPT, { prompt }, actor);
    this.settle(actor);
    peer.request("session/prompt", { sessionId: this._sessionId, prompt }, (r) => {
      // Agent exit fails the prompt before it withdraws permission requests; end those first.
      if (this.exit) this.permissions.abandon();
      const stopped = this.exit && this.phase === "stopping";
      const error = stopped ? "the agent was stopped" : r.error?.message;
      const stopReason = asObject(r.result).stopReason;
      this.emit(EventKind.TURN_FINISHED, error !== undefined ? { error } : { stopReason }, AGENT);
      this.turn = null;
      this.settle(AGENT);
    });
  }

  async cancel(actor: string): Promise<void> {
    const peer = this.ready();
    // The mux cancels open permission requests in our name; they are reported as this actor's.
    this.permissions.cancelActor = actor;
    peer.notify("session/cancel", { sessionId: this._sessionId });
  }

  async answerPermission(requestId: string, outcome: PermissionAnswer, actor: string) {
    this.permissions.answer(requestId, outcome, actor);
  }

  async setMode(modeId: string, actor: string): Promise<void> {
    const params = { sessionId: this._sessionId, modeId };
    await this.ready().call("session/set_mode", params, CONTROL_TIMEOUT_MS, () => {
      // The mux tells the other frontends of our change, never us: the stream says it here.
      if (this.currentModeId === modeId) return;
      this.currentModeId = modeId;
      this.sessionUpdate({ sessionUpdate: "current_mode_update", currentModeId: modeId }, actor);
    });
  }

  async setConfigOption(configId: string, value: string, actor: string): Promise<void> {
    const params = { sessionId: this._sessionId, configId, value };
    await this.ready().call("session/set_config_option", params, CONTROL_TIMEOUT_MS, (result) => {
      const configOptions = asObject(result).configOptions;
      if (Array.isArray(configOptions))
        this.sessionUpdate({ sessionUpdate: "config_option_update", configOptions }, actor);
    });
  }

  /** Ends the agent's process group; AGENT_STATUS stopped follows its exit. */
  stop(): Promise<void> {
    if (!this.proc || this.phase === "ended") return Promise.resolve();
    const proc = this.proc;
    this.phase = "stopping";
    this.stopping ??= (async () => {
      await proc.stop();
      // The leader may have exited cleanly while things it started live on in its group.
      proc.kill("SIGKILL");
      await this.ended;
    })();
    return this.stopping;
  }

  // ---------------------------------------------------------------- from the mux

  private onNotification(n: RpcNotification): void {
    const p = asObject(n.params);
    switch (n.method) {
      case "session/update":
        return this.onUpdate(p);
      case PERMISSION_RESOLVED:
        return this.permissions.resolved(p);
      case "$/cancel_request":
        return this.permissions.withdrawn(asObject(n.params).requestId);
      case EXT.frontends: {
        const list = Array.isArray(p.frontends) ? p.frontends : [];
        const frontends = list.map((f) => String(asObject(f).name));
        return this.emit(EventKind.FRONTENDS, { frontends }, "");
      }
      case EXT.turnFinished:
        return this.otherTurnFinished(p);
      // EXT.agentExited: onExit reports it, with the same facts, for every way of ending.
    }
  }

  private onUpdate(params: Record<string, unknown>): void {
    // The conversation a session/load replays is in the stream already.
    if (this.loading) return;
    const update = asObject(params.update);
    if (update.sessionUpdate === "current_mode_update" && typeof update.currentModeId === "string")
      this.currentModeId = update.currentModeId;
    // The mux marks prompts it echoes from another frontend with that frontend's name.
    const by = asObject(asObject(update._meta).switchboard).frontend;
    const echo = update.sessionUpdate === "user_message_chunk";
    const actor = typeof by === "string" ? by : echo ? "" : AGENT;
    this.emit(EventKind.SESSION_UPDATE, params, actor);
    if (echo && typeof by === "string" && !this.turn) {
      this.turn = { frontend: by };
      this.settle(by);
    }
  }

  /** Another frontend's turn ended (ours ends with the prompt's answer). */
  private otherTurnFinished(p: Record<string, unknown>): void {
    const frontend = String(p.frontend ?? "");
    const error = p.error ? String(asObject(p.error).message ?? "error") : undefined;
    const json = error !== undefined ? { error } : { stopReason: p.stopReason };
    this.emit(EventKind.TURN_FINISHED, json, frontend);
    if (this.turn?.frontend === frontend) this.turn = null;
    this.settle(AGENT);
  }

  private onRequest(r: RpcRequest): void {
    if (r.method === "session/request_permission")
      return this.permissions.requested(r.id, asObject(r.params));
    const message = `the hub frontend does not serve ${r.method}`;
    this.peer?.respond(r.id, { error: { code: ErrorCode.methodNotFound, message } });
  }

  private async onExit(exit: AgentExit): Promise<void> {
    // Set first: the mux now fails what waits on the agent, and those answers read it.
    this.exit = exit;
    this.unwatch?.();
    this.unwatch = null;
    // Attached editors get the exit notice first (their connections end with it).
    this._mux!.agentExited(exit);
    this.closeAttachPoint();
    await this.peer!.closed;
    this.permissions.abandon();
    if (this.turn) {
      // A turn of another frontend: its answer (and turn_finished) will never come.
      this.emit(EventKind.TURN_FINISHED, { error: exitMessage(exit) }, AGENT);
      this.turn = null;
    }
    const failed = { message: exitMessage(exit), stderr: lines(exit.stderr) };
    if (this.phase === "stopping") this.setStatus("stopped", AGENT);
    else this.setStatus("failed", AGENT, failed);
    this.phase = "ended";
  }

  // ---------------------------------------------------------------- helpers

  private ready(): MuxPeer {
    if (this.phase !== "running" || !this.peer) {
      const why = this.phase === "new" || this.phase === "starting" ? "not started" : "not running";
      throw new Error(`the agent ${this.opts.agentId} is ${why}`);
    }
    return this.peer;
  }

  /** The status that follows from the state; emitted only when it changes. */
  private settle(actor: string): void {
    if (this.exit || this.phase !== "running") return;
    const status = this.permissions.open > 0 ? "waiting" : this.turn ? "working" : "idle";
    if (status !== this.status) this.setStatus(status, actor);
  }

  private setStatus(status: AgentStatusName, actor: string, extra: object = {}): void {
    // After the final status nothing changes any more.
    if (this.status === "failed" || this.status === "stopped") return;
    this.status = status;
    this.emit(EventKind.AGENT_STATUS, { status, ...extra }, actor);
  }

  private sessionUpdate(update: Record<string, unknown>, actor: string): void {
    this.emit(EventKind.SESSION_UPDATE, { sessionId: this._sessionId, update }, actor);
  }

  private emit(kind: EventKind, json: unknown, actor = ""): void {
    this.opts.emit(kind, { json, actor });
  }

  private log(line: string): void {
    this.opts.log?.(`agent ${this.opts.agentId}: ${line}`);
  }
}

function exitMessage(exit: AgentExit): string {
  const how = exit.signal ? `signal ${exit.signal}` : `code ${exit.code}`;
  const last = lines(exit.stderr).at(-1);
  return `the agent exited (${how})${last ? `: ${last}` : ""}`;
}

function lines(text: string): string[] {
  return text.split("\n").filter((l) => l.trim() !== "");
}
