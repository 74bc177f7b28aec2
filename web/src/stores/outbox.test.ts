/** The offline outbox: queued on no network, sent once and in order when it returns. */
import { expect, test } from "bun:test";
import { Code, ConnectError, createRouterTransport, type Transport } from "@connectrpc/connect";
import {
  AgentService,
  type AnswerPermissionRequest,
  type PromptRequest,
} from "@gen/switchboard/v1/agent_pb.ts";
import { testApp } from "../testing/app.ts";
import { useAgentsStore } from "./agents.ts";
import { memoryCache, type Cache } from "./cache.ts";
import { useOutboxStore, type OutboxEntry } from "./outbox.ts";

type Call = { method: string; key: string; what: string };

/**
 * A hub that keeps idempotency keys like the real one, behind a network that can be cut:
 * `down` fails every call as a browser's fetch does; `loseAnswers` lets calls reach the hub
 * but loses the answer on the way back.
 */
function flakyHub(refuse: (req: PromptRequest | AnswerPermissionRequest) => ConnectError | null) {
  const seen = new Set<string>();
  const calls: Call[] = [];
  const applied: Call[] = [];
  const net = { down: false, loseAnswers: false };
  const firstTime = (c: Call) => {
    calls.push(c);
    if (seen.has(c.key)) return false;
    seen.add(c.key);
    applied.push(c);
    return true;
  };
  const inner = createRouterTransport((r) =>
    r.service(AgentService, {
      prompt: (req) => {
        const err = refuse(req);
        if (err) throw err;
        const text = (JSON.parse(req.promptJson) as { text: string }[])[0]!.text;
        return { duplicate: !firstTime({ method: "prompt", key: req.idempotencyKey, what: text }) };
      },
      answerPermission: (req) => {
        const err = refuse(req);
        if (err) throw err;
        const c = { method: "answer", key: req.idempotencyKey, what: req.optionId };
        return { duplicate: !firstTime(c) };
      },
    }),
  );
  const lost = () =>
    new ConnectError("Failed to fetch", Code.Unavailable, undefined, undefined, new TypeError());
  const transport: Transport = {
    async unary(...args) {
      if (net.down) throw lost();
      const r = await inner.unary(...args);
      if (net.loseAnswers) throw lost();
      return r;
    },
    stream: (...args) => inner.stream(...args),
  };
  return { transport, net, calls, applied };
}

function setup(opts: { cache?: Cache; refuse?: Parameters<typeof flakyHub>[0] } = {}) {
  const hub = flakyHub(opts.refuse ?? (() => null));
  const t = testApp({ transport: hub.transport, cache: opts.cache });
  t.services.live.start();
  const agents = t.run(() => useAgentsStore());
  const outbox = t.run(() => useOutboxStore());
  return { ...hub, t, agents, outbox };
}

/** The socket opens (a reconnect); the outbox flushes by itself, awaited here. */
async function reconnect(s: ReturnType<typeof setup>) {
  const before = s.calls.length;
  s.t.socket().open();
  for (let i = 0; i < 50 && s.calls.length === before; i++) await Bun.sleep(1);
  // What the socket started; flush() joins a flush in flight.
  await s.outbox.flush();
}

test("with the hub reachable, prompts and answers go straight out", async () => {
  const s = setup();
  expect(await s.agents.prompt("a1", "hello", "k1")).toBe(true);
  expect(await s.agents.prompt("a1", "hello", "k1")).toBe(false);
  expect(await s.agents.answerPermission("a1", "r1", "allow", "k2")).toBeUndefined();
  expect(s.applied.map((c) => c.what)).toEqual(["hello", "allow"]);
  expect(s.outbox.size).toBe(0);
});

test("no network: queued, kept on the device, then sent once each, in order, on reconnect", async () => {
  const cache = memoryCache();
  const s = setup({ cache });
  s.net.down = true;
  expect(await s.agents.prompt("a1", "first", "k1")).toBe("queued");
  expect(await s.agents.answerPermission("a1", "r1", "allow", "k2")).toBe("queued");
  expect(await s.agents.prompt("a2", "other agent", "k3")).toBe("queued");
  expect(s.outbox.waitingFor("a1").map((e) => e.key)).toEqual(["k1", "k2"]);
  const saved = await cache.get<OutboxEntry[]>("outbox");
  expect(saved?.map((e) => [e.key, e.kind])).toEqual([
    ["k1", "prompt"],
    ["k2", "answer"],
    ["k3", "prompt"],
  ]);

  // A flush while still offline tries the first and stops: nothing dropped, nothing reordered.
  await s.outbox.flush();
  expect(s.outbox.size).toBe(3);
  expect(s.outbox.blocked).toBe(true);

  s.net.down = false;
  await reconnect(s);
  expect(s.applied.map((c) => [c.key, c.what])).toEqual([
    ["k1", "first"],
    ["k2", "allow"],
    ["k3", "other agent"],
  ]);
  expect(s.outbox.size).toBe(0);
  expect(s.outbox.blocked).toBe(false);
  expect(await cache.get<OutboxEntry[]>("outbox")).toEqual([]);

  // Another reconnect has nothing more to send.
  await reconnect(s);
  expect(s.calls.length).toBe(3);
});

test("a new prompt for an agent with queued ones goes after them, even when online", async () => {
  const s = setup();
  s.net.down = true;
  await s.agents.prompt("a1", "one", "k1");
  s.net.down = false;
  // The outbox is flushed in the background; the new prompt does not jump the queue.
  expect(await s.agents.prompt("a1", "two", "k2")).toBe("queued");
  await s.outbox.flush();
  expect(s.applied.map((c) => c.what)).toEqual(["one", "two"]);
});

test("a try whose answer was lost is retried with the same key; the hub's duplicate counts as sent", async () => {
  const s = setup();
  s.net.loseAnswers = true;
  expect(await s.agents.prompt("a1", "once only", "k1")).toBe("queued");
  // It reached the hub, but the app could not know: it is still waiting.
  expect(s.applied.length).toBe(1);
  expect(s.outbox.size).toBe(1);
  await s.outbox.flush();
  expect(s.outbox.size).toBe(1);

  s.net.loseAnswers = false;
  await reconnect(s);
  expect(s.outbox.size).toBe(0);
  expect(s.calls.map((c) => c.key)).toEqual(["k1", "k1", "k1"]);
  expect(s.applied.map((c) => c.what)).toEqual(["once only"]);
});

test("a refusal drops the entry with a visible error, and the rest still go", async () => {
  const s = setup({
    refuse: (req) =>
      "requestId" in req && req.requestId === "gone"
        ? new ConnectError("the request was already answered", Code.FailedPrecondition)
        : null,
  });
  s.net.down = true;
  await s.agents.answerPermission("a1", "gone", "allow", "k1");
  await s.agents.prompt("a1", "after it", "k2");
  s.net.down = false;
  await reconnect(s);
  expect(s.outbox.size).toBe(0);
  expect(s.applied.map((c) => c.what)).toEqual(["after it"]);
  expect(s.outbox.failuresFor("a1")).toEqual([
    {
      key: "k1",
      agentId: "a1",
      kind: "answer",
      summary: "allow",
      message: "the request was already answered",
    },
  ]);
  s.outbox.dismiss("k1");
  expect(s.outbox.failures).toEqual([]);
});

test("a second answer to a request while offline replaces the first: the last choice is sent", async () => {
  const s = setup();
  s.net.down = true;
  await s.agents.answerPermission("a1", "r1", "allow", "k1");
  await s.agents.prompt("a1", "between", "k2");
  await s.agents.answerPermission("a1", "r1", "reject", "k3");
  expect(s.outbox.waitingFor("a1").map((e) => e.key)).toEqual(["k2", "k3"]);
  s.net.down = false;
  await reconnect(s);
  expect(s.applied.map((c) => c.what)).toEqual(["between", "reject"]);
});

test("a refusal while online is thrown, not queued", async () => {
  const s = setup({ refuse: () => new ConnectError("no such agent", Code.NotFound) });
  const err = await s.agents.prompt("a1", "hi").catch((e: unknown) => e);
  expect(err).toBeInstanceOf(ConnectError);
  expect(s.outbox.size).toBe(0);
});

test("a cold start sends what waited before the reload; a discarded prompt is never sent", async () => {
  const cache = memoryCache();
  const before = setup({ cache });
  before.net.down = true;
  await before.agents.prompt("a1", "keep", "k1");
  await before.agents.prompt("a1", "never mind", "k2");
  expect(await before.outbox.discard("k2")).toBe(true);
  expect(before.outbox.waitingFor("a1").map((e) => e.key)).toEqual(["k1"]);

  const after = setup({ cache });
  await after.outbox.restored;
  // Flushed at start, without waiting for the socket.
  await after.outbox.flush();
  expect(after.applied.map((c) => [c.key, c.what])).toEqual([["k1", "keep"]]);
  expect(after.outbox.size).toBe(0);
});
