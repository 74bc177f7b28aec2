/**
 * Reading the agent pauses while every live frontend is behind, and resumes when one catches up:
 * the pipe holds the backlog, not the mux. Driven in process with a scripted agent side.
 */
import { expect, test } from "bun:test";
import type { Frontend } from "./frontend.ts";
import { Mux, PAUSE_AGENT_AT_BYTES } from "./mux.ts";
import type { Sink } from "./outlet.ts";

const enc = (o: unknown) => new TextEncoder().encode(JSON.stringify(o) + "\n");

/** The frontend joins: initialize, then session/new, the agent's answers scripted by id. */
function joinSession(mux: Mux, f: Frontend): void {
  f.receive(enc({ jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: 1 } }));
  mux.agentOutput(enc({ jsonrpc: "2.0", id: 1, result: { protocolVersion: 1 } }));
  f.receive(
    enc({ jsonrpc: "2.0", id: 2, method: "session/new", params: { cwd: "/", mcpServers: [] } }),
  );
  mux.agentOutput(enc({ jsonrpc: "2.0", id: 2, result: { sessionId: "s" } }));
}

/** Whether `p` has settled yet. */
function settled(p: Promise<unknown>): () => boolean {
  let done = false;
  void p.then(() => (done = true));
  return () => done;
}

/** A frontend transport that takes nothing until opened. */
function valve() {
  let open = false;
  let taken = 0;
  const sink: Sink = {
    write: (d) => (open ? ((taken += d.length), d.length) : 0),
    end() {},
  };
  return { sink, open: () => void (open = true), taken: () => taken };
}

test("the agent is read only while some live frontend has room", async () => {
  const toAgent: string[] = [];
  const mux = new Mux({ agent: { write: (l) => void toAgent.push(l) } });
  const v = valve();
  const f = mux.attach(v.sink, { name: "slow" });
  joinSession(mux, f);
  expect(toAgent.map((l) => JSON.parse(l).method)).toEqual(["initialize", "session/new"]);
  expect(mux.roomForAgent()).toBeNull();

  // A burst the frontend does not take: past the mark, the agent must wait.
  const update = (i: number) =>
    enc({
      jsonrpc: "2.0",
      method: "session/update",
      params: {
        sessionId: "s",
        update: {
          sessionUpdate: "agent_message_chunk",
          messageId: `m${i}`,
          content: { type: "text", text: "x".repeat(1000) },
        },
      },
    });
  for (let i = 0; i * 1000 < PAUSE_AGENT_AT_BYTES * 1.5; i++) mux.agentOutput(update(i));
  await Promise.resolve();
  const wait = mux.roomForAgent();
  expect(wait).not.toBeNull();
  const resumed = settled(wait!);
  await Bun.sleep(20);
  expect(resumed()).toBe(false);

  // It catches up: reading resumes.
  v.open();
  f.drain();
  await Bun.sleep(0);
  expect(resumed()).toBe(true);
  expect(v.taken()).toBeGreaterThan(PAUSE_AGENT_AT_BYTES);
  expect(mux.roomForAgent()).toBeNull();
});

test("an in-process frontend that says it is full holds the agent until it drains", async () => {
  const mux = new Mux({ agent: { write: () => {} } });
  // Takes everything at once, as the hub's own frontend does.
  const f = mux.attach({ write: (d) => d.length, end() {} }, { name: "in-process" });
  joinSession(mux, f);
  await Promise.resolve();
  expect(mux.roomForAgent()).toBeNull();

  f.setFull(true);
  const wait = mux.roomForAgent();
  expect(wait).not.toBeNull();
  const resumed = settled(wait!);
  await Bun.sleep(20);
  expect(resumed()).toBe(false);

  f.setFull(false);
  await Promise.resolve();
  expect(resumed()).toBe(true);
  expect(mux.roomForAgent()).toBeNull();
});
