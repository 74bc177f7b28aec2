/**
 * The mux as a library: a frontend in the same process (as the worker's hub link will be), on a
 * plain Sink, under the same rules as a socket client.
 */
import * as acp from "@agentclientprotocol/sdk";
import { afterEach, expect, test } from "bun:test";
import { FAKE_AGENT } from "../testing/clients.ts";
import { tempDir } from "../testing/harness.ts";
import { AgentProcess } from "./agent-process.ts";
import { Mux } from "./mux.ts";

let cleanup: (() => Promise<unknown>) | null = null;
afterEach(async () => {
  await cleanup?.();
  cleanup = null;
});

/** An SDK client whose bytes go straight into the mux and come straight back. */
function inProcessClient(mux: Mux, name: string) {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const readable = new ReadableStream<Uint8Array>({ start: (c) => void (controller = c) });
  const frontend = mux.attach(
    {
      write: (data) => (controller.enqueue(data.slice()), data.length),
      end: () => controller.close(),
    },
    { name },
  );
  const writable = new WritableStream<Uint8Array>({ write: (c) => frontend.receive(c) });
  const updates: acp.SessionNotification[] = [];
  const conn = acp
    .client({ name })
    .onNotification("session/update", ({ params }) => void updates.push(params))
    .connect(acp.ndJsonStream(writable, readable));
  return { conn, updates, frontend };
}

test("an in-process frontend and the agent's one session, with history and live updates", async () => {
  const cwd = tempDir("inproc");
  let mux!: Mux;
  const agent = new AgentProcess({ command: FAKE_AGENT, cwd, onOutput: (c) => mux.agentOutput(c) });
  mux = new Mux({ agent });
  cleanup = () => agent.stop();

  const hub = inProcessClient(mux, "hub");
  await hub.conn.agent.request("initialize", { protocolVersion: 1, clientCapabilities: {} });
  const { sessionId } = await hub.conn.agent.request("session/new", { cwd, mcpServers: [] });
  const r = await hub.conn.agent.request("session/prompt", {
    sessionId,
    prompt: [{ type: "text", text: "say from the hub" }],
  });
  expect(r.stopReason).toBe("end_turn");

  const late = inProcessClient(mux, "late");
  await late.conn.agent.request("initialize", { protocolVersion: 1, clientCapabilities: {} });
  const joined = await late.conn.agent.request("session/new", { cwd, mcpServers: [] });
  expect(joined.sessionId).toBe(sessionId);
  for (
    let i = 0;
    i < 100 && !late.updates.some((u) => JSON.stringify(u).includes("from the hub"));
    i++
  ) {
    await Bun.sleep(10);
  }
  const kinds = late.updates.map((u) => u.update.sessionUpdate);
  expect(kinds).toContain("user_message_chunk");
  expect(kinds).toContain("agent_message_chunk");
  expect(mux.frontends.map((f) => f.name)).toEqual(["hub", "late"]);
  expect(mux.historyStats.recorded).toBeGreaterThan(1);
});
