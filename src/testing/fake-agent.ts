/**
 * A scripted fake ACP agent: it stands in for a model-backed agent in tests and benchmarks.
 *
 * Runs offline over stdio (`bun src/testing/fake-agent.ts`), speaks ACP v1 through the official
 * SDK, and logs only to stderr. The text blocks of a prompt, concatenated, form a script with one
 * command per line; lines that are not commands are skipped. A prompt with no command at all is
 * echoed as "You said: <text>" in three chunks of one message.
 *
 *   say <text>                 one agent_message_chunk
 *   chunks <n> [same|distinct] n chunks "c<i> ", one shared messageId (default) or one each
 *   think <text>               one agent_thought_chunk
 *   tool <title>               tool_call (edit, pending, diff of <cwd>/example.txt), then completed
 *   plan <a>|<b>|<c>           a plan with those entries (medium, pending)
 *   rich                       one message: text with annotations and _meta (on the block and
 *                              the chunk), a 1×1 PNG image, a resource_link
 *   permission [title]         tool_call + session/request_permission (allow / reject), then a
 *                              tool_call_update (completed if allowed, else failed) and
 *                              "permission: selected <id>" | "permission: cancelled" (ends the
 *                              turn as cancelled) | "permission: error <message>"
 *   read <abs-path>            fs/read_text_file, reports "read: <content>" | "read error: <msg>"
 *   write <abs-path> <text…>   fs/write_text_file, reports "write: ok" | "write error: <msg>"
 *   terminal <cmd> [args…]     terminal/create, wait_for_exit, output, release in the session cwd,
 *                              reports "terminal: exit <code> output <output>" | "terminal error: …"
 *   sleep <ms>                 waits (ends early on cancel)
 *   slow <n> <ms>              n chunks "s<i> ", one every <ms> (stops on cancel)
 *   flood <n> [rate]           n chunks, messageId "<prefix>-m<i>", text "m<i> t=<epoch ms>", as
 *                              fast as possible or paced at <rate> per second (stops on cancel)
 *   usage                      one usage_update
 *   echo-image                 "image bytes <n>" per image block of the prompt (base64 length)
 *   crash [code]               a line on stderr, then exit(code), default 3
 *   hang                       never answers until the turn is cancelled
 *
 * A turn ends with stopReason "end_turn", or "cancelled" after session/cancel, a cancelled
 * permission request or a $/cancel_request for the prompt.
 *
 * Environment:
 *   FAKE_AGENT_LOG=<file>        append {method, params} per received request or notification
 *                                (prompt text cut to 200 chars, media data replaced by its length)
 *   FAKE_AGENT_NO_MODE_UPDATE=1  session/set_mode sends no current_mode_update
 *   FAKE_AGENT_STATE_DIR=<dir>   keep every session in <dir>/<sessionId>.jsonl (its cwd, mode,
 *                                model and history, appended as they change), so a later process
 *                                can session/load it: a restarted agent resumes its sessions
 *   FAKE_AGENT_NO_LOAD=1         initialize advertises loadSession: false and session/load is
 *                                answered "method not found"
 *   FAKE_AGENT_RAW_FLOOD=1       flood writes its lines itself, bypassing the SDK's notify (about
 *                                twice as fast; same bytes on the wire, same ordering)
 */

import * as acp from "@agentclientprotocol/sdk";
import { appendFileSync, existsSync, readFileSync, writeSync } from "node:fs";
import { join } from "node:path";

/** Absolute path of this script, for tests that spawn it. */
export const FAKE_AGENT_PATH = import.meta.path;

/** The argv that runs the fake agent with the current Bun binary. */
export function fakeAgentCommand(): string[] {
  return [process.execPath, FAKE_AGENT_PATH];
}

/** Image prompts arrive as one base64 line; 64 MiB must pass, with room to spare. */
export const MAX_MESSAGE_BYTES = 128 * 1024 * 1024;

/** A 1×1 PNG, for the `rich` command. */
export const TINY_PNG_BASE64 =
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==";

const LOGGED_TEXT_CHARS = 200;

// ---------------------------------------------------------------------------------------------
// Session state (kept in memory for the lifetime of the process)
// ---------------------------------------------------------------------------------------------

const MODES: acp.SessionMode[] = [
  { id: "ask", name: "Ask" },
  { id: "code", name: "Code" },
];

const MODELS: acp.SessionConfigSelectOption[] = [
  { value: "fast", name: "Fast" },
  { value: "smart", name: "Smart" },
];

const AVAILABLE_COMMANDS: acp.AvailableCommand[] = [
  { name: "test", description: "Run the test suite", input: { hint: "optional test filter" } },
  { name: "review", description: "Review the working tree changes" },
];

interface Session {
  id: string;
  cwd: string;
  modeId: string;
  model: string;
  /** Every update sent for this session, plus the user's prompts, for session/load replay. */
  history: acp.SessionUpdate[];
  /** Turns currently running; session/cancel cancels them all. */
  turns: Set<Turn>;
  /** Cumulative fake token count reported by `usage`. */
  usedTokens: number;
}

const sessions = new Map<string, Session>();

let idCounter = 0;
/** Process-unique ids for messages, tool calls and the like. */
function nextId(prefix: string): string {
  return `${prefix}-${++idCounter}`;
}

function getSession(sessionId: string): Session {
  const session = sessions.get(sessionId);
  if (!session) throw acp.RequestError.sessionNotFound(sessionId);
  return session;
}

// ---------------------------------------------------------------------------------------------
// Kept sessions (FAKE_AGENT_STATE_DIR)
// ---------------------------------------------------------------------------------------------

/** One line of a kept session's file: its start, a change of mode or model, or an update. */
type StateLine =
  | { session: { cwd: string; modeId: string; model: string } }
  | { modeId: string }
  | { model: string }
  | { update: acp.SessionUpdate };

/** The file that keeps a session, or null when sessions are not kept (or the id is odd). */
function stateFile(sessionId: string): string | null {
  const dir = process.env.FAKE_AGENT_STATE_DIR;
  if (!dir || !/^[A-Za-z0-9._-]+$/.test(sessionId)) return null;
  return join(dir, `${sessionId}.jsonl`);
}

/** Appends one change to the session's file; one line each, so a crash loses nothing written. */
function keep(session: Session, line: StateLine): void {
  const file = stateFile(session.id);
  if (file) appendFileSync(file, JSON.stringify(line) + "\n");
}

/** A session of this process, else one an earlier process kept; not found otherwise. */
function findOrRestore(sessionId: string): Session {
  const live = sessions.get(sessionId);
  if (live) return live;
  const file = stateFile(sessionId);
  if (!file || !existsSync(file)) throw acp.RequestError.sessionNotFound(sessionId);
  const session: Session = {
    id: sessionId,
    cwd: "",
    modeId: "code",
    model: "fast",
    history: [],
    turns: new Set(),
    usedTokens: 0,
  };
  for (const text of readFileSync(file, "utf8").split("\n")) {
    if (!text) continue;
    const line = JSON.parse(text) as StateLine;
    if ("session" in line) Object.assign(session, line.session);
    else if ("update" in line) session.history.push(line.update);
    else if ("modeId" in line) session.modeId = line.modeId;
    else session.model = line.model;
  }
  sessions.set(sessionId, session);
  return session;
}

/** Records an update (or a user's prompt) for session/load replay. */
function record(session: Session, update: acp.SessionUpdate): void {
  session.history.push(update);
  keep(session, { update });
}

function modeState(session: Session): acp.SessionModeState {
  return { currentModeId: session.modeId, availableModes: MODES };
}

function configOptions(session: Session): acp.SessionConfigOption[] {
  return [
    {
      id: "model",
      name: "Model",
      category: "model",
      type: "select",
      currentValue: session.model,
      options: MODELS,
    },
  ];
}

/** Sends one session/update and records it for replay. Resolves once it is written. */
function sendUpdate(
  client: acp.AgentContext,
  session: Session,
  update: acp.SessionUpdate,
): Promise<void> {
  record(session, update);
  return client.notify("session/update", { sessionId: session.id, update });
}

// ---------------------------------------------------------------------------------------------
// Logging
// ---------------------------------------------------------------------------------------------

function logError(...args: unknown[]): void {
  console.error("fake-agent:", ...args);
}

/** Shortens what a log line must not carry in full: long prompt text and media data. */
function summariseBlock(block: unknown): unknown {
  if (typeof block !== "object" || block === null) return block;
  const b = block as Record<string, unknown>;
  const out: Record<string, unknown> = { ...b };
  if (typeof b.text === "string") out.text = b.text.slice(0, LOGGED_TEXT_CHARS);
  if (typeof b.data === "string") {
    delete out.data;
    out.dataBytes = b.data.length;
  }
  if (typeof b.resource === "object" && b.resource !== null) {
    const r = b.resource as Record<string, unknown>;
    const resource: Record<string, unknown> = { ...r };
    if (typeof r.text === "string") resource.text = r.text.slice(0, LOGGED_TEXT_CHARS);
    if (typeof r.blob === "string") {
      delete resource.blob;
      resource.blobBytes = r.blob.length;
    }
    out.resource = resource;
  }
  return out;
}

function summariseParams(method: string, params: unknown): unknown {
  if (method !== "session/prompt" || typeof params !== "object" || params === null) return params;
  const p = params as Record<string, unknown>;
  return Array.isArray(p.prompt) ? { ...p, prompt: p.prompt.map(summariseBlock) } : p;
}

/**
 * Passes incoming messages through, appending each request or notification to `logPath` as
 * `{method, params}`. Done on the raw stream so params are logged as sent, before validation.
 */
function logIncoming(stream: acp.Stream, logPath: string | undefined): acp.Stream {
  if (!logPath) return stream;
  const logger = new TransformStream<acp.AnyMessage, acp.AnyMessage>({
    transform(message, controller) {
      if (typeof message === "object" && message !== null && "method" in message) {
        const { method, params } = message as { method: string; params?: unknown };
        try {
          const entry = { method, params: summariseParams(method, params) };
          appendFileSync(logPath, JSON.stringify(entry) + "\n");
        } catch (error) {
          logError("cannot write log:", error);
        }
      }
      controller.enqueue(message);
    },
  });
  return { readable: stream.readable.pipeThrough(logger), writable: stream.writable };
}

// ---------------------------------------------------------------------------------------------
// Turns and cancellation
// ---------------------------------------------------------------------------------------------

/** One running session/prompt. */
class Turn {
  private readonly controller = new AbortController();

  constructor(
    readonly session: Session,
    readonly client: acp.AgentContext,
    readonly prompt: acp.ContentBlock[],
    requestSignal: AbortSignal,
  ) {
    // $/cancel_request for the prompt, or the connection closing, cancels the turn too.
    if (requestSignal.aborted) this.cancel();
    else requestSignal.addEventListener("abort", () => this.cancel(), { once: true });
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get cancelled(): boolean {
    return this.controller.signal.aborted;
  }

  cancel(): void {
    this.controller.abort();
  }

  send(update: acp.SessionUpdate): Promise<void> {
    return sendUpdate(this.client, this.session, update);
  }

  /** One agent_message_chunk with a message of its own unless `messageId` is given. */
  say(text: string, messageId = nextId("msg")): Promise<void> {
    return this.send({
      sessionUpdate: "agent_message_chunk",
      messageId,
      content: { type: "text", text },
    });
  }
}

/** Resolves after `ms`, or as soon as `signal` aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, Math.max(0, ms));
    signal.addEventListener("abort", done, { once: true });
  });
}

/** Resolves when `signal` aborts, never otherwise. */
function untilAborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener("abort", () => resolve(), { once: true });
  });
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

// ---------------------------------------------------------------------------------------------
// Script commands
// ---------------------------------------------------------------------------------------------

/** A parsed script line: the command name, its whitespace-split args and the raw rest. */
interface Line {
  args: string[];
  rest: string;
}

type Command = (turn: Turn, line: Line) => Promise<void>;

/** Thrown for a malformed command line; reported to the user as a chunk, the turn goes on. */
class UsageError extends Error {}

function intArg(value: string | undefined, name: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`${name} must be a whole number`);
  return n;
}

function pathArg(value: string | undefined): string {
  if (!value || !value.startsWith("/")) throw new UsageError("path must be absolute");
  return value;
}

const COMMANDS: Record<string, Command> = {
  say: (turn, { rest }) => turn.say(rest),

  chunks: async (turn, { args }) => {
    const n = intArg(args[0], "n");
    const distinct = args[1] === "distinct";
    const shared = nextId("msg");
    for (let i = 0; i < n && !turn.cancelled; i++) {
      await turn.say(`c${i} `, distinct ? nextId("msg") : shared);
    }
  },

  think: (turn, { rest }) =>
    turn.send({
      sessionUpdate: "agent_thought_chunk",
      messageId: nextId("thought"),
      content: { type: "text", text: rest },
    }),

  tool: async (turn, { rest }) => {
    const toolCallId = nextId("tool");
    const path = join(turn.session.cwd, "example.txt");
    await turn.send({
      sessionUpdate: "tool_call",
      toolCallId,
      title: rest || "Edit example.txt",
      kind: "edit",
      status: "pending",
      locations: [{ path, line: 1 }],
      rawInput: { path, oldText: "a\n", newText: "b\n" },
      content: [{ type: "diff", path, oldText: "a\n", newText: "b\n" }],
    });
    if (turn.cancelled) return;
    await turn.send({
      sessionUpdate: "tool_call_update",
      toolCallId,
      status: "completed",
      content: [{ type: "content", content: { type: "text", text: `edited ${path}` } }],
    });
  },

  plan: (turn, { rest }) =>
    turn.send({
      sessionUpdate: "plan",
      entries: rest
        .split("|")
        .map((entry) => entry.trim())
        .filter((entry) => entry.length > 0)
        .map((content) => ({ content, priority: "medium", status: "pending" })),
    }),

  rich: async (turn) => {
    const messageId = nextId("msg");
    const blocks: acp.ContentBlock[] = [
      {
        type: "text",
        text: "rich text",
        annotations: { audience: ["user"], priority: 1 },
        _meta: { fake: 1 },
      },
      { type: "image", data: TINY_PNG_BASE64, mimeType: "image/png" },
      {
        type: "resource_link",
        uri: `file://${join(turn.session.cwd, "example.txt")}`,
        name: "example.txt",
        mimeType: "text/plain",
      },
    ];
    for (const [i, content] of blocks.entries()) {
      if (turn.cancelled) return;
      await turn.send({
        sessionUpdate: "agent_message_chunk",
        messageId,
        content,
        ...(i === 0 ? { _meta: { fake: 1 } } : {}),
      });
    }
  },

  permission: async (turn, { rest }) => {
    const toolCallId = nextId("tool");
    const title = rest || "Run a command";
    await turn.send({
      sessionUpdate: "tool_call",
      toolCallId,
      title,
      kind: "execute",
      status: "pending",
      rawInput: { command: "true" },
    });
    let outcome: acp.RequestPermissionOutcome;
    try {
      const response = await turn.client.request("session/request_permission", {
        sessionId: turn.session.id,
        toolCall: { toolCallId, title, kind: "execute", status: "pending" },
        options: [
          { optionId: "allow", name: "Allow", kind: "allow_once" },
          { optionId: "reject", name: "Reject", kind: "reject_once" },
        ],
      });
      outcome = response.outcome;
    } catch (error) {
      await turn.say(`permission: error ${errorMessage(error)}`);
      return;
    }
    const allowed = outcome.outcome === "selected" && outcome.optionId === "allow";
    await turn.send({
      sessionUpdate: "tool_call_update",
      toolCallId,
      status: allowed ? "completed" : "failed",
    });
    if (outcome.outcome === "selected") {
      await turn.say(`permission: selected ${outcome.optionId}`);
    } else {
      await turn.say("permission: cancelled");
      turn.cancel();
    }
  },

  read: async (turn, { args }) => {
    const path = pathArg(args[0]);
    let report: string;
    try {
      const { content } = await turn.client.request("fs/read_text_file", {
        sessionId: turn.session.id,
        path,
      });
      report = `read: ${content}`;
    } catch (error) {
      report = `read error: ${errorMessage(error)}`;
    }
    await turn.say(report);
  },

  write: async (turn, { args, rest }) => {
    const path = pathArg(args[0]);
    const content = rest.slice(path.length).replace(/^\s/, "");
    let report: string;
    try {
      await turn.client.request("fs/write_text_file", {
        sessionId: turn.session.id,
        path,
        content,
      });
      report = "write: ok";
    } catch (error) {
      report = `write error: ${errorMessage(error)}`;
    }
    await turn.say(report);
  },

  terminal: async (turn, { args }) => {
    const [command, ...commandArgs] = args;
    if (!command) throw new UsageError("terminal needs a command");
    const sessionId = turn.session.id;
    let report: string;
    try {
      const { terminalId } = await turn.client.request("terminal/create", {
        sessionId,
        command,
        args: commandArgs,
        cwd: turn.session.cwd,
      });
      try {
        const exit = await turn.client.request("terminal/wait_for_exit", { sessionId, terminalId });
        const { output } = await turn.client.request("terminal/output", { sessionId, terminalId });
        report = `terminal: exit ${exit.exitCode ?? exit.signal ?? "unknown"} output ${output}`;
      } finally {
        await turn.client.request("terminal/release", { sessionId, terminalId });
      }
    } catch (error) {
      report = `terminal error: ${errorMessage(error)}`;
    }
    await turn.say(report);
  },

  sleep: (turn, { args }) => sleep(intArg(args[0], "ms"), turn.signal),

  slow: async (turn, { args }) => {
    const n = intArg(args[0], "n");
    const ms = intArg(args[1], "ms");
    const messageId = nextId("msg");
    for (let i = 0; i < n && !turn.cancelled; i++) {
      if (i > 0) await sleep(ms, turn.signal);
      if (turn.cancelled) break;
      await turn.say(`s${i} `, messageId);
    }
  },

  flood: (turn, { args }) => flood(turn, intArg(args[0], "n"), args[1]),

  usage: (turn) => {
    turn.session.usedTokens += 1000;
    return turn.send({
      sessionUpdate: "usage_update",
      used: turn.session.usedTokens,
      size: 200_000,
      cost: { amount: turn.session.usedTokens / 100_000, currency: "USD" },
    });
  },

  "echo-image": async (turn) => {
    const images = turn.prompt.filter((block) => block.type === "image");
    if (images.length === 0) await turn.say("image bytes none");
    for (const image of images) await turn.say(`image bytes ${image.data.length}`);
  },

  crash: async (_turn, { args }) => {
    const code = args[0] === undefined ? 3 : Number(args[0]);
    // Synchronous, so the line is out before the process is.
    writeSync(2, "fake-agent: crashing on request\n");
    process.exit(Number.isInteger(code) ? code : 3);
  },

  hang: (turn) => untilAborted(turn.signal),
};

/** How many updates `flood` lets queue up before waiting for them to be written. */
const FLOOD_WINDOW = 256;

/**
 * Set when FAKE_AGENT_RAW_FLOOD=1: writes one line to stdout, in order with the SDK's writes.
 * `flood` then serialises its session/update notifications itself instead of calling the SDK's
 * notify, whose two promise-chained stream layers cost about twice as much per update.
 */
let rawLineWriter: ((line: string) => Promise<void>) | undefined;

/**
 * Sends one flood update through the SDK, or as a hand-made JSON-RPC line on the raw path. The
 * line is what the SDK would write; the update is recorded for replay either way.
 */
function floodUpdate(turn: Turn, update: acp.SessionUpdate): Promise<void> {
  if (!rawLineWriter) return turn.send(update);
  record(turn.session, update);
  const params: acp.SessionNotification = { sessionId: turn.session.id, update };
  return rawLineWriter(JSON.stringify({ jsonrpc: "2.0", method: "session/update", params }) + "\n");
}

/**
 * Sends `n` chunks as fast as the SDK writes them, or on a fixed schedule of `rate` per second.
 * Pacing is by schedule (update i is due at start + i/rate), so timer lateness does not add up.
 */
async function flood(turn: Turn, n: number, rateArg: string | undefined): Promise<void> {
  const rate = rateArg === undefined ? Infinity : Number(rateArg);
  if (!(rate > 0)) throw new UsageError("rate must be positive");
  const prefix = nextId("flood");
  const start = performance.now();
  let last: Promise<void> = Promise.resolve();
  let i = 0;
  while (i < n && !turn.cancelled) {
    const due =
      rate === Infinity
        ? n
        : Math.min(n, Math.floor(((performance.now() - start) * rate) / 1000) + 1);
    for (; i < due && !turn.cancelled; i++) {
      const t = performance.timeOrigin + performance.now();
      last = floodUpdate(turn, {
        sessionUpdate: "agent_message_chunk",
        messageId: `${prefix}-m${i}`,
        content: { type: "text", text: `m${i} t=${t.toFixed(3)}` },
      });
      // Unawaited sends are settled by the next awaited one; keep their failures quiet.
      last.catch(() => {});
      if (i % FLOOD_WINDOW === FLOOD_WINDOW - 1) await last;
    }
    await last;
    if (i < n) await sleep(start + (i * 1000) / rate - performance.now(), turn.signal);
  }
  await last;
}

/** Splits the script into lines of known commands; empty when no line is a command. */
function parseScript(text: string): Array<{ name: string; line: Line }> {
  const script: Array<{ name: string; line: Line }> = [];
  for (const raw of text.split(/\r?\n/)) {
    const trimmed = raw.trim();
    const name = trimmed.split(/\s+/, 1)[0] ?? "";
    if (!Object.hasOwn(COMMANDS, name)) continue;
    const rest = trimmed.slice(name.length).replace(/^\s+/, "");
    script.push({ name, line: { args: rest.split(/\s+/).filter(Boolean), rest } });
  }
  return script;
}

/** Runs a prompt turn and returns its stop reason. */
async function runTurn(turn: Turn): Promise<acp.StopReason> {
  const text = turn.prompt.map((block) => (block.type === "text" ? block.text : "")).join("");
  const script = parseScript(text);
  if (script.length === 0) {
    const reply = Array.from(`You said: ${text}`);
    const messageId = nextId("msg");
    const third = Math.ceil(reply.length / 3);
    for (let part = 0; part < 3; part++) {
      await turn.say(reply.slice(part * third, (part + 1) * third).join(""), messageId);
    }
    return "end_turn";
  }
  for (const { name, line } of script) {
    if (turn.cancelled) break;
    try {
      await COMMANDS[name]!(turn, line);
    } catch (error) {
      if (!(error instanceof UsageError)) throw error;
      await turn.say(`${name}: ${error.message}`);
    }
  }
  return turn.cancelled ? "cancelled" : "end_turn";
}

// ---------------------------------------------------------------------------------------------
// The agent
// ---------------------------------------------------------------------------------------------

export function createFakeAgent(): acp.AgentApp {
  const canLoad = process.env.FAKE_AGENT_NO_LOAD !== "1";
  return acp
    .agent({ name: "fake-agent" })
    .onRequest(acp.methods.agent.initialize, () => ({
      protocolVersion: 1,
      agentCapabilities: {
        loadSession: canLoad,
        promptCapabilities: { image: true, audio: false, embeddedContext: true },
      },
      agentInfo: { name: "fake-agent", version: "1.0.0" },
      authMethods: [],
    }))

    .onRequest(acp.methods.agent.session.new, (ctx) => {
      const session: Session = {
        id: `sess-${crypto.randomUUID()}`,
        cwd: ctx.params.cwd,
        modeId: "code",
        model: "fast",
        history: [],
        turns: new Set(),
        usedTokens: 0,
      };
      sessions.set(session.id, session);
      keep(session, {
        session: { cwd: session.cwd, modeId: session.modeId, model: session.model },
      });
      // A macrotask later, so the response (queued in microtasks) is written first.
      setTimeout(() => {
        sendUpdate(ctx.client, session, {
          sessionUpdate: "available_commands_update",
          availableCommands: AVAILABLE_COMMANDS,
        }).catch((error) => logError("available_commands_update:", errorMessage(error)));
      }, 0);
      return {
        sessionId: session.id,
        modes: modeState(session),
        configOptions: configOptions(session),
      };
    })

    .onRequest(acp.methods.agent.session.load, async (ctx) => {
      if (!canLoad) throw acp.RequestError.methodNotFound(acp.methods.agent.session.load);
      const session = findOrRestore(ctx.params.sessionId);
      session.cwd = ctx.params.cwd;
      keep(session, {
        session: { cwd: session.cwd, modeId: session.modeId, model: session.model },
      });
      // Replayed before the response, as ACP requires; a snapshot, so replay is not recorded.
      for (const update of [...session.history]) {
        await ctx.client.notify("session/update", { sessionId: session.id, update });
      }
      return { modes: modeState(session), configOptions: configOptions(session) };
    })

    .onRequest(acp.methods.agent.session.setMode, async (ctx) => {
      const session = getSession(ctx.params.sessionId);
      const { modeId } = ctx.params;
      if (!MODES.some((mode) => mode.id === modeId)) {
        throw acp.RequestError.invalidParams({ modeId }, `unknown mode ${modeId}`);
      }
      session.modeId = modeId;
      keep(session, { modeId });
      if (process.env.FAKE_AGENT_NO_MODE_UPDATE !== "1") {
        setTimeout(() => {
          sendUpdate(ctx.client, session, {
            sessionUpdate: "current_mode_update",
            currentModeId: modeId,
          }).catch((error) => logError("current_mode_update:", errorMessage(error)));
        }, 0);
      }
      return {};
    })

    .onRequest(acp.methods.agent.session.setConfigOption, (ctx) => {
      const session = getSession(ctx.params.sessionId);
      const { configId, value } = ctx.params;
      if (configId !== "model") {
        throw acp.RequestError.invalidParams({ configId }, `unknown config option ${configId}`);
      }
      if (typeof value !== "string" || !MODELS.some((model) => model.value === value)) {
        throw acp.RequestError.invalidParams({ value }, `unknown model ${String(value)}`);
      }
      session.model = value;
      keep(session, { model: value });
      return { configOptions: configOptions(session) };
    })

    .onRequest(acp.methods.agent.session.prompt, async (ctx) => {
      const session = getSession(ctx.params.sessionId);
      const { prompt } = ctx.params;
      const userMessageId = nextId("user");
      for (const content of prompt) {
        record(session, {
          sessionUpdate: "user_message_chunk",
          messageId: userMessageId,
          content,
        });
      }
      const turn = new Turn(session, ctx.client, prompt, ctx.signal);
      session.turns.add(turn);
      try {
        return { stopReason: await runTurn(turn) };
      } finally {
        session.turns.delete(turn);
      }
    })

    .onNotification(acp.methods.agent.session.cancel, (ctx) => {
      const session = sessions.get(ctx.params.sessionId);
      for (const turn of session?.turns ?? []) turn.cancel();
    });
}

// ---------------------------------------------------------------------------------------------
// Stdio
// ---------------------------------------------------------------------------------------------

/**
 * The process's stdout, as one ordered queue of writes that each resolve once flushed. The SDK
 * writes through `stream()`; flood's raw path writes ready-made lines through `write()`, so the
 * two never reorder or interleave.
 */
class Stdout {
  private tail: Promise<unknown> = Promise.resolve();

  write(data: Uint8Array | string): Promise<void> {
    const written = this.tail.then(() => Bun.stdout.write(data)).then(() => {});
    this.tail = written.catch(() => {});
    return written;
  }

  stream(): WritableStream<Uint8Array> {
    return new WritableStream<Uint8Array>({ write: (chunk) => this.write(chunk) });
  }
}

async function main(): Promise<void> {
  const stdout = new Stdout();
  if (process.env.FAKE_AGENT_RAW_FLOOD === "1") rawLineWriter = (line) => stdout.write(line);
  const stream = acp.ndJsonStream(stdout.stream(), Bun.stdin.stream(), {
    maxMessageBytes: MAX_MESSAGE_BYTES,
  });
  const connection = createFakeAgent().connect(logIncoming(stream, process.env.FAKE_AGENT_LOG));
  await connection.closed;
  process.exit(0);
}

if (import.meta.main) {
  main().catch((error) => {
    logError(error);
    process.exit(1);
  });
}
