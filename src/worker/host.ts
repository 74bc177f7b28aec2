/**
 * The worker's agents: starts, steers and stops them on the hub's commands, numbers what they
 * say into the outbox (one stream per agent; the stream id is the agent id), and remembers
 * which run (and their ACP session ids) so a restarted worker resumes them. Owns every agent
 * process: shutdown() ends them all.
 */
import { statSync } from "node:fs";
import { isAbsolute } from "node:path";
import { AgentKind, EventKind } from "../gen/switchboard/v1/common_pb.ts";
import type { AgentSpec, Command, HubWelcome } from "../gen/switchboard/v1/link_pb.ts";
import { AcpAgent, type AgentEventSink } from "./acp-agent.ts";
import type { AgentStore } from "./agent-store.ts";
import type { CatalogEntry } from "./catalog.ts";
import { handleFileCall } from "./files.ts";
import { CommandError, RawJson } from "./link.ts";
import type { Outbox } from "./outbox.ts";
import { TerminalAgent } from "./terminal-agent.ts";

export interface AgentHostOptions {
  outbox: Outbox;
  store: AgentStore;
  catalog: CatalogEntry[];
  log?: (line: string) => void;
}

type Agent = AcpAgent | TerminalAgent;

export class AgentHost {
  private readonly agents = new Map<string, Agent>();
  private shuttingDown = false;

  constructor(private readonly opts: AgentHostOptions) {}

  get runningIds(): string[] {
    return [...this.agents.keys()];
  }

  /**
   * Agents the hub expects running that this worker does not run (it restarted): ACP agents
   * resume their session; a terminal program is not run again unasked (its last screen stays
   * in its stream, and RestartAgent starts it afresh).
   */
  welcome(w: HubWelcome): void {
    const expected = new Set(w.missingAgents.map((a) => a.agentId));
    for (const spec of this.opts.store.all()) {
      if (!expected.has(spec.agentId) && !this.agents.has(spec.agentId)) {
        this.opts.store.forget(spec.agentId);
      }
    }
    for (const spec of w.missingAgents) {
      if (this.agents.has(spec.agentId)) continue;
      if (spec.kind === AgentKind.ACP) {
        this.start({ ...spec, resume: true }, "worker").catch((err: Error) =>
          this.opts.log?.(`resuming agent ${spec.agentId}: ${err.message}`),
        );
      } else {
        this.opts.outbox.append(spec.agentId, EventKind.AGENT_STATUS, {
          json: {
            status: "stopped",
            message: "the worker restarted; restart the terminal to run it again",
          },
        });
        this.opts.store.forget(spec.agentId);
      }
    }
  }

  async handle(cmd: Command): Promise<unknown> {
    const b = cmd.body;
    switch (b.case) {
      case "startAgent":
        return this.start(b.value, cmd.actor);
      case "stopAgent": {
        const a = this.agents.get(b.value.agentId);
        this.opts.store.forget(b.value.agentId);
        if (!a) return undefined; // already gone: stopping is idempotent
        this.agents.delete(b.value.agentId);
        await a.stop();
        return undefined;
      }
      case "prompt": {
        const prompt = JSON.parse(b.value.promptJson) as unknown[];
        return this.acp(b.value.agentId).prompt(prompt, cmd.actor);
      }
      case "cancel":
        return this.acp(b.value.agentId).cancel(cmd.actor);
      case "answerPermission": {
        const outcome = b.value.cancelled
          ? ({ cancelled: true } as const)
          : { optionId: b.value.optionId };
        return this.acp(b.value.agentId).answerPermission(b.value.requestId, outcome, cmd.actor);
      }
      case "setMode":
        return this.acp(b.value.agentId).setMode(b.value.modeId, cmd.actor);
      case "setConfigOption":
        return this.acp(b.value.agentId).setConfigOption(
          b.value.configId,
          b.value.value,
          cmd.actor,
        );
      case "terminalInput":
        return this.terminal(b.value.streamId).input(b.value.data, cmd.actor);
      case "terminalResize":
        return this.terminal(b.value.streamId).resize(b.value.cols, b.value.rows, cmd.actor);
      case "file":
        return new RawJson(await handleFileCall(b.value));
      case "checkFolder":
        return checkFolder(b.value.path);
      default:
        throw new CommandError("unimplemented", `this worker does not know the command ${b.case}`);
    }
  }

  /**
   * Ends every agent because the worker itself stops. They are not recorded as stopped: the
   * hub still expects them, and the worker resumes them when it comes back.
   */
  async shutdown(): Promise<void> {
    this.shuttingDown = true;
    const all = [...this.agents.values()];
    this.agents.clear();
    await Promise.allSettled(all.map((a) => a.stop()));
    this.opts.outbox.flush();
  }

  private acp(id: string): AcpAgent {
    const a = this.agents.get(id);
    if (!a) throw new CommandError("failed_precondition", "the agent is not running");
    if (!(a instanceof AcpAgent))
      throw new CommandError("invalid_argument", "this agent is a terminal");
    return a;
  }

  private terminal(id: string): TerminalAgent {
    const a = this.agents.get(id);
    if (!a) throw new CommandError("failed_precondition", "the terminal is not running");
    if (!(a instanceof TerminalAgent))
      throw new CommandError("invalid_argument", "this agent has no terminal");
    return a;
  }

  private async start(spec: AgentSpec, actor: string): Promise<void> {
    if (this.agents.has(spec.agentId))
      throw new CommandError("already_exists", "the agent is already running");
    let command = spec.command;
    let env: Record<string, string> = {};
    let kind = spec.kind;
    let notice = "";
    if (spec.catalogId) {
      const entry = this.opts.catalog.find((e) => e.id === spec.catalogId);
      if (!entry)
        throw new CommandError("not_found", `no catalog entry ${spec.catalogId} on this worker`);
      command = entry.command;
      env = entry.env;
      kind = entry.kind;
      notice = entry.notice ?? "";
    }
    checkFolder(spec.cwd);
    // Continue numbering after what the hub already holds for this stream.
    this.opts.outbox.adoptHead(spec.agentId, spec.headSeq);
    const emit: AgentEventSink = (k, payload) => {
      // During the worker's own shutdown the agents' "stopped" is not news to record.
      if (this.shuttingDown && k === EventKind.AGENT_STATUS) return;
      this.opts.outbox.append(spec.agentId, k, payload);
      if (
        k === EventKind.AGENT_STATUS &&
        isEnded(payload.json) &&
        this.agents.get(spec.agentId) === agent
      ) {
        this.agents.delete(spec.agentId);
        this.opts.store.forget(spec.agentId);
      }
    };
    const sessionId = spec.resume ? this.opts.store.sessionOf(spec.agentId) : "";
    const agent: Agent =
      kind === AgentKind.ACP
        ? new AcpAgent({
            agentId: spec.agentId,
            cwd: spec.cwd,
            command,
            env,
            emit,
            log: this.opts.log,
            resume: sessionId ? { sessionId } : undefined,
            onSession: (id) => this.opts.store.setSession(spec.agentId, id),
            notice: notice || undefined,
            pressure: this.opts.outbox.pressure(spec.agentId),
            // For editors on this machine: the name to attach by, the entry's workspace.
            name: spec.name,
            workspaceId: spec.workspaceId,
          })
        : new TerminalAgent({
            agentId: spec.agentId,
            cwd: spec.cwd,
            command,
            env,
            cols: spec.cols || undefined,
            rows: spec.rows || undefined,
            emit,
            log: this.opts.log,
          });
    this.agents.set(spec.agentId, agent);
    this.opts.store.started(spec);
    this.opts.log?.(
      `starting agent ${spec.agentId} (${command.join(" ") || "shell"}) for ${actor}`,
    );
    try {
      await agent.start();
    } catch (err) {
      this.agents.delete(spec.agentId);
      this.opts.store.forget(spec.agentId);
      throw new CommandError(
        "failed_precondition",
        `the agent did not start: ${(err as Error).message}`,
      );
    }
  }
}

function isEnded(json: unknown): boolean {
  const s = (json as { status?: string } | undefined)?.status;
  return s === "stopped" || s === "failed";
}

function checkFolder(path: string): { ok: true } {
  if (!isAbsolute(path))
    throw new CommandError("invalid_argument", "the folder must be an absolute path");
  let st;
  try {
    st = statSync(path);
  } catch {
    throw new CommandError("not_found", `no folder ${path} on this worker`);
  }
  if (!st.isDirectory()) throw new CommandError("invalid_argument", `${path} is not a folder`);
  return { ok: true };
}
