/**
 * Requests the agent makes of its client, other than permission requests: `fs/*` and
 * `terminal/*` go to the primary frontend when it advertised them, else to the built-in service
 * confined to the session folder; anything else (elicitation, extensions) to the primary or the
 * first live frontend. Every call is answered within a bounded time.
 */
import type { ClientService } from "./client-service.ts";
import type { Frontend } from "./frontend.ts";
import {
  asObject,
  ErrorCode,
  errorResponse,
  type JsonRpcId,
  type RpcError,
  type RpcMessage,
  type RpcRequest,
  type RpcResponse,
} from "./jsonrpc.ts";

/** An fs or terminal call the primary editor does not answer in this time gets an error. */
export const CLIENT_REQUEST_TIMEOUT_MS = 120_000;
/** terminal/wait_for_exit and requests for a human (elicitation) may take long, not forever. */
export const LONG_CLIENT_REQUEST_TIMEOUT_MS = 30 * 60_000;

const FS_CAPABILITY: Record<string, "readTextFile" | "writeTextFile"> = {
  "fs/read_text_file": "readTextFile",
  "fs/write_text_file": "writeTextFile",
};

export interface AgentCallsHost {
  toAgent(msg: RpcMessage): void;
  /** The primary frontend, if it is still attached. */
  primary(): Frontend | null;
  /** The first live frontend, if any. */
  firstLive(): Frontend | null;
  /** The session's folder, once there is a session. */
  sessionCwd(): string | null;
}

export interface AgentCallsOptions {
  clientService?: (cwd: string) => ClientService;
  timeoutMs?: number;
  longTimeoutMs?: number;
}

export class AgentCalls {
  private service: Promise<ClientService> | null = null;
  private closed = false;
  /** Which frontend serves a terminal the agent created through it (absent: built-in). */
  private readonly terminalOwners = new Map<string, Frontend>();
  /** Calls passed to a frontend, by the agent's id, so the agent can withdraw them. */
  private readonly passed = new Map<JsonRpcId, { f: Frontend; id: JsonRpcId }>();

  constructor(
    private readonly host: AgentCallsHost,
    private readonly opts: AgentCallsOptions = {},
  ) {}

  handle(req: RpcRequest): void {
    if (req.method.startsWith("fs/") || req.method.startsWith("terminal/")) {
      return this.clientCall(req);
    }
    const target = this.host.primary() ?? this.host.firstLive();
    if (!target) {
      return this.fail(
        req.id,
        ErrorCode.methodNotFound,
        `no frontend attached to answer ${req.method}`,
      );
    }
    this.viaFrontend(target, req, this.longTimeout(), () =>
      this.fail(req.id, ErrorCode.internal, `${target.name} left before answering ${req.method}`),
    );
  }

  /** The agent sent `$/cancel_request` for one of its calls. */
  cancel(agentId: JsonRpcId): void {
    const p = this.passed.get(agentId);
    if (p) p.f.withdraw(p.id);
  }

  close(): void {
    this.closed = true;
    void this.service?.then((s) => s.close());
  }

  private clientCall(req: RpcRequest): void {
    const params = asObject(req.params);
    const terminalId = typeof params.terminalId === "string" ? params.terminalId : null;
    let target: Frontend | null = null;
    if (terminalId !== null && req.method !== "terminal/create") {
      // A terminal stays with whoever created it.
      const owner = this.terminalOwners.get(terminalId);
      if (owner?.detached) {
        return this.fail(
          req.id,
          ErrorCode.resourceNotFound,
          `terminal ${terminalId} was served by ${owner.name}, which has left`,
        );
      }
      target = owner ?? null;
      if (req.method === "terminal/release") this.terminalOwners.delete(terminalId);
    } else {
      const primary = this.host.primary();
      const caps = primary?.capabilities;
      const fsCap = FS_CAPABILITY[req.method];
      const offered = fsCap ? caps?.fs?.[fsCap] === true : caps?.terminal === true;
      if (primary && offered) target = primary;
    }
    if (!target) return this.builtIn(req);
    const owner = target;
    const timeout =
      req.method === "terminal/wait_for_exit"
        ? this.longTimeout()
        : (this.opts.timeoutMs ?? CLIENT_REQUEST_TIMEOUT_MS);
    // If the primary leaves before answering, the built-in service takes over.
    this.viaFrontend(
      owner,
      req,
      timeout,
      () => this.builtIn(req),
      (r) => {
        const id = (r.result as { terminalId?: unknown } | undefined)?.terminalId;
        if (req.method === "terminal/create" && typeof id === "string") {
          this.terminalOwners.set(id, owner);
        }
      },
    );
  }

  private builtIn(req: RpcRequest): void {
    const cwd = this.host.sessionCwd();
    if (cwd === null) return this.fail(req.id, ErrorCode.invalidRequest, "no session yet");
    this.service ??= this.startService(cwd);
    this.service
      .then((service) => service.handle(req.method, req.params))
      .then(
        (result) => this.host.toAgent({ jsonrpc: "2.0", id: req.id, result: result ?? {} }),
        (e: unknown) => {
          const err = e as { message?: string; toError?: () => RpcError };
          const error = err.toError?.() ?? {
            code: ErrorCode.internal,
            message: String(err.message ?? e),
          };
          this.host.toAgent(errorResponse(req.id, error));
        },
      );
  }

  /**
   * Loaded on first use: most editors serve fs/terminal themselves, and the service's code
   * (with its schema library) is a good part of an idle mux's memory.
   */
  private async startService(cwd: string): Promise<ClientService> {
    if (this.opts.clientService) return this.opts.clientService(cwd);
    const { createClientService } = await import("./client-service.ts");
    const service = createClientService({ root: cwd });
    if (this.closed) service.close();
    return service;
  }

  /**
   * Passes an agent request to one frontend under the mux's own id and brings the answer back
   * under the agent's id. Past `timeoutMs` the agent gets an error and the frontend a
   * `$/cancel_request`. If the frontend leaves first, `onGone` decides what happens.
   */
  private viaFrontend(
    f: Frontend,
    req: RpcRequest,
    timeoutMs: number,
    onGone: () => void,
    onAnswer?: (r: RpcResponse) => void,
  ): void {
    const settle = () => {
      clearTimeout(timer);
      this.passed.delete(req.id);
    };
    const timer = setTimeout(() => {
      settle();
      f.withdraw(id);
      const secs = Math.round(timeoutMs / 1000);
      this.fail(
        req.id,
        ErrorCode.internal,
        `${f.name} did not answer ${req.method} within ${secs} s`,
      );
    }, timeoutMs);
    const id = f.request(req.method, req.params, (r) => {
      settle();
      // A frontend that leaves answers its open calls with an error of id null.
      if (f.detached && r.id === null && r.error) return onGone();
      onAnswer?.(r);
      const { error, result } = r;
      this.host.toAgent({ jsonrpc: "2.0", id: req.id, ...(error ? { error } : { result }) });
    });
    this.passed.set(req.id, { f, id });
  }

  private longTimeout(): number {
    return this.opts.longTimeoutMs ?? LONG_CLIENT_REQUEST_TIMEOUT_MS;
  }

  private fail(id: JsonRpcId, code: number, message: string): void {
    this.host.toAgent(errorResponse(id, { code, message }));
  }
}
