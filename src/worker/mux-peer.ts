/**
 * A raw JSON-RPC peer attached to a Mux as an in-process frontend.
 *
 * Raw lines rather than the SDK client because order is the point: the mux writes a turn's
 * updates before the prompt's answer, while the SDK settles a response before it has run the
 * notifications that came ahead of it. Here every line is handled synchronously as the mux
 * writes it, so whatever the owner derives from the lines keeps the mux's single order.
 */
import type { Frontend } from "../mux/frontend.ts";
import {
  ErrorCode,
  encode,
  parseLine,
  type JsonRpcId,
  type RpcError,
  type RpcMessage,
  type RpcNotification,
  type RpcRequest,
  type RpcResponse,
} from "../mux/jsonrpc.ts";
import { LineSplitter } from "../mux/lines.ts";
import type { Mux } from "../mux/mux.ts";

export interface PeerHandlers {
  notification(n: RpcNotification): void;
  /** A request of the mux's (a permission request, an extension); answer with `respond`. */
  request(r: RpcRequest): void;
  log(line: string): void;
}

/** Runs synchronously when the answer's line arrives, in order with the lines around it. */
export type OnAnswer = (r: RpcResponse) => void;

export class MuxPeer {
  readonly frontend: Frontend;
  /** Resolves once the mux closed this frontend (the agent exited, or shutdown). */
  readonly closed: Promise<void>;
  private readonly pending = new Map<number, OnAnswer>();
  private readonly splitter: LineSplitter;
  private nextId = 1;
  /** True while the mux's outlet is writing to us (see `send`). */
  private delivering = false;
  private outbox: Uint8Array[] = [];
  private flushScheduled = false;

  constructor(
    mux: Mux,
    name: string,
    private readonly on: PeerHandlers,
  ) {
    const closed = Promise.withResolvers<void>();
    this.closed = closed.promise;
    this.splitter = new LineSplitter({
      line: (bytes) => this.line(bytes),
      oversize: (n) => on.log(`the mux sent a line of ${n} bytes, over the limit: dropped`),
    });
    this.frontend = mux.attach(
      {
        write: (data) => {
          this.delivering = true;
          try {
            this.splitter.push(data);
          } finally {
            this.delivering = false;
          }
          return data.length;
        },
        end: () => {
          this.failPending("the mux closed this frontend");
          closed.resolve();
        },
      },
      { name },
    );
  }

  /** Sends a request; `onAnswer` runs when its answer arrives. Returns the id used. */
  request(method: string, params: unknown, onAnswer: OnAnswer): number {
    const id = this.nextId++;
    this.pending.set(id, onAnswer);
    this.send({ jsonrpc: "2.0", id, method, params });
    return id;
  }

  /**
   * A request whose result (or error, as an Error) settles the promise, within `timeoutMs`.
   * `onResult` runs in the answer's own step, before the lines after it are handled.
   */
  call(
    method: string,
    params: unknown,
    timeoutMs: number,
    onResult?: (result: unknown) => void,
  ): Promise<unknown> {
    const { promise, resolve, reject } = Promise.withResolvers<unknown>();
    const id = this.request(method, params, (r) => {
      clearTimeout(timer);
      if (r.error) return reject(new Error(`${method}: ${r.error.message}`));
      onResult?.(r.result);
      resolve(r.result);
    });
    const timer = setTimeout(() => {
      // A late answer is dropped.
      this.pending.delete(id);
      reject(new Error(`${method}: no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    return promise;
  }

  notify(method: string, params: unknown): void {
    this.send({ jsonrpc: "2.0", method, params });
  }

  respond(id: JsonRpcId, answer: { result: unknown } | { error: RpcError }): void {
    this.send({ jsonrpc: "2.0", id, ...answer });
  }

  /**
   * Hands a message to the mux. While the mux's outlet is in the middle of writing to us, the
   * message waits for a microtask: a handler that answers at once would otherwise re-enter the
   * mux inside its own flush. Later messages queue behind earlier ones, so order is kept.
   */
  private send(msg: RpcMessage): void {
    this.outbox.push(Buffer.from(encode(msg)));
    if (this.delivering || this.flushScheduled) {
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        queueMicrotask(() => this.flushOutbox());
      }
      return;
    }
    this.flushOutbox();
  }

  private flushOutbox(): void {
    this.flushScheduled = false;
    const out = this.outbox;
    this.outbox = [];
    for (const bytes of out) this.frontend.receive(bytes);
  }

  private line(bytes: Uint8Array): void {
    const parsed = parseLine(bytes);
    try {
      switch (parsed.kind) {
        case "response": {
          const id = parsed.msg.id;
          const answer = typeof id === "number" ? this.pending.get(id) : undefined;
          if (!answer) return;
          this.pending.delete(id as number);
          return answer(parsed.msg);
        }
        case "notification":
          return this.on.notification(parsed.msg);
        case "request":
          return this.on.request(parsed.msg);
        case "invalid":
          return this.on.log(`the mux sent an invalid line: ${parsed.error.message}`);
      }
    } catch (e) {
      // One message the owner cannot handle must not stop the lines after it.
      this.on.log(`message from the mux not handled: ${(e as Error).stack ?? e}`);
    }
  }

  private failPending(message: string): void {
    const waiting = [...this.pending.values()];
    this.pending.clear();
    for (const answer of waiting)
      answer({ jsonrpc: "2.0", id: null, error: { code: ErrorCode.internal, message } });
  }
}
