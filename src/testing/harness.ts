/**
 * Starts a real `worker.ts mux` process around the fake agent, with an official SDK client as
 * its primary frontend on stdio, in a private socket folder and working folder.
 */
import type * as acp from "@agentclientprotocol/sdk";
import { existsSync, mkdtempSync, readFileSync, realpathSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  BUN,
  FAKE_AGENT,
  socketClient,
  socketOf,
  spawnClient,
  WORKER,
  type ClientOptions,
  type TestClient,
} from "./clients.ts";

export interface MuxRun {
  primary: ReturnType<typeof spawnClient>;
  socket: string;
  dir: string;
  cwd: string;
  env: Record<string, string>;
  /** Methods the agent received, in order (from FAKE_AGENT_LOG). */
  agentLog(): { method: string; params: unknown }[];
  /** Joins over the socket with an SDK client, initialized and in the session. */
  join(opts: ClientOptions, how?: "new" | "load" | "none"): Promise<TestClient>;
  sessionId: string;
  /** Prompts the session from `c` with a script, one command per line. */
  prompt(c: TestClient, ...lines: string[]): Promise<acp.PromptResponse>;
  cleanup(): Promise<void>;
}

export interface MuxRunOptions {
  primary?: ClientOptions;
  /** Extra flags for `mux` (before `--`). */
  flags?: string[];
  agent?: string[];
  /** Capabilities the primary advertises in initialize. */
  capabilities?: Record<string, unknown>;
  env?: Record<string, string>;
  /** Skip initialize and session/new on the primary. */
  bare?: boolean;
  /** Run the compiled binary instead of `bun worker.ts`. */
  binary?: string;
}

export function tempDir(prefix: string): string {
  return realpathSync(mkdtempSync(join(tmpdir(), `switchboard-${prefix}-`)));
}

export async function startMux(opts: MuxRunOptions = {}): Promise<MuxRun> {
  const dir = tempDir("sock");
  const cwd = tempDir("cwd");
  const log = join(tempDir("log"), "agent.log");
  const env = { SWITCHBOARD_SOCKET_DIR: dir, FAKE_AGENT_LOG: log, ...opts.env };
  const launcher = opts.binary ? [opts.binary] : [BUN, WORKER];
  const primary = spawnClient(
    [...launcher, "mux", ...(opts.flags ?? []), "--", ...(opts.agent ?? FAKE_AGENT)],
    { name: "primary", ...opts.primary, env, cwd },
  );
  const socket = await socketOf(primary);
  let sessionId = "";
  if (!opts.bare) {
    await primary.conn.agent.request("initialize", {
      protocolVersion: 1,
      clientCapabilities: opts.capabilities ?? {},
      clientInfo: { name: "editor", version: "1" },
    });
    sessionId = (await primary.conn.agent.request("session/new", { cwd, mcpServers: [] }))
      .sessionId;
  }
  const clients: TestClient[] = [];
  return {
    primary,
    socket,
    dir,
    cwd,
    env,
    sessionId,
    agentLog() {
      if (!existsSync(log)) return [];
      return readFileSync(log, "utf8")
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { method: string; params: unknown });
    },
    prompt(c, ...lines) {
      return c.conn.agent.request("session/prompt", { sessionId, prompt: script(...lines) });
    },
    async join(o, how = "new") {
      const c = await socketClient(socket, o);
      clients.push(c);
      if (how === "none") return c;
      await c.conn.agent.request("initialize", {
        protocolVersion: 1,
        clientCapabilities: {},
        clientInfo: { name: o.name, version: "1" },
      });
      if (how === "new") await c.conn.agent.request("session/new", { cwd, mcpServers: [] });
      else await c.conn.agent.request("session/load", { sessionId, cwd, mcpServers: [] });
      return c;
    },
    async cleanup() {
      for (const c of clients) await c.close().catch(() => {});
      await primary.close();
    },
  };
}

/** The text of a prompt script, one command per line. */
export function script(...lines: string[]) {
  return [{ type: "text" as const, text: lines.join("\n") }];
}

/** Indexes of `flood` chunks ("m<i> t=…") in the order a client got them. */
export function floodIndexes(c: TestClient): number[] {
  return c
    .texts()
    .map((t) => /^m(\d+) /.exec(t))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1]));
}
