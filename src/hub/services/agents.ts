/** AgentService: the catalog, starting and stopping agents, and steering them. */
import { Code, ConnectError, type HandlerContext, type ServiceImpl } from "@connectrpc/connect";
import { create } from "@bufbuild/protobuf";
import {
  CatalogEntrySchema,
  type AgentService,
  type CatalogEntry,
} from "../../gen/switchboard/v1/agent_pb.ts";
import { AgentKind, AgentStatus, Role } from "../../gen/switchboard/v1/common_pb.ts";
import type { AgentSpec } from "../../gen/switchboard/v1/link_pb.ts";
import { callerOf, type Caller } from "../caller.ts";
import type { HubDeps } from "../deps.ts";
import { requireRole } from "../rights.ts";
import {
  getAgent,
  insertAgent,
  listAgents,
  RUNNING_STATUSES,
  setAgentStatus,
} from "../store/agents.ts";
import { newId } from "../store/ids.ts";
import { id, text } from "./validate.ts";

/** An idempotency key is a client-made UUID or similar; this bounds what is stored. */
const MAX_KEY_LENGTH = 100;
/** Arguments of a custom command, and the length of each. */
const MAX_ARGS = 64;
const MAX_ARG_LENGTH = 4096;

export function agentService(deps: HubDeps): ServiceImpl<typeof AgentService> {
  const { db, link, live } = deps;

  const workspaceRow = (wsId: string) =>
    db.query("SELECT worker_id AS workerId, path FROM workspaces WHERE id = ?").get(wsId) as {
      workerId: string;
      path: string;
    };

  /** The agent, if the caller has `need` on its workspace, with its worker. */
  const agentFor = (ctx: HandlerContext, agentId: string, need: Role) => {
    const c = callerOf(ctx);
    const agent = getAgent(db, id(agentId, "agent_id"));
    if (!agent) throw new ConnectError("no such agent", Code.NotFound);
    requireRole(db, c.userId, agent.workspaceId, need);
    return { c, agent, workerId: workspaceRow(agent.workspaceId).workerId };
  };

  /** Records a client's idempotency key; false when it was seen before. */
  const firstTime = (c: Caller, key: string): boolean => {
    if (key === "") return true;
    if (key.length > MAX_KEY_LENGTH)
      throw new ConnectError("idempotency_key too long", Code.InvalidArgument);
    return (
      db
        .query("INSERT OR IGNORE INTO request_keys (user_id, key, created_at) VALUES (?, ?, ?)")
        .run(c.userId, key, deps.now()).changes === 1
    );
  };
  /** Forgets a key whose request certainly never reached the worker, so a retry goes through. */
  const forget = (c: Caller, key: string, err: unknown) => {
    if (key !== "" && err instanceof ConnectError && err.code === Code.Unavailable) {
      db.query("DELETE FROM request_keys WHERE user_id = ? AND key = ?").run(c.userId, key);
    }
  };

  /** Asks the worker to start an agent; a refusal leaves it failed with the reason. */
  const launch = async (workerId: string, actor: string, spec: Omit<AgentSpec, "$typeName">) => {
    try {
      await link.command(workerId, actor, { case: "startAgent", value: spec });
    } catch (err) {
      const a = getAgent(db, spec.agentId);
      if (a && a.status === AgentStatus.STARTING) {
        setAgentStatus(db, spec.agentId, AgentStatus.FAILED, (err as Error).message);
        live.changed("agents", spec.workspaceId);
      }
      throw err;
    }
  };

  return {
    listCatalog(req, ctx) {
      const c = callerOf(ctx);
      const wsId = id(req.workspaceId, "workspace_id");
      requireRole(db, c.userId, wsId, Role.VIEWER);
      return { entries: catalogOf(deps, workspaceRow(wsId).workerId) };
    },
    listAgents(req, ctx) {
      const c = callerOf(ctx);
      const wsId = id(req.workspaceId, "workspace_id");
      requireRole(db, c.userId, wsId, Role.VIEWER);
      return { agents: listAgents(db, wsId) };
    },
    async startAgent(req, ctx) {
      const c = callerOf(ctx);
      const wsId = id(req.workspaceId, "workspace_id");
      requireRole(db, c.userId, wsId, Role.OPERATOR);
      const ws = workspaceRow(wsId);
      let kind = req.kind;
      let name = req.name.trim();
      let command: string[] = [];
      if (req.catalogId) {
        const entry = catalogOf(deps, ws.workerId).find((e) => e.id === req.catalogId);
        if (!entry)
          throw new ConnectError(`the worker has no catalog entry ${req.catalogId}`, Code.NotFound);
        kind = entry.kind;
        name ||= entry.name;
      } else {
        if (kind !== AgentKind.ACP && kind !== AgentKind.TERMINAL) {
          throw new ConnectError(
            "give a catalog_id, or a command with its kind",
            Code.InvalidArgument,
          );
        }
        if (req.command.length === 0 || req.command.length > MAX_ARGS) {
          throw new ConnectError(`a command has 1 to ${MAX_ARGS} arguments`, Code.InvalidArgument);
        }
        command = req.command.map((a) => {
          if (a.length > MAX_ARG_LENGTH || a.includes("\0")) {
            throw new ConnectError(
              "a command argument is too long or has a NUL",
              Code.InvalidArgument,
            );
          }
          return a;
        });
        name ||= command[0]!.split("/").at(-1)!;
      }
      const agentId = newId();
      insertAgent(db, {
        id: agentId,
        workspaceId: wsId,
        kind,
        name: text(name, "name", 100),
        status: AgentStatus.STARTING,
        catalogId: req.catalogId,
        command,
        statusMessage: "",
        createdAtMs: deps.now(),
        createdBy: c.userName,
      });
      live.changed("agents", wsId);
      await launch(ws.workerId, c.userName, {
        agentId,
        workspaceId: wsId,
        cwd: ws.path,
        kind,
        catalogId: req.catalogId,
        command,
        name,
        headSeq: 0,
        resume: false,
        cols: req.cols,
        rows: req.rows,
      });
      return { agent: getAgent(db, agentId)! };
    },
    async restartAgent(req, ctx) {
      const { c, agent, workerId } = agentFor(ctx, req.agentId, Role.OPERATOR);
      if (RUNNING_STATUSES.includes(agent.status)) {
        throw new ConnectError("the agent is running; stop it first", Code.FailedPrecondition);
      }
      setAgentStatus(db, agent.id, AgentStatus.STARTING);
      live.changed("agents", agent.workspaceId);
      await launch(workerId, c.userName, {
        agentId: agent.id,
        workspaceId: agent.workspaceId,
        cwd: workspaceRow(agent.workspaceId).path,
        kind: agent.kind,
        catalogId: agent.catalogId,
        command: agent.command,
        name: agent.name,
        headSeq: agent.headSeq,
        resume: true,
        cols: 0,
        rows: 0,
      });
      return { agent: getAgent(db, agent.id)! };
    },
    async stopAgent(req, ctx) {
      const { c, agent, workerId } = agentFor(ctx, req.agentId, Role.OPERATOR);
      await stopOnWorker(deps, workerId, c.userName, agent.id, agent.status);
      return {};
    },
    async deleteAgent(req, ctx) {
      const { c, agent, workerId } = agentFor(ctx, req.agentId, Role.OPERATOR);
      await stopOnWorker(deps, workerId, c.userName, agent.id, agent.status).catch(() => {
        // Deleting does not wait for an offline worker: it is told to stop the agent when
        // it reconnects and lists it as running.
      });
      db.query("DELETE FROM agents WHERE id = ?").run(agent.id);
      live.changed("agents", agent.workspaceId);
      return {};
    },
    async prompt(req, ctx) {
      const { c, agent, workerId } = agentFor(ctx, req.agentId, Role.OPERATOR);
      checkPrompt(req.promptJson);
      if (!firstTime(c, req.idempotencyKey)) return { duplicate: true };
      try {
        await link.command(workerId, c.userName, {
          case: "prompt",
          value: { agentId: agent.id, promptJson: req.promptJson },
        });
      } catch (err) {
        forget(c, req.idempotencyKey, err);
        throw err;
      }
      return { duplicate: false };
    },
    async cancel(req, ctx) {
      const { c, agent, workerId } = agentFor(ctx, req.agentId, Role.OPERATOR);
      await link.command(workerId, c.userName, { case: "cancel", value: { agentId: agent.id } });
      return {};
    },
    async answerPermission(req, ctx) {
      const { c, agent, workerId } = agentFor(ctx, req.agentId, Role.OPERATOR);
      if (!req.cancelled && req.optionId === "") {
        throw new ConnectError("choose an option_id, or set cancelled", Code.InvalidArgument);
      }
      if (!firstTime(c, req.idempotencyKey)) return { duplicate: true };
      try {
        await link.command(workerId, c.userName, {
          case: "answerPermission",
          value: {
            agentId: agent.id,
            requestId: text(req.requestId, "request_id", 100),
            optionId: req.optionId,
            cancelled: req.cancelled,
          },
        });
      } catch (err) {
        forget(c, req.idempotencyKey, err);
        throw err;
      }
      return { duplicate: false };
    },
    async setMode(req, ctx) {
      const { c, agent, workerId } = agentFor(ctx, req.agentId, Role.OPERATOR);
      await link.command(workerId, c.userName, {
        case: "setMode",
        value: { agentId: agent.id, modeId: text(req.modeId, "mode_id", 200) },
      });
      return {};
    },
    async setConfigOption(req, ctx) {
      const { c, agent, workerId } = agentFor(ctx, req.agentId, Role.OPERATOR);
      await link.command(workerId, c.userName, {
        case: "setConfigOption",
        value: {
          agentId: agent.id,
          configId: text(req.configId, "config_id", 200),
          value: text(req.value, "value", 1000, true),
        },
      });
      return {};
    },
  };
}

async function stopOnWorker(
  deps: HubDeps,
  workerId: string,
  actor: string,
  agentId: string,
  status: AgentStatus,
) {
  if (!RUNNING_STATUSES.includes(status)) return;
  await deps.link.command(workerId, actor, { case: "stopAgent", value: { agentId } });
}

function catalogOf(deps: HubDeps, workerId: string): CatalogEntry[] {
  const r = deps.db.query("SELECT catalog_json AS j FROM workers WHERE id = ?").get(workerId) as {
    j: string;
  } | null;
  const list = JSON.parse(r?.j ?? "[]") as {
    id: string;
    name: string;
    kind: number;
    description: string;
  }[];
  return list.map((e) => create(CatalogEntrySchema, e));
}

/** A prompt is a non-empty JSON array of ACP content blocks. */
function checkPrompt(json: string): void {
  let v: unknown;
  try {
    v = JSON.parse(json);
  } catch {
    throw new ConnectError("prompt_json is not JSON", Code.InvalidArgument);
  }
  if (!Array.isArray(v) || v.length === 0) {
    throw new ConnectError(
      "prompt_json is a non-empty array of content blocks",
      Code.InvalidArgument,
    );
  }
  for (const b of v) {
    if (typeof b !== "object" || b === null || typeof (b as { type?: unknown }).type !== "string") {
      throw new ConnectError("each content block has a string `type`", Code.InvalidArgument);
    }
  }
}
