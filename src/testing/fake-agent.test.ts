/**
 * Drives the fake agent as a subprocess through the SDK's client side and checks each command.
 */

import * as acp from "@agentclientprotocol/sdk";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fakeAgentCommand, TINY_PNG_BASE64 } from "./fake-agent.ts";

// ---------------------------------------------------------------------------------------------
// Harness: one agent process, one SDK client connection
// ---------------------------------------------------------------------------------------------

type PermissionHandler = (
  params: acp.RequestPermissionRequest,
) => Promise<acp.RequestPermissionResponse>;

interface Terminal {
  proc: Bun.Subprocess<"ignore", "pipe", "pipe">;
  output: Promise<string>;
}

class Harness {
  readonly updates: acp.SessionNotification[] = [];
  readonly stderr: Promise<string>;
  /** How the client answers session/request_permission; allows by default. */
  onPermission: PermissionHandler = async () => ({
    outcome: { outcome: "selected", optionId: "allow" },
  });
  readonly permissionRequests: acp.RequestPermissionRequest[] = [];
  private readonly terminals = new Map<string, Terminal>();
  private terminalCounter = 0;
  readonly connection: acp.ClientConnection;

  constructor(
    readonly proc: Bun.Subprocess<"pipe", "pipe", "pipe">,
    maxMessageBytes: number,
  ) {
    this.stderr = new Response(proc.stderr).text();
    const stdin = new WritableStream<Uint8Array>({
      write(chunk) {
        proc.stdin.write(chunk);
        const flushed = proc.stdin.flush();
        if (typeof flushed !== "number") return flushed.then(() => {});
      },
      close() {
        proc.stdin.end();
      },
    });
    this.connection = this.client().connect(
      acp.ndJsonStream(stdin, proc.stdout, { maxMessageBytes }),
    );
  }

  get agent(): acp.ClientContext {
    return this.connection.agent;
  }

  private client(): acp.ClientApp {
    return acp
      .client({ name: "fake-agent-test" })
      .onNotification("session/update", (ctx) => {
        this.updates.push(ctx.params);
      })
      .onRequest("session/request_permission", (ctx) => {
        this.permissionRequests.push(ctx.params);
        return this.onPermission(ctx.params);
      })
      .onRequest("fs/read_text_file", (ctx) => {
        try {
          return { content: readFileSync(ctx.params.path, "utf8") };
        } catch {
          throw acp.RequestError.resourceNotFound(ctx.params.path);
        }
      })
      .onRequest("fs/write_text_file", (ctx) => {
        writeFileSync(ctx.params.path, ctx.params.content);
        return {};
      })
      .onRequest("terminal/create", (ctx) => {
        const { command, args = [], cwd } = ctx.params;
        const proc = Bun.spawn([command, ...args], {
          cwd: cwd ?? undefined,
          stdin: "ignore",
          stdout: "pipe",
          stderr: "pipe",
        });
        const terminalId = `term-${++this.terminalCounter}`;
        const output = Promise.all([
          new Response(proc.stdout).text(),
          new Response(proc.stderr).text(),
        ]).then(([out, err]) => out + err);
        this.terminals.set(terminalId, { proc, output });
        return { terminalId };
      })
      .onRequest("terminal/wait_for_exit", async (ctx) => {
        const terminal = this.terminal(ctx.params.terminalId);
        return { exitCode: await terminal.proc.exited, signal: null };
      })
      .onRequest("terminal/output", async (ctx) => {
        const terminal = this.terminal(ctx.params.terminalId);
        const exitCode = await terminal.proc.exited;
        return { output: await terminal.output, truncated: false, exitStatus: { exitCode } };
      })
      .onRequest("terminal/release", (ctx) => {
        this.terminal(ctx.params.terminalId).proc.kill();
        this.terminals.delete(ctx.params.terminalId);
        return {};
      });
  }

  private terminal(id: string): Terminal {
    const terminal = this.terminals.get(id);
    if (!terminal) throw acp.RequestError.resourceNotFound(id);
    return terminal;
  }

  async initialize(): Promise<acp.InitializeResponse> {
    return this.agent.request("initialize", {
      protocolVersion: 1,
      clientCapabilities: { fs: { readTextFile: true, writeTextFile: true }, terminal: true },
    });
  }

  async newSession(cwd = workDir): Promise<string> {
    const { sessionId } = await this.agent.request("session/new", { cwd, mcpServers: [] });
    await this.waitFor(sessionId, (u) => u.sessionUpdate === "available_commands_update");
    return sessionId;
  }

  /** Sends a prompt and returns the stop reason and the updates it produced. */
  async prompt(
    sessionId: string,
    prompt: string | acp.ContentBlock[],
  ): Promise<{ stopReason: acp.StopReason; updates: acp.SessionUpdate[] }> {
    const from = this.updates.length;
    const blocks: acp.ContentBlock[] =
      typeof prompt === "string" ? [{ type: "text", text: prompt }] : prompt;
    const { stopReason } = await this.agent.request("session/prompt", {
      sessionId,
      prompt: blocks,
    });
    await settle();
    return { stopReason, updates: this.since(from, sessionId) };
  }

  since(from: number, sessionId: string): acp.SessionUpdate[] {
    return this.updates
      .slice(from)
      .filter((n) => n.sessionId === sessionId)
      .map((n) => n.update);
  }

  /** Resolves with the first update of the session (already received or not) matching `match`. */
  async waitFor(
    sessionId: string,
    match: (update: acp.SessionUpdate) => boolean,
    from = 0,
    timeoutMs = 5000,
  ): Promise<acp.SessionUpdate> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const found = this.since(from, sessionId).find(match);
      if (found) return found;
      await Bun.sleep(5);
    }
    throw new Error("timed out waiting for an update");
  }

  cancel(sessionId: string): Promise<void> {
    return this.agent.notify("session/cancel", { sessionId });
  }

  /** Closes stdin and returns the agent's exit code. */
  async close(): Promise<number> {
    this.connection.close();
    this.proc.stdin.end();
    return this.proc.exited;
  }
}

/**
 * Lets queued notification handlers run. The SDK resolves a response as soon as it is read, while
 * the notifications before it still pass through a few awaits in the client's handler chain.
 */
function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

function startAgent(env: Record<string, string> = {}, maxMessageBytes?: number): Harness {
  const proc = Bun.spawn(fakeAgentCommand(), {
    stdin: "pipe",
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, ...env },
  });
  return new Harness(proc, maxMessageBytes ?? 128 * 1024 * 1024);
}

async function startSession(
  env: Record<string, string> = {},
): Promise<{ harness: Harness; sessionId: string }> {
  const harness = startAgent(env);
  await harness.initialize();
  return { harness, sessionId: await harness.newSession() };
}

type Chunk = Extract<acp.SessionUpdate, { sessionUpdate: "agent_message_chunk" }>;

function messageChunks(updates: acp.SessionUpdate[]): Chunk[] {
  return updates.filter((u): u is Chunk => u.sessionUpdate === "agent_message_chunk");
}

/** Text of the agent_message_chunk updates, one string per chunk. */
function texts(updates: acp.SessionUpdate[]): string[] {
  return messageChunks(updates).map((u) => (u.content.type === "text" ? u.content.text : ""));
}

function readLog(path: string): Array<{ method: string; params: any }> {
  return readFileSync(path, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line));
}

let workDir: string;

beforeAll(() => {
  workDir = mkdtempSync(join(tmpdir(), "fake-agent-test-"));
});

afterAll(() => {
  rmSync(workDir, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------------------------
// Session setup
// ---------------------------------------------------------------------------------------------

describe("session setup", () => {
  test("initialize advertises the fake agent, and the log records what it received", async () => {
    const log = join(workDir, "setup.log");
    const harness = startAgent({ FAKE_AGENT_LOG: log });
    const init = await harness.initialize();
    expect(init).toEqual({
      protocolVersion: 1,
      agentCapabilities: {
        loadSession: true,
        promptCapabilities: { image: true, audio: false, embeddedContext: true },
      },
      agentInfo: { name: "fake-agent", version: "1.0.0" },
      authMethods: [],
    });
    await harness.newSession();
    await harness.newSession();
    expect(await harness.close()).toBe(0);

    const entries = readLog(log);
    expect(entries.filter((e) => e.method === "initialize")).toHaveLength(1);
    expect(entries.filter((e) => e.method === "session/new")).toHaveLength(2);
    expect(entries[0]!.params.clientCapabilities).toEqual({
      fs: { readTextFile: true, writeTextFile: true },
      terminal: true,
    });
  });

  test("session/new returns modes and a model option, then announces commands", async () => {
    const harness = startAgent();
    await harness.initialize();
    const response = await harness.agent.request("session/new", { cwd: workDir, mcpServers: [] });
    expect(response.sessionId).toStartWith("sess-");
    expect(response.modes).toEqual({
      currentModeId: "code",
      availableModes: [
        { id: "ask", name: "Ask" },
        { id: "code", name: "Code" },
      ],
    });
    expect(response.configOptions).toEqual([
      {
        id: "model",
        name: "Model",
        category: "model",
        type: "select",
        currentValue: "fast",
        options: [
          { value: "fast", name: "Fast" },
          { value: "smart", name: "Smart" },
        ],
      },
    ]);
    const commands = await harness.waitFor(
      response.sessionId,
      (u) => u.sessionUpdate === "available_commands_update",
    );
    expect(
      commands.sessionUpdate === "available_commands_update" && commands.availableCommands,
    ).toEqual([
      expect.objectContaining({ name: "test" }),
      expect.objectContaining({ name: "review" }),
    ]);
    await harness.close();
  });

  test("set_mode sends current_mode_update; set_config_option returns all options", async () => {
    const { harness, sessionId } = await startSession();
    const from = harness.updates.length;
    await harness.agent.request("session/set_mode", { sessionId, modeId: "ask" });
    const update = await harness.waitFor(
      sessionId,
      (u) => u.sessionUpdate === "current_mode_update",
      from,
    );
    expect(update).toEqual({ sessionUpdate: "current_mode_update", currentModeId: "ask" });

    const { configOptions } = await harness.agent.request("session/set_config_option", {
      sessionId,
      configId: "model",
      value: "smart",
    });
    expect(configOptions).toHaveLength(1);
    expect(configOptions[0]).toMatchObject({ id: "model", currentValue: "smart" });

    await expect(
      harness.agent.request("session/set_config_option", {
        sessionId,
        configId: "model",
        value: "huge",
      }),
    ).rejects.toMatchObject({ code: -32602 });
    await expect(
      harness.agent.request("session/set_mode", { sessionId, modeId: "nope" }),
    ).rejects.toMatchObject({ code: -32602 });
    await harness.close();
  });

  test("FAKE_AGENT_NO_MODE_UPDATE=1 suppresses current_mode_update", async () => {
    const { harness, sessionId } = await startSession({ FAKE_AGENT_NO_MODE_UPDATE: "1" });
    const from = harness.updates.length;
    await harness.agent.request("session/set_mode", { sessionId, modeId: "ask" });
    await harness.prompt(sessionId, "say after");
    expect(harness.since(from, sessionId).map((u) => u.sessionUpdate)).toEqual([
      "agent_message_chunk",
    ]);
    await harness.close();
  });

  test("session/load replays the session's history before answering", async () => {
    const { harness, sessionId } = await startSession();
    await harness.agent.request("session/set_config_option", {
      sessionId,
      configId: "model",
      value: "smart",
    });
    await harness.prompt(sessionId, "say one\nthink two");
    await harness.prompt(sessionId, "hello");
    const sent = harness.since(0, sessionId);

    const from = harness.updates.length;
    const response = await harness.agent.request("session/load", {
      sessionId,
      cwd: workDir,
      mcpServers: [],
    });
    // Replayed updates were written before the response: no settling needed beyond the SDK's.
    await settle();
    expect(response).toEqual({
      modes: expect.objectContaining({ currentModeId: "code" }),
      configOptions: [expect.objectContaining({ id: "model", currentValue: "smart" })],
    });
    const replayed = harness.since(from, sessionId);
    const userChunks = replayed.filter((u) => u.sessionUpdate === "user_message_chunk");
    expect(userChunks.map((u) => "content" in u && u.content)).toEqual([
      { type: "text", text: "say one\nthink two" },
      { type: "text", text: "hello" },
    ]);
    const agentSent: acp.SessionUpdate[] = replayed.filter(
      (u) => u.sessionUpdate !== "user_message_chunk",
    );
    expect(agentSent).toEqual(sent);
    expect(replayed.map((u) => u.sessionUpdate)).toEqual([
      "available_commands_update",
      "user_message_chunk",
      "agent_message_chunk",
      "agent_thought_chunk",
      "user_message_chunk",
      "agent_message_chunk",
      "agent_message_chunk",
      "agent_message_chunk",
    ]);

    await expect(
      harness.agent.request("session/load", { sessionId: "nope", cwd: workDir, mcpServers: [] }),
    ).rejects.toMatchObject({ code: -32002 });
    await expect(
      harness.agent.request("session/prompt", { sessionId: "nope", prompt: [] }),
    ).rejects.toMatchObject({ code: -32002 });
    await harness.close();
  });
});

describe("kept sessions", () => {
  test("FAKE_AGENT_STATE_DIR: a later process loads the session, replays it and goes on", async () => {
    const dir = mkdtempSync(join(workDir, "state-"));
    const first = await startSession({ FAKE_AGENT_STATE_DIR: dir });
    const { sessionId } = first;
    await first.harness.agent.request("session/set_mode", { sessionId, modeId: "ask" });
    await first.harness.agent.request("session/set_config_option", {
      sessionId,
      configId: "model",
      value: "smart",
    });
    await first.harness.prompt(sessionId, "say one");
    const sent = first.harness.since(0, sessionId);
    expect(await first.harness.close()).toBe(0);

    const second = startAgent({ FAKE_AGENT_STATE_DIR: dir });
    await second.initialize();
    const response = await second.agent.request("session/load", {
      sessionId,
      cwd: workDir,
      mcpServers: [],
    });
    await settle();
    expect(response).toEqual({
      modes: expect.objectContaining({ currentModeId: "ask" }),
      configOptions: [expect.objectContaining({ id: "model", currentValue: "smart" })],
    });
    const replayed = second.since(0, sessionId);
    const agentSent: acp.SessionUpdate[] = replayed.filter(
      (u) => u.sessionUpdate !== "user_message_chunk",
    );
    expect(agentSent).toEqual(sent);
    expect(replayed.find((u) => u.sessionUpdate === "user_message_chunk")).toMatchObject({
      content: { type: "text", text: "say one" },
    });
    // The loaded session takes prompts, and what it says is kept too.
    expect(texts((await second.prompt(sessionId, "say two")).updates)).toEqual(["two"]);
    await expect(
      second.agent.request("session/load", {
        sessionId: "sess-nope",
        cwd: workDir,
        mcpServers: [],
      }),
    ).rejects.toMatchObject({ code: -32002 });
    expect(await second.close()).toBe(0);

    const third = startAgent({ FAKE_AGENT_STATE_DIR: dir });
    await third.initialize();
    await third.agent.request("session/load", { sessionId, cwd: workDir, mcpServers: [] });
    await settle();
    expect(texts(third.since(0, sessionId))).toEqual(["one", "two"]);
    await third.close();
  });

  test("without FAKE_AGENT_STATE_DIR a new process knows no earlier session", async () => {
    const first = await startSession();
    await first.harness.close();
    const second = startAgent();
    await second.initialize();
    await expect(
      second.agent.request("session/load", {
        sessionId: first.sessionId,
        cwd: workDir,
        mcpServers: [],
      }),
    ).rejects.toMatchObject({ code: -32002 });
    await second.close();
  });

  test("FAKE_AGENT_NO_LOAD=1: loadSession is not advertised and session/load is not served", async () => {
    const { harness, sessionId } = await startSession({ FAKE_AGENT_NO_LOAD: "1" });
    const init = await harness.initialize();
    expect(init.agentCapabilities?.loadSession).toBe(false);
    await expect(
      harness.agent.request("session/load", { sessionId, cwd: workDir, mcpServers: [] }),
    ).rejects.toMatchObject({ code: -32601 });
    await harness.close();
  });
});

// ---------------------------------------------------------------------------------------------
// Script commands
// ---------------------------------------------------------------------------------------------

describe("script commands", () => {
  let harness: Harness;
  let sessionId: string;

  beforeAll(async () => {
    ({ harness, sessionId } = await startSession());
  });

  afterAll(async () => {
    expect(await harness.close()).toBe(0);
  });

  test("a prompt without commands is echoed in three chunks of one message", async () => {
    const { stopReason, updates } = await harness.prompt(sessionId, "hello there");
    expect(stopReason).toBe("end_turn");
    const chunks = messageChunks(updates);
    expect(chunks).toHaveLength(3);
    expect(new Set(chunks.map((c) => c.messageId)).size).toBe(1);
    expect(texts(updates).join("")).toBe("You said: hello there");
  });

  test("say, think, and lines that are not commands are skipped", async () => {
    const { updates } = await harness.prompt(
      sessionId,
      "say Hello  world\nnot a command\nthink hmm",
    );
    expect(updates).toEqual([
      {
        sessionUpdate: "agent_message_chunk",
        messageId: expect.any(String),
        content: { type: "text", text: "Hello  world" },
      },
      {
        sessionUpdate: "agent_thought_chunk",
        messageId: expect.any(String),
        content: { type: "text", text: "hmm" },
      },
    ]);
  });

  test("say gives each command its own messageId", async () => {
    const { updates } = await harness.prompt(sessionId, "say a\nsay b");
    const ids = messageChunks(updates).map((c) => c.messageId);
    expect(ids).toHaveLength(2);
    expect(ids[0]).not.toBe(ids[1]);
  });

  test("chunks shares one messageId by default, or gives each its own", async () => {
    const same = await harness.prompt(sessionId, "chunks 4");
    expect(texts(same.updates)).toEqual(["c0 ", "c1 ", "c2 ", "c3 "]);
    expect(new Set(messageChunks(same.updates).map((c) => c.messageId)).size).toBe(1);

    const distinct = await harness.prompt(sessionId, "chunks 3 distinct");
    expect(texts(distinct.updates)).toEqual(["c0 ", "c1 ", "c2 "]);
    expect(new Set(messageChunks(distinct.updates).map((c) => c.messageId)).size).toBe(3);
  });

  test("a malformed command is reported and the script goes on", async () => {
    const { stopReason, updates } = await harness.prompt(sessionId, "chunks many\nsay still here");
    expect(stopReason).toBe("end_turn");
    expect(texts(updates)).toEqual(["chunks: n must be a whole number", "still here"]);
  });

  test("tool sends a pending edit with a diff, then completes it", async () => {
    const { updates } = await harness.prompt(sessionId, "tool Fix the bug");
    const path = join(workDir, "example.txt");
    expect(updates).toHaveLength(2);
    const [call, done] = updates;
    expect(call).toMatchObject({
      sessionUpdate: "tool_call",
      title: "Fix the bug",
      kind: "edit",
      status: "pending",
      locations: [{ path }],
      rawInput: { path },
      content: [{ type: "diff", path, oldText: "a\n", newText: "b\n" }],
    });
    expect(done).toMatchObject({
      sessionUpdate: "tool_call_update",
      status: "completed",
      content: [{ type: "content", content: { type: "text" } }],
    });
    expect(call && "toolCallId" in call && call.toolCallId).toBe(
      done && "toolCallId" in done && done.toolCallId,
    );
  });

  test("plan sends the entries", async () => {
    const { updates } = await harness.prompt(sessionId, "plan read | edit|test");
    expect(updates).toEqual([
      {
        sessionUpdate: "plan",
        entries: ["read", "edit", "test"].map((content) => ({
          content,
          priority: "medium",
          status: "pending",
        })),
      },
    ]);
  });

  test("rich sends annotated text with _meta, an image and a resource link", async () => {
    const { updates } = await harness.prompt(sessionId, "rich");
    const chunks = messageChunks(updates);
    expect(chunks.map((c) => c.content.type)).toEqual(["text", "image", "resource_link"]);
    expect(chunks.every((c) => typeof c.messageId === "string")).toBe(true);
    expect(chunks[0]).toMatchObject({
      _meta: { fake: 1 },
      content: { annotations: { audience: ["user"], priority: 1 }, _meta: { fake: 1 } },
    });
    expect(chunks[1]!.content).toEqual({
      type: "image",
      data: TINY_PNG_BASE64,
      mimeType: "image/png",
    });
    expect(chunks[2]!.content).toMatchObject({ name: "example.txt", uri: expect.any(String) });
  });

  test("usage sends a usage_update", async () => {
    const { updates } = await harness.prompt(sessionId, "usage");
    expect(updates).toEqual([
      {
        sessionUpdate: "usage_update",
        used: expect.any(Number),
        size: 200_000,
        cost: { amount: expect.any(Number), currency: "USD" },
      },
    ]);
  });

  test("permission reports the selected option", async () => {
    harness.onPermission = async () => ({ outcome: { outcome: "selected", optionId: "reject" } });
    const { stopReason, updates } = await harness.prompt(sessionId, "permission Delete it\nsay on");
    expect(stopReason).toBe("end_turn");
    const request = harness.permissionRequests.at(-1)!;
    expect(request.sessionId).toBe(sessionId);
    expect(request.options.map((o) => [o.optionId, o.kind])).toEqual([
      ["allow", "allow_once"],
      ["reject", "reject_once"],
    ]);
    expect(updates[0]).toMatchObject({
      sessionUpdate: "tool_call",
      toolCallId: request.toolCall.toolCallId,
      title: "Delete it",
    });
    expect(texts(updates)).toEqual(["permission: selected reject", "on"]);
  });

  test("permission reports a client error and goes on", async () => {
    harness.onPermission = async () => {
      throw new acp.RequestError(-32000, "no frontend");
    };
    const { stopReason, updates } = await harness.prompt(sessionId, "permission\nsay on");
    expect(stopReason).toBe("end_turn");
    expect(texts(updates)).toEqual(["permission: error no frontend", "on"]);
  });

  test("a cancelled permission ends the turn as cancelled", async () => {
    harness.onPermission = async () => ({ outcome: { outcome: "cancelled" } });
    const { stopReason, updates } = await harness.prompt(sessionId, "permission\nsay never");
    expect(stopReason).toBe("cancelled");
    expect(texts(updates)).toEqual(["permission: cancelled"]);
  });

  test("session/cancel during a permission request: the client answers cancelled", async () => {
    let answer!: (response: acp.RequestPermissionResponse) => void;
    harness.onPermission = () => new Promise((resolve) => (answer = resolve));
    const from = harness.updates.length;
    const prompt = harness.prompt(sessionId, "permission\nsay never");
    await harness.waitFor(sessionId, (u) => u.sessionUpdate === "tool_call", from);
    while (!answer) await Bun.sleep(5);
    await harness.cancel(sessionId);
    answer({ outcome: { outcome: "cancelled" } });
    expect((await prompt).stopReason).toBe("cancelled");
  });

  test("read and write go through the client", async () => {
    const path = join(workDir, "rw.txt");
    const { updates } = await harness.prompt(
      sessionId,
      `write ${path} hello  file\nread ${path}\nread ${join(workDir, "missing.txt")}`,
    );
    expect(readFileSync(path, "utf8")).toBe("hello  file");
    const [write, read, missing] = texts(updates);
    expect(write).toBe("write: ok");
    expect(read).toBe("read: hello  file");
    expect(missing).toStartWith("read error: Resource not found");
  });

  test("write reports a client error", async () => {
    const { updates } = await harness.prompt(sessionId, `write ${workDir}/no/such/dir/x hi`);
    expect(texts(updates)[0]).toStartWith("write error: ");
  });

  test("terminal runs a command in the session cwd through the client", async () => {
    const { updates } = await harness.prompt(sessionId, "terminal pwd\nterminal echo a  b");
    expect(texts(updates)).toEqual([
      `terminal: exit 0 output ${workDir}\n`,
      "terminal: exit 0 output a b\n",
    ]);
    const { updates: failing } = await harness.prompt(sessionId, "terminal false");
    expect(texts(failing)).toEqual(["terminal: exit 1 output "]);
  });

  test("echo-image reports the size of each image block", async () => {
    const { updates } = await harness.prompt(sessionId, [
      { type: "text", text: "echo-image" },
      { type: "image", data: "aGVsbG8=", mimeType: "image/png" },
      { type: "image", data: TINY_PNG_BASE64, mimeType: "image/png" },
    ]);
    expect(texts(updates)).toEqual(["image bytes 8", `image bytes ${TINY_PNG_BASE64.length}`]);
  });

  test("sleep waits", async () => {
    const started = performance.now();
    const { stopReason } = await harness.prompt(sessionId, "sleep 150");
    expect(stopReason).toBe("end_turn");
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);
  });

  test("slow sends chunks at the given interval", async () => {
    const started = performance.now();
    const { updates } = await harness.prompt(sessionId, "slow 4 40");
    expect(texts(updates)).toEqual(["s0 ", "s1 ", "s2 ", "s3 "]);
    expect(new Set(messageChunks(updates).map((c) => c.messageId)).size).toBe(1);
    expect(performance.now() - started).toBeGreaterThanOrEqual(110);
  });

  test("flood sends n chunks, each its own message, stamped with the send time", async () => {
    const before = performance.timeOrigin + performance.now();
    const { updates } = await harness.prompt(sessionId, "flood 2000");
    const after = performance.timeOrigin + performance.now();
    const chunks = messageChunks(updates);
    expect(chunks).toHaveLength(2000);
    expect(new Set(chunks.map((c) => c.messageId)).size).toBe(2000);
    let previous = 0;
    for (const [i, chunk] of chunks.entries()) {
      expect(chunk.messageId).toEndWith(`-m${i}`);
      const text = chunk.content.type === "text" ? chunk.content.text : "";
      const match = /^m(\d+) t=(\d+\.\d+)$/.exec(text);
      expect(match?.[1]).toBe(String(i));
      const t = Number(match?.[2]);
      expect(t).toBeGreaterThanOrEqual(previous);
      expect(t).toBeGreaterThan(before - 1000);
      expect(t).toBeLessThan(after + 1000);
      previous = t;
    }
  });

  test("flood with a rate paces by schedule", async () => {
    const started = performance.now();
    const { updates } = await harness.prompt(sessionId, "flood 60 200");
    const elapsed = performance.now() - started;
    expect(messageChunks(updates)).toHaveLength(60);
    // 60 updates at 200/s: the last is due 295 ms after the first.
    expect(elapsed).toBeGreaterThanOrEqual(280);
    expect(elapsed).toBeLessThan(2000);
  });
});

// ---------------------------------------------------------------------------------------------
// Cancellation
// ---------------------------------------------------------------------------------------------

describe("cancellation", () => {
  let harness: Harness;
  let sessionId: string;

  beforeAll(async () => {
    ({ harness, sessionId } = await startSession());
  });

  afterAll(async () => {
    await harness.close();
  });

  async function cancelAfter(script: string, ms: number) {
    const started = performance.now();
    const prompt = harness.prompt(sessionId, script);
    await Bun.sleep(ms);
    await harness.cancel(sessionId);
    const result = await prompt;
    return { ...result, elapsed: performance.now() - started };
  }

  test("hang answers only once cancelled", async () => {
    const { stopReason, elapsed } = await cancelAfter("say start\nhang\nsay never", 100);
    expect(stopReason).toBe("cancelled");
    expect(elapsed).toBeLessThan(2000);
  });

  test("sleep stops early", async () => {
    const { stopReason, updates, elapsed } = await cancelAfter("sleep 10000\nsay never", 100);
    expect(stopReason).toBe("cancelled");
    expect(texts(updates)).toEqual([]);
    expect(elapsed).toBeLessThan(2000);
  });

  test("slow stops at its next step", async () => {
    const { stopReason, updates } = await cancelAfter("slow 100 30\nsay never", 150);
    expect(stopReason).toBe("cancelled");
    const sent = texts(updates);
    expect(sent.length).toBeGreaterThan(0);
    expect(sent.length).toBeLessThan(100);
    expect(sent).not.toContain("never");
  });

  test("a paced flood stops", async () => {
    const { stopReason, updates } = await cancelAfter("flood 1000 100", 150);
    expect(stopReason).toBe("cancelled");
    expect(messageChunks(updates).length).toBeLessThan(1000);
  });

  test("the session takes prompts again after a cancel", async () => {
    const { stopReason, updates } = await harness.prompt(sessionId, "say again");
    expect(stopReason).toBe("end_turn");
    expect(texts(updates)).toEqual(["again"]);
  });
});

// ---------------------------------------------------------------------------------------------
// Process behaviour
// ---------------------------------------------------------------------------------------------

describe("process", () => {
  test("exits with 0 when stdin closes", async () => {
    const { harness } = await startSession();
    expect(await harness.close()).toBe(0);
    expect(await harness.stderr).toBe("");
  });

  test("crash exits with the code and says so on stderr", async () => {
    const { harness, sessionId } = await startSession();
    const prompt = harness.agent.request("session/prompt", {
      sessionId,
      prompt: [{ type: "text", text: "say bye\ncrash 7" }],
    });
    await expect(prompt).rejects.toBeDefined();
    expect(await harness.proc.exited).toBe(7);
    expect(await harness.stderr).toContain("fake-agent: crashing on request");
    expect(texts(harness.since(0, sessionId))).toEqual(["bye"]);
  });

  test("crash defaults to exit code 3", async () => {
    const { harness, sessionId } = await startSession();
    harness.agent
      .request("session/prompt", { sessionId, prompt: [{ type: "text", text: "crash" }] })
      .catch(() => {});
    expect(await harness.proc.exited).toBe(3);
  });

  test("FAKE_AGENT_RAW_FLOOD=1 floods the same updates, in order with the SDK's", async () => {
    const { harness, sessionId } = await startSession({ FAKE_AGENT_RAW_FLOOD: "1" });
    const { stopReason, updates } = await harness.prompt(sessionId, "say a\nflood 3000\nsay b");
    expect(stopReason).toBe("end_turn");
    const sent = texts(updates);
    expect(sent).toHaveLength(3002);
    expect(sent[0]).toBe("a");
    expect(sent[1]).toStartWith("m0 t=");
    expect(sent[3000]).toStartWith("m2999 t=");
    expect(sent[3001]).toBe("b");
    expect(messageChunks(updates)[1]!.messageId).toEndWith("-m0");

    const from = harness.updates.length;
    await harness.agent.request("session/load", { sessionId, cwd: workDir, mcpServers: [] });
    await settle();
    expect(texts(harness.since(from, sessionId))).toEqual(sent);
    await harness.close();
  });

  test("accepts a 64 MiB image prompt and logs its size, not its data", async () => {
    const log = join(workDir, "image.log");
    const { harness, sessionId } = await startSession({ FAKE_AGENT_LOG: log });
    const data = "A".repeat(64 * 1024 * 1024);
    const longText = "echo-image\n" + "x".repeat(1000);
    const { updates } = await harness.prompt(sessionId, [
      { type: "text", text: longText },
      { type: "image", data, mimeType: "image/png" },
    ]);
    expect(texts(updates)).toEqual([`image bytes ${data.length}`]);
    await harness.close();

    const prompt = readLog(log).find((e) => e.method === "session/prompt")!;
    expect(prompt.params.prompt).toEqual([
      { type: "text", text: longText.slice(0, 200) },
      { type: "image", mimeType: "image/png", dataBytes: data.length },
    ]);
  });
});
