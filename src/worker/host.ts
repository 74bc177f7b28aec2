/**
 * The worker's agents: starts, steers and stops them on the hub's commands, and numbers what
 * they say into the outbox (one stream per agent, the stream id being the agent id). Owns
 * every agent process: stop() ends them all.
 */
import { statSync } from "node:fs";
import { isAbsolute } from "node:path";
import { AgentKind, EventKind } from "../gen/switchboard/v1/common_pb.ts";
import type { AgentSpec, Command, HubWelcome } from "../gen/switchboard/v1/link_pb.ts";
import { AcpAgent } from "./acp-agent.ts";
import type { CatalogEntry } from "./catalog.ts";
import { CommandError } from "./link.ts";
import type { Outbox } from "./outbox.ts";

export interface AgentHostOptions {
  outbox: Outbox;
  catalog: CatalogEntry[];
  log?: (line: string) => void;
}

export class AgentHost {
  private readonly agents = new Map<string, AcpAgent>();

  constructor(private readonly opts: AgentHostOptions) {}

  get runningIds(): string[] {
    return [...this.agents.keys()];
  }

  /** Agents the hub expected running that this worker does not have (it restarted). */
  welcome(w: HubWelcome): void {
    for (const spec of w.missingAgents) {
      if (this.agents.has(spec.agentId)) continue;
      this.opts.outbox.append(spec.agentId, EventKind.AGENT_STATUS, {
        json: { status: "failed", message: "the worker restarted; start the agent again" },
      });
    }
  }

  async handle(cmd: Command): Promise<unknown> {
    const b = cmd.body;
    switch (b.case) {
      case "startAgent":
        return this.start(b.value, cmd.actor);
      case "stopAgent": {
        const a = this.agents.get(b.value.agentId);
        if (!a) return undefined; // already gone: stopping is idempotent
        this.agents.delete(b.value.agentId);
        await a.stop();
        return undefined;
      }
      case "prompt": {
        const prompt = JSON.parse(b.value.promptJson) as unknown[];
        return this.agent(b.value.agentId).prompt(prompt, cmd.actor);
      }
      case "cancel":
        return this.agent(b.value.agentId).cancel(cmd.actor);
      case "answerPermission": {
        const outcome = b.value.cancelled
          ? ({ cancelled: true } as const)
          : { optionId: b.value.optionId };
        return this.agent(b.value.agentId).answerPermission(b.value.requestId, outcome, cmd.actor);
      }
      case "setMode":
        return this.agent(b.value.agentId).setMode(b.value.modeId, cmd.actor);
      case "setConfigOption":
        return this.agent(b.value.agentId).setConfigOption(
          b.value.configId,
          b.value.value,
          cmd.actor,
        );
      case "checkFolder":
        return checkFolder(b.value.path);
      default:
        throw new CommandError("unimplemented", `this worker does not know the command ${b.case}`);
    }
  }

  async stop(): Promise<void> {
    const all = [...this.agents.values()];
    this.agents.clear();
    await Promise.allSettled(all.map((a) => a.stop()));
    this.opts.outbox.flush();
  }

  private agent(id: string): AcpAgent {
    const a = this.agents.get(id);
    if (!a) throw new CommandError("failed_precondition", "the agent is not running");
    return a;
  }

  private async start(spec: AgentSpec, actor: string): Promise<void> {
    if (this.agents.has(spec.agentId))
      throw new CommandError("already_exists", "the agent is already running");
    let command = spec.command;
    let env: Record<string, string> = {};
    let kind = spec.kind;
    if (spec.catalogId) {
      const entry = this.opts.catalog.find((e) => e.id === spec.catalogId);
      if (!entry)
        throw new CommandError("not_found", `no catalog entry ${spec.catalogId} on this worker`);
      command = entry.command;
      env = entry.env;
      kind = entry.kind;
    }
    if (kind !== AgentKind.ACP) {
      throw new CommandError(
        "unimplemented",
        "terminal agents are not supported by this worker yet",
      );
    }
    checkFolder(spec.cwd);
    // Continue numbering after what the hub already holds for this stream.
    this.opts.outbox.adoptHead(spec.agentId, spec.headSeq);
    const agent = new AcpAgent({
      agentId: spec.agentId,
      cwd: spec.cwd,
      command,
      env,
      emit: (k, payload) => {
        this.opts.outbox.append(spec.agentId, k, payload);
        if (k === EventKind.AGENT_STATUS && isEnded(payload.json)) this.agents.delete(spec.agentId);
      },
      log: this.opts.log,
    });
    this.agents.set(spec.agentId, agent);
    this.opts.log?.(`starting agent ${spec.agentId} (${command.join(" ")}) for ${actor}`);
    try {
      await agent.start();
    } catch (err) {
      this.agents.delete(spec.agentId);
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
