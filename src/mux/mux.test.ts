/**
 * The multiplexer's rules, each shown on real processes: `bun worker.ts mux` around the fake
 * agent, official SDK clients on stdio and on the Unix socket, raw sockets for what no SDK sends.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { rawSocket, socketClient } from "../testing/clients.ts";
import { floodIndexes, script, startMux, type MuxRun } from "../testing/harness.ts";

let run: MuxRun | null = null;
afterEach(async () => {
  await run?.cleanup();
  run = null;
});

const V1_KINDS = new Set([
  "user_message_chunk",
  "agent_message_chunk",
  "agent_thought_chunk",
  "tool_call",
  "tool_call_update",
  "plan",
  "available_commands_update",
  "current_mode_update",
  "config_option_update",
  "session_info_update",
  "usage_update",
]);

describe("rule 1: one initialize, one session/new; later frontends are answered by the mux", () => {
  test("the agent sees one of each, however many frontends come and go", async () => {
    run = await startMux();
    const b = await run.join({ name: "b" });
    const c = await run.join({ name: "c" });
    await c.close();
    const d = await run.join({ name: "d" });
    const log = run.agentLog();
    expect(log.filter((e) => e.method === "initialize").length).toBe(1);
    expect(log.filter((e) => e.method === "session/new").length).toBe(1);
    // The agent was told fs and terminal are served, though the editor offered neither.
    const caps = (log[0]!.params as { clientCapabilities: Record<string, unknown> })
      .clientCapabilities;
    expect(caps).toMatchObject({ fs: { readTextFile: true, writeTextFile: true }, terminal: true });
    void b;
    void d;
  });

  test("a later initialize gets the agent's real answer; session/new the same session", async () => {
    run = await startMux();
    const b = await socketClient(run.socket, { name: "b" });
    const init = await b.conn.agent.request("initialize", {
      protocolVersion: 1,
      clientCapabilities: {},
    });
    expect(init.agentInfo?.name).toBe("fake-agent");
    expect(init.agentCapabilities?.loadSession).toBe(true);
    const s = await b.conn.agent.request("session/new", { cwd: run.cwd, mcpServers: [] });
    expect(s.sessionId).toBe(run.sessionId);
    expect(s.modes?.currentModeId).toBe("code");
    await b.close();
  });

  test("session/new is followed by the history; session/load replays it before answering", async () => {
    run = await startMux();
    await run.prompt(run.primary, "say one", "say two");
    const b = await run.join({ name: "b" });
    await b.until((c) => c.texts().includes("two"), "history after session/new");
    expect(b.texts("user_message_chunk")).toEqual(["say one\nsay two"]);

    const c = await socketClient(run.socket, { name: "c" });
    await c.conn.agent.request("initialize", { protocolVersion: 1, clientCapabilities: {} });
    const loaded = await c.conn.agent.request("session/load", {
      sessionId: run.sessionId,
      cwd: run.cwd,
      mcpServers: [],
    });
    // Everything was there when the answer arrived.
    expect(c.texts()).toEqual(["one", "two"]);
    expect(loaded?.modes?.currentModeId).toBe("code");
    await c.close();
  });

  test("nothing is sent unasked: a new connection hears nothing until it asks", async () => {
    run = await startMux();
    await run.prompt(run.primary, "say before");
    const raw = await rawSocket(run.socket);
    await Bun.sleep(300);
    expect(raw.lines).toEqual([]);
    raw.send('{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":1}}\n');
    await raw.until((l) => l.length >= 1, "initialize answer");
    await Bun.sleep(200);
    expect(raw.lines.length).toBe(1);
    expect(JSON.parse(raw.lines[0]!)).toMatchObject({ id: 0, result: { protocolVersion: 1 } });
    raw.close();
  });

  test("session/load of another session id is refused, the session is not replaced", async () => {
    run = await startMux();
    const b = await run.join({ name: "b" }, "none");
    await b.conn.agent.request("initialize", { protocolVersion: 1, clientCapabilities: {} });
    const err = await b.conn.agent
      .request("session/load", { sessionId: "other", cwd: run.cwd, mcpServers: [] })
      .then(
        () => null,
        (e: { code?: number }) => e,
      );
    expect(err?.code).toBe(-32002);
    expect(run.agentLog().filter((e) => e.method === "session/load").length).toBe(0);
  });
});

describe("rule 2: each frontend's ids are its own", () => {
  test("the same id from two frontends: each answer goes only to its asker", async () => {
    run = await startMux();
    const x = await rawSocket(run.socket);
    const y = await rawSocket(run.socket);
    x.send('{"jsonrpc":"2.0","id":7,"method":"initialize","params":{"protocolVersion":1}}\n');
    y.send(
      `{"jsonrpc":"2.0","id":7,"method":"session/new","params":{"cwd":"${run.cwd}","mcpServers":[]}}\n`,
    );
    x.send(
      `{"jsonrpc":"2.0","id":"s","method":"session/set_mode","params":{"sessionId":"${run.sessionId}","modeId":"ask"}}\n`,
    );
    await x.until((l) => l.some((m) => m.includes('"id":"s"')), "x's set_mode answer");
    await y.until((l) => l.some((m) => m.includes('"id":7')), "y's session/new answer");
    await Bun.sleep(200);
    const answers = (lines: string[]) =>
      lines.map((l) => JSON.parse(l)).filter((m) => "id" in m && !("method" in m));
    expect(answers(x.lines).map((m) => [m.id, Object.keys(m.result).sort()])).toEqual([
      [7, ["agentCapabilities", "agentInfo", "authMethods", "protocolVersion"]],
      ["s", []],
    ]);
    expect(answers(y.lines).map((m) => [m.id, m.result.sessionId])).toEqual([[7, run.sessionId]]);
    x.close();
    y.close();
  });
});

describe("rule 3: every update reaches every frontend once, in one order", () => {
  test("frontends attaching mid-stream get history then live, no gap, no duplicate", async () => {
    run = await startMux();
    const N = 20_000;
    const early = await run.join({ name: "early" });
    const done = run.prompt(run.primary, `flood ${N}`);
    const late: Awaited<ReturnType<MuxRun["join"]>>[] = [];
    for (let i = 0; i < 4; i++) {
      await early.until((c) => floodIndexes(c).length >= (i + 1) * (N / 6), `stream part ${i}`);
      late.push(await run.join({ name: `late${i}` }, i % 2 ? "load" : "new"));
    }
    expect((await done).stopReason).toBe("end_turn");
    const expected = Array.from({ length: N }, (_, i) => i);
    for (const c of [run.primary, early, ...late]) {
      await c.until((x) => floodIndexes(x).length >= N, `all updates at ${c.name}`);
      expect(floodIndexes(c)).toEqual(expected);
    }
    // Joiners really did join mid-stream.
    expect(floodIndexes(early).length).toBe(N);
  });
});

describe("rule 4: lossless history", () => {
  test("messageId, _meta, annotations and non-text blocks survive replay; text chunks merge", async () => {
    run = await startMux();
    await run.prompt(run.primary, "rich", "chunks 50 same");
    const live = run.primary.updates.filter(
      (u) => u.update.sessionUpdate === "agent_message_chunk",
    );
    const b = await run.join({ name: "b" });
    await b.until((c) => c.texts().some((t) => t.includes("c49")), "replay");
    const replayed = b.updates.filter((u) => u.update.sessionUpdate === "agent_message_chunk");
    const rich = live.filter(
      (u) => !(u.update as { content: { text?: string } }).content.text?.startsWith("c"),
    );
    for (const u of rich) expect(replayed).toContainEqual(u);
    // 50 chunks of one message arrive as one, with the same text and messageId.
    const merged = replayed.filter((u) =>
      (u.update as { content: { text?: string } }).content.text?.startsWith("c0 "),
    );
    expect(merged.length).toBe(1);
    expect((merged[0]!.update as { content: { text: string } }).content.text).toBe(
      Array.from({ length: 50 }, (_, i) => `c${i} `).join(""),
    );
    expect((merged[0]!.update as { messageId?: string }).messageId).toBe(
      (
        live.find((u) => (u.update as { content: { text?: string } }).content.text === "c0 ")!
          .update as { messageId?: string }
      ).messageId,
    );
  });

  test("bounded: the oldest turns become a summary, the newest turn stays whole", async () => {
    run = await startMux({ flags: ["--history-bytes", "4000"] });
    for (let i = 1; i <= 8; i++) {
      await run.prompt(run.primary, `say turn ${i} ${"x".repeat(400)}`);
    }
    const b = await run.join({ name: "b" });
    await b.until((c) => c.texts().some((t) => t.startsWith("turn 8")), "replay");
    const first = b.updates[0]!.update as { messageId?: string; content: { text: string } };
    expect(first.messageId).toBe("switchboard-history-summary");
    expect(first.content.text).toContain("say turn 1");
    expect(b.texts().some((t) => t.startsWith("turn 1 "))).toBe(false);
    expect(b.texts("user_message_chunk").at(-1)).toStartWith("say turn 8");
  });
});

describe("rule 5: prompts reach the others first; extensions only as _switchboard/ notifications", () => {
  test("a prompt from one frontend shows as a user message at the others before the answer", async () => {
    run = await startMux();
    const b = await run.join({ name: "b" });
    const raw = await rawSocket(run.socket);
    raw.send('{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":1}}\n');
    raw.send(
      `{"jsonrpc":"2.0","id":2,"method":"session/new","params":{"cwd":"${run.cwd}","mcpServers":[]}}\n`,
    );
    await raw.until((l) => l.some((m) => m.includes('"id":2')), "raw joined");
    const r = await run.prompt(b, "say answer", "tool edit", "plan a|b", "usage", "think hmm");
    expect(r.stopReason).toBe("end_turn");
    const kinds = run.primary.updates.map((u) => u.update.sessionUpdate);
    const userAt = kinds.indexOf("user_message_chunk");
    expect(userAt).toBeGreaterThanOrEqual(0);
    expect(userAt).toBeLessThan(kinds.indexOf("agent_message_chunk"));
    const user = run.primary.updates[userAt]!.update as {
      content: { text: string };
      _meta?: unknown;
    };
    expect(user.content.text).toContain("say answer");
    expect(user._meta).toEqual({ switchboard: { frontend: "b#2" } });
    await run.primary.until(
      (c) => c.ext.some((e) => e.method === "_switchboard/turn_finished"),
      "turn_finished",
    );
    expect(
      run.primary.ext.find((e) => e.method === "_switchboard/turn_finished")!.params,
    ).toMatchObject({
      sessionId: run.sessionId,
      stopReason: "end_turn",
      frontend: "b#2",
    });
    // Every line on the wire is JSON-RPC; updates are v1 kinds of this session; the rest is ours.
    await raw.until((l) => l.some((m) => m.includes("turn_finished")), "raw saw the turn end");
    for (const line of raw.lines) {
      const m = JSON.parse(line);
      expect(m.jsonrpc).toBe("2.0");
      if (m.method === "session/update") {
        expect(m.params.sessionId).toBe(run.sessionId);
        expect(V1_KINDS.has(m.params.update.sessionUpdate)).toBe(true);
      } else if (m.method) {
        expect(m.method).toStartWith("_switchboard/");
      } else {
        expect([1, 2]).toContain(m.id);
      }
    }
    raw.close();
  });

  test("set_mode is seen by everyone even when the agent sends no current_mode_update", async () => {
    run = await startMux({ env: { FAKE_AGENT_NO_MODE_UPDATE: "1" } });
    const b = await run.join({ name: "b" });
    await run.primary.conn.agent.request("session/set_mode", {
      sessionId: run.sessionId,
      modeId: "ask",
    });
    await b.until(
      (c) => c.updates.some((u) => u.update.sessionUpdate === "current_mode_update"),
      "mode update",
    );
    const c = await run.join({ name: "c" }, "none");
    await c.conn.agent.request("initialize", { protocolVersion: 1, clientCapabilities: {} });
    const s = await c.conn.agent.request("session/new", { cwd: run.cwd, mcpServers: [] });
    expect(s.modes?.currentModeId).toBe("ask");
  });
});

describe("rule 6: permission requests", () => {
  test("all get it; the first real answer wins; an error never wins; the rest are withdrawn", async () => {
    run = await startMux({ primary: { name: "primary", permission: { kind: "error" } } });
    const watcher = await run.join({ name: "watcher", permission: { kind: "never" } });
    const approver = await run.join({
      name: "approver",
      permission: { kind: "select", optionId: "allow", delayMs: 300 },
    });
    await run.prompt(run.primary, "permission deploy");
    expect(run.primary.texts()).toContain("permission: selected allow");
    expect(run.primary.permissions.map((p) => p.settled)).toEqual(["error"]);
    expect(approver.permissions.map((p) => p.settled)).toEqual(["selected allow"]);
    await watcher.until((c) => c.permissions[0]?.settled === "withdrawn", "withdrawn copy");
    const resolved = run.primary.ext.find((e) => e.method === "_switchboard/permission_resolved");
    expect(resolved?.params).toMatchObject({
      outcome: { outcome: "selected", optionId: "allow" },
      by: "approver#3",
    });
  });

  test("with no one able to answer, it waits and goes to the next that attaches", async () => {
    run = await startMux({ primary: { name: "primary", permission: { kind: "error" } } });
    const done = run.prompt(run.primary, "permission late");
    await run.primary.until((c) => c.permissions.length === 1, "primary's copy");
    await Bun.sleep(300);
    const late = await run.join({
      name: "late",
      permission: { kind: "select", optionId: "reject" },
    });
    expect((await done).stopReason).toBe("end_turn");
    expect(run.primary.texts()).toContain("permission: selected reject");
    expect(late.permissions.length).toBe(1);
    // A frontend that joins after the answer sees it resolved, not as a live request.
    const after = await run.join({
      name: "after",
      permission: { kind: "select", optionId: "allow" },
    });
    await after.until(
      (c) => c.ext.some((e) => e.method === "_switchboard/permission_resolved"),
      "replayed resolution",
    );
    expect(after.permissions.length).toBe(0);
  });

  test("session/cancel from any frontend resolves every pending request as cancelled", async () => {
    run = await startMux();
    const b = await run.join({ name: "b" });
    const done = run.prompt(run.primary, "permission wait");
    await b.until((c) => c.permissions.length === 1, "b's copy");
    await run.primary.until((c) => c.permissions.length === 1, "primary's copy");
    await b.conn.agent.notify("session/cancel", { sessionId: run.sessionId });
    expect((await done).stopReason).toBe("cancelled");
    await run.primary.until(
      (c) => c.permissions[0]?.settled === "withdrawn",
      "primary's copy withdrawn",
    );
    await b.until((c) => c.permissions[0]?.settled === "withdrawn", "b's copy withdrawn");
    expect(run.primary.texts()).toContain("permission: cancelled");
  });
});

describe("rule 7: fs and terminal calls", () => {
  test("served by the primary when it offers them", async () => {
    run = await startMux({
      capabilities: { fs: { readTextFile: true, writeTextFile: true } },
      primary: { name: "primary", fs: { read: (p) => `editor buffer of ${p}` } },
    });
    await run.prompt(run.primary, `read ${run.cwd}/a.txt`);
    expect(run.primary.texts()).toContain(`read: editor buffer of ${run.cwd}/a.txt`);
  });

  test("served by the mux inside the session folder otherwise; outside is refused", async () => {
    run = await startMux();
    writeFileSync(join(run.cwd, "a.txt"), "on disk");
    await run.prompt(
      run.primary,
      `read ${run.cwd}/a.txt`,
      `write ${run.cwd}/sub/b.txt written by agent`,
      "read /etc/hostname",
      "terminal echo hi",
    );
    const texts = run.primary.texts();
    expect(texts).toContain("read: on disk");
    expect(texts).toContain("write: ok");
    expect(readFileSync(join(run.cwd, "sub/b.txt"), "utf8")).toBe("written by agent");
    expect(texts.find((t) => t.startsWith("read error:"))).toContain("outside the workspace");
    expect(texts.find((t) => t.startsWith("terminal:"))).toMatch(/^terminal: exit 0 output hi/);
  });

  test("the built-in service takes over when the primary leaves", async () => {
    run = await startMux({
      capabilities: { fs: { readTextFile: true, writeTextFile: true } },
      primary: { name: "primary", fs: { read: () => "from editor" } },
    });
    writeFileSync(join(run.cwd, "a.txt"), "from disk");
    const b = await run.join({ name: "b" });
    await run.primary.leave();
    await b.until(
      (c) => c.ext.some((e) => JSON.stringify(e.params).includes('"frontends":[{"name":"b#2"')),
      "primary gone",
    );
    await run.prompt(b, `read ${run.cwd}/a.txt`);
    expect(b.texts()).toContain("read: from disk");
  });

  test("an editor that never answers gets the agent an error in bounded time", async () => {
    run = await startMux({
      flags: ["--client-timeout-ms", "500"],
      capabilities: { fs: { readTextFile: true } },
      primary: { name: "primary", fs: { read: () => new Promise<string>(() => {}) } },
    });
    await run.prompt(run.primary, `read ${run.cwd}/a.txt`);
    expect(run.primary.texts().find((t) => t.startsWith("read error:"))).toContain(
      "did not answer fs/read_text_file",
    );
  });
});

describe("rule 8: lifetime", () => {
  test("the session outlives the primary while others remain, and ends with the last", async () => {
    run = await startMux();
    const b = await run.join({ name: "b" });
    await run.primary.leave();
    const r = await run.prompt(b, "say still here");
    expect(r.stopReason).toBe("end_turn");
    expect(b.texts()).toContain("still here");
    await b.close();
    // The mux process ends and takes its socket with it.
    expect(await run.primary.proc.exited).toBe(0);
    expect(await Bun.file(run.socket).exists()).toBe(false);
  });

  test("an agent crash fails pending requests, tells everyone, disconnects them, removes the socket", async () => {
    run = await startMux();
    const b = await run.join({ name: "b" });
    const err = await run.primary.conn.agent
      .request("session/prompt", { sessionId: run.sessionId, prompt: script("crash 7") })
      .then(
        () => null,
        (e: { message?: string; data?: unknown }) => e,
      );
    expect(err).not.toBeNull();
    await b.until(
      (c) => c.ext.some((e) => e.method === "_switchboard/agent_exited"),
      "exit notice",
    );
    const notice = b.ext.find((e) => e.method === "_switchboard/agent_exited")!.params as {
      code: number;
      stderr: string;
    };
    expect(notice.code).toBe(7);
    expect(notice.stderr).toContain("crashing on request");
    expect(await run.primary.proc.exited).toBe(7);
    expect(await Bun.file(run.socket).exists()).toBe(false);
    await b.conn.closed;
  });
});

describe("rule 9: bad input", () => {
  test("a malformed line gets -32700 and the connection goes on", async () => {
    run = await startMux();
    const raw = await rawSocket(run.socket);
    raw.send('this is not json\n[1,2]\n{"jsonrpc":"2.0","id":3}\n');
    raw.send('{"jsonrpc":"2.0","id":4,"method":"initialize","params":{"protocolVersion":1}}\n');
    await raw.until((l) => l.length >= 4, "four answers");
    const msgs = raw.lines.map((l) => JSON.parse(l));
    expect(msgs[0]).toMatchObject({ id: null, error: { code: -32700 } });
    expect(msgs[1]).toMatchObject({ id: null, error: { code: -32600 } });
    expect(msgs[2]).toMatchObject({ id: 3, error: { code: -32600 } });
    expect(msgs[3]).toMatchObject({ id: 4, result: { protocolVersion: 1 } });
    raw.close();
  });

  test("requests with params of the wrong shape get errors; the session goes on for everyone", async () => {
    run = await startMux();
    const raw = await rawSocket(run.socket);
    const sid = run.sessionId;
    raw.send('{"jsonrpc":"2.0","id":1,"method":"initialize","params":["not","an","object"]}\n');
    raw.send('{"jsonrpc":"2.0","id":2,"method":"session/new","params":"nope"}\n');
    raw.send(
      `{"jsonrpc":"2.0","id":3,"method":"session/prompt","params":{"sessionId":"${sid}"}}\n`,
    );
    raw.send('{"jsonrpc":"2.0","id":4,"method":"session/prompt"}\n');
    raw.send('{"jsonrpc":"2.0","id":5,"method":"session/load","params":7}\n');
    await raw.until((l) => l.filter((m) => /"id":[1-5]\b/.test(m)).length >= 5, "five answers");
    const byId = new Map(
      raw.lines
        .map((l) => JSON.parse(l))
        .filter((m) => "id" in m)
        .map((m) => [m.id, m]),
    );
    expect(byId.get(3).error.code).toBe(-32602);
    expect(byId.get(4).error.code).toBe(-32602);
    expect(byId.get(5).error.code).toBe(-32002);
    // The primary's session is untouched and answers as before.
    const r = await run.prompt(run.primary, "say still fine");
    expect(r.stopReason).toBe("end_turn");
    await run.primary.until((c) => c.texts().includes("still fine"), "the answer");
    raw.close();
  });

  test("a 64 MiB image prompt passes through to the agent and to the others", async () => {
    run = await startMux();
    const b = await run.join({ name: "b" });
    const data = Buffer.alloc(48 * 1024 * 1024, 7).toString("base64");
    expect(data.length).toBeGreaterThanOrEqual(64 * 1024 * 1024);
    await run.primary.conn.agent.request("session/prompt", {
      sessionId: run.sessionId,
      prompt: [
        { type: "text", text: "echo-image" },
        { type: "image", data, mimeType: "image/png" },
      ],
    });
    expect(run.primary.texts()).toContain(`image bytes ${data.length}`);
    await b.until((c) => c.texts().includes(`image bytes ${data.length}`), "b saw the answer");
    const img = b.updates.find(
      (u) => (u.update as { content?: { type: string } }).content?.type === "image",
    );
    expect((img!.update as { content: { data: string } }).content.data.length).toBe(data.length);
  });

  test("a frontend that stops reading is dropped; the others are not slowed", async () => {
    run = await startMux();
    // A separate process, so its pause really stops reading from the socket.
    const stalled = Bun.spawn({
      cmd: [
        process.execPath,
        "-e",
        `const c = require("node:net").createConnection(${JSON.stringify(run.socket)});
         c.write('{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":1}}\\n');
         c.write('{"jsonrpc":"2.0","id":2,"method":"session/new","params":{"cwd":"/","mcpServers":[]}}\\n');
         c.once("data", () => { c.pause(); console.log("paused"); });
         process.stdin.on("data", () => c.resume());
         c.on("close", () => { console.log("closed"); process.exit(0); });
         setTimeout(() => process.exit(1), 60000);`,
      ],
      stdin: "pipe",
      stdout: "pipe",
    });
    const reader = stalled.stdout.getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toContain("paused");
    const b = await run.join({ name: "b" });
    // Two 24 MiB prompts put 48 MiB of user messages in the stalled reader's queue.
    for (let i = 0; i < 2; i++) {
      const data = Buffer.alloc(18 * 1024 * 1024, i).toString("base64");
      await run.primary.conn.agent.request("session/prompt", {
        sessionId: run.sessionId,
        prompt: [
          { type: "text", text: "echo-image" },
          { type: "image", data, mimeType: "image/png" },
        ],
      });
    }
    const r = await run.prompt(run.primary, "chunks 100 distinct");
    expect(r.stopReason).toBe("end_turn");
    await b.until((c) => c.texts().includes("c99 "), "b got everything");
    // Dropped after it took nothing for the stall time (3 s), while b went on.
    for (
      let i = 0;
      i < 100 && !/dropped frontend#\d+: it stopped reading/.test(run.primary.stderr());
      i++
    ) {
      await Bun.sleep(100);
    }
    expect(run.primary.stderr()).toMatch(/dropped frontend#\d+: it stopped reading/);
    // It was disconnected, not left hanging: once it reads again it finds the end.
    stalled.stdin.write("resume\n");
    stalled.stdin.flush();
    expect(await stalled.exited).toBe(0);
  });
});
