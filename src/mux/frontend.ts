/**
 * One frontend of a multiplexed session: the stdio primary, a socket client, or an in-process
 * consumer such as the hub link. It owns its outlet and its line framing; the mux decides what
 * it receives.
 */
import {
  ErrorCode,
  encode,
  errorResponse,
  type JsonRpcId,
  type RpcMessage,
  type RpcResponse,
} from "./jsonrpc.ts";
import { LineSplitter } from "./lines.ts";
import { Outlet, type Sink } from "./outlet.ts";

export interface FrontendHost {
  fromFrontend(f: Frontend, line: Uint8Array): void;
  detach(f: Frontend, reason: string): void;
  /** The frontend's transport took queued bytes. */
  drained(f: Frontend): void;
}

export interface FrontendOptions {
  name: string;
  /** The frontend that started the agent (the editor on stdio). */
  primary?: boolean;
  /** Bound of bytes queued for this frontend before it is dropped. */
  maxQueuedBytes?: number;
}

export interface FsTerminalCapabilities {
  fs?: { readTextFile?: boolean; writeTextFile?: boolean } | null;
  terminal?: boolean | null;
}

export class Frontend {
  readonly primary: boolean;
  name: string;
  /** The capabilities its own `initialize` advertised. */
  capabilities: FsTerminalCapabilities | null = null;
  /** Receives session updates (after `session/new` or `session/load`). */
  live = false;
  detached = false;
  /** Set when no name was given: the client's own name (from initialize) then names it. */
  renameOnInitialize: ((clientName: string) => string) | null = null;
  /** Requests the mux sent to this frontend, by the id it used, awaiting the answer. */
  readonly outgoing = new Map<JsonRpcId, (response: RpcResponse) => void>();
  /** This frontend's requests forwarded to the agent: its id -> the agent-side id. */
  readonly forwarded = new Map<JsonRpcId, number>();
  /** Ids of requests withdrawn from this frontend whose late answers are dropped quietly. */
  readonly withdrawn = new Set<JsonRpcId>();
  /**
   * Behind downstream of its transport (see setFull): counts as a frontend without room, so
   * when every live frontend is behind the mux stops reading the agent.
   */
  full = false;
  private nextId = 0;
  private readonly outlet: Outlet;
  private readonly splitter: LineSplitter;

  constructor(
    private readonly host: FrontendHost,
    sink: Sink,
    opts: FrontendOptions,
  ) {
    this.name = opts.name;
    this.primary = opts.primary ?? false;
    this.outlet = new Outlet(
      sink,
      (queued) =>
        host.detach(this, `it stopped reading (${queued} bytes waiting, more than the limit)`),
      opts.maxQueuedBytes,
    );
    this.splitter = new LineSplitter({
      line: (bytes) => host.fromFrontend(this, bytes),
      oversize: (bytes) =>
        this.send(
          errorResponse(null, {
            code: ErrorCode.invalidRequest,
            message: `Invalid Request: a line of ${bytes} bytes exceeds the limit`,
          }),
        ),
    });
  }

  /** Bytes arrived from the frontend's transport. */
  receive(chunk: Uint8Array): void {
    if (!this.detached) this.splitter.push(chunk);
  }

  /** The transport can take more. */
  drain(): void {
    this.outlet.flush();
    this.host.drained(this);
  }

  /**
   * An in-process frontend whose transport takes everything at once says here whether what
   * it took has gone on yet: full while its own consumer is behind (the hub has not
   * acknowledged enough), then drained. The mux treats full like a queue past its mark.
   */
  setFull(full: boolean): void {
    if (this.full === full) return;
    this.full = full;
    if (!full) this.host.drained(this);
  }

  /** Bytes waiting for the transport. */
  get queuedBytes(): number {
    return this.outlet.queuedBytes;
  }

  /** The transport closed (the frontend left). */
  closed(): void {
    this.host.detach(this, "it disconnected");
  }

  send(msg: RpcMessage): void {
    this.outlet.send(Buffer.from(encode(msg)));
  }

  sendBytes(bytes: Uint8Array): void {
    this.outlet.send(bytes);
  }

  /** Sends a request of the mux's own; `onAnswer` gets the reply. Returns the id used. */
  request(method: string, params: unknown, onAnswer: (r: RpcResponse) => void): JsonRpcId {
    const id = this.nextId++;
    this.outgoing.set(id, onAnswer);
    this.send({ jsonrpc: "2.0", id, method, params });
    return id;
  }

  /** Withdraws a request of the mux's own ($/cancel_request), ignoring any late answer. */
  withdraw(id: JsonRpcId): void {
    if (!this.outgoing.delete(id)) return;
    // Its answer may still come (an SDK client answers -32800): expected, not noise.
    this.withdrawn.add(id);
    this.send({ jsonrpc: "2.0", method: "$/cancel_request", params: { requestId: id } });
  }

  /** Flushes what is queued, then closes the transport. */
  end(): void {
    this.outlet.end();
  }

  /** Closes at once, dropping what is queued. */
  abort(): void {
    this.outlet.abort();
  }
}
