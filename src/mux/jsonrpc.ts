/**
 * JSON-RPC 2.0 as ACP uses it: one message per line, no batches.
 * Error codes are the ones the ACP schema names.
 */

export type JsonRpcId = string | number;

export interface RpcRequest {
  jsonrpc: "2.0";
  id: JsonRpcId;
  method: string;
  params?: unknown;
}

export interface RpcNotification {
  jsonrpc: "2.0";
  method: string;
  params?: unknown;
}

export interface RpcError {
  code: number;
  message: string;
  data?: unknown;
}

export interface RpcResponse {
  jsonrpc: "2.0";
  id: JsonRpcId | null;
  result?: unknown;
  error?: RpcError;
}

export type RpcMessage = RpcRequest | RpcNotification | RpcResponse;

export const ErrorCode = {
  parse: -32700,
  invalidRequest: -32600,
  methodNotFound: -32601,
  invalidParams: -32602,
  internal: -32603,
  requestCancelled: -32800,
  authRequired: -32000,
  resourceNotFound: -32002,
} as const;

/** An error that becomes a JSON-RPC error response at a boundary. */
export class RpcFailure extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data?: unknown,
  ) {
    super(message);
    this.name = "RpcFailure";
  }

  toError(): RpcError {
    return this.data === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, data: this.data };
  }
}

export type Parsed =
  | { kind: "request"; msg: RpcRequest }
  | { kind: "notification"; msg: RpcNotification }
  | { kind: "response"; msg: RpcResponse }
  | { kind: "invalid"; id: JsonRpcId | null; error: RpcError };

function isId(v: unknown): v is JsonRpcId {
  return typeof v === "string" || (typeof v === "number" && Number.isFinite(v));
}

/**
 * Classifies one line given as bytes. Never throws: bad input becomes an error to answer with.
 * Parsed straight from the bytes (no intermediate string), which matters at 100,000 lines/s.
 */
export function parseLine(line: Uint8Array): Parsed {
  const { values, done, error } = Bun.JSONL.parseChunk(line);
  if (error !== null || !done || values.length !== 1) {
    const why = error?.message ?? (values.length > 1 ? "more than one value" : "incomplete JSON");
    return {
      kind: "invalid",
      id: null,
      error: { code: ErrorCode.parse, message: `Parse error: ${why}` },
    };
  }
  return classify(values[0]);
}

/** Classifies an already decoded value as a JSON-RPC message. */
export function classify(value: unknown): Parsed {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    return {
      kind: "invalid",
      id: null,
      error: {
        code: ErrorCode.invalidRequest,
        message: Array.isArray(value)
          ? "Invalid Request: batches are not part of ACP"
          : "Invalid Request: a message must be a JSON object",
      },
    };
  }
  const m = value as Record<string, unknown>;
  const id = isId(m.id) ? m.id : null;
  if (m.jsonrpc !== "2.0") {
    return {
      kind: "invalid",
      id,
      error: { code: ErrorCode.invalidRequest, message: 'Invalid Request: jsonrpc must be "2.0"' },
    };
  }
  if (typeof m.method === "string") {
    if (m.id === undefined) return { kind: "notification", msg: m as unknown as RpcNotification };
    if (id === null) {
      return {
        kind: "invalid",
        id: null,
        error: { code: ErrorCode.invalidRequest, message: "Invalid Request: bad id" },
      };
    }
    return { kind: "request", msg: m as unknown as RpcRequest };
  }
  if ("result" in m || "error" in m) {
    if (id === null && m.id !== null) {
      return {
        kind: "invalid",
        id: null,
        error: { code: ErrorCode.invalidRequest, message: "Invalid Request: bad id" },
      };
    }
    return { kind: "response", msg: m as unknown as RpcResponse };
  }
  return {
    kind: "invalid",
    id,
    error: {
      code: ErrorCode.invalidRequest,
      message: "Invalid Request: no method, result or error",
    },
  };
}

export function encode(msg: RpcMessage): string {
  return JSON.stringify(msg) + "\n";
}

export function errorResponse(id: JsonRpcId | null, error: RpcError): RpcResponse {
  return { jsonrpc: "2.0", id, error };
}

/** Params (or any member) as an object; anything else (absent, array, scalar) as an empty one. */
export function asObject(v: unknown): Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v)
    ? (v as Record<string, unknown>)
    : {};
}
