/**
 * Typed clients of the hub's Connect services. The browser calls `/api` on its own origin,
 * binary protobuf, with the device's HttpOnly session cookie (same-origin credentials).
 * Tests build an Api from any transport (a cookie jar's, a fake's) with `createApi`.
 */
import { createClient, type Client, type Transport } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import { AgentService } from "@gen/switchboard/v1/agent_pb.ts";
import { AuthService } from "@gen/switchboard/v1/auth_pb.ts";
import { FileService } from "@gen/switchboard/v1/files_pb.ts";
import { PushService } from "@gen/switchboard/v1/push_pb.ts";
import { WorkerService } from "@gen/switchboard/v1/worker_pb.ts";
import { WorkspaceService } from "@gen/switchboard/v1/workspace_pb.ts";

/** Where the hub serves Connect, relative to the page's origin. */
export const API_BASE = "/api";

export interface Api {
  auth: Client<typeof AuthService>;
  workspaces: Client<typeof WorkspaceService>;
  agents: Client<typeof AgentService>;
  workers: Client<typeof WorkerService>;
  files: Client<typeof FileService>;
  push: Client<typeof PushService>;
}

/** The browser's transport: same origin, binary format, the session cookie sent along. */
export function browserTransport(baseUrl = API_BASE): Transport {
  return createConnectTransport({
    baseUrl,
    useBinaryFormat: true,
    fetch: ((input: RequestInfo | URL, init?: RequestInit) =>
      fetch(input, { ...init, credentials: "same-origin" })) as typeof fetch,
  });
}

export function createApi(transport: Transport): Api {
  return {
    auth: createClient(AuthService, transport),
    workspaces: createClient(WorkspaceService, transport),
    agents: createClient(AgentService, transport),
    workers: createClient(WorkerService, transport),
    files: createClient(FileService, transport),
    push: createClient(PushService, transport),
  };
}
