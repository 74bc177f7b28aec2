/**
 * FileService: each read is checked (viewer role on the workspace) and forwarded to the
 * workspace's worker as a FileCall rooted at the workspace folder; the worker confines it
 * there and answers with the response message as protobuf JSON.
 */
import { fromJsonString, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import { Role } from "../../gen/switchboard/v1/common_pb.ts";
import {
  GitBranchesResponseSchema,
  GitDiffResponseSchema,
  GitLogResponseSchema,
  GitStatusResponseSchema,
  ListDirResponseSchema,
  ReadFileResponseSchema,
  SearchFilesResponseSchema,
  type FileService,
} from "../../gen/switchboard/v1/files_pb.ts";
import type { FileCall } from "../../gen/switchboard/v1/link_pb.ts";
import { callerOf } from "../caller.ts";
import type { HubDeps } from "../deps.ts";
import { requireRole } from "../rights.ts";
import { id } from "./validate.ts";

type Call = FileCall["call"];

export function fileService(deps: HubDeps): ServiceImpl<typeof FileService> {
  const { db, link } = deps;

  async function forward<S extends DescMessage>(
    ctx: HandlerContext,
    workspaceId: string,
    call: Call,
    schema: S,
  ): Promise<MessageShape<S>> {
    const c = callerOf(ctx);
    const wsId = id(workspaceId, "workspace_id");
    requireRole(db, c.userId, wsId, Role.VIEWER);
    const ws = db
      .query("SELECT worker_id AS workerId, path FROM workspaces WHERE id = ?")
      .get(wsId) as {
      workerId: string;
      path: string;
    };
    const json = await link.command(ws.workerId, c.userName, {
      case: "file",
      value: { root: ws.path, call },
    });
    return fromJsonString(schema, json);
  }

  return {
    listDir: (req, ctx) =>
      forward(ctx, req.workspaceId, { case: "listDir", value: req }, ListDirResponseSchema),
    readFile: (req, ctx) =>
      forward(ctx, req.workspaceId, { case: "readFile", value: req }, ReadFileResponseSchema),
    searchFiles: (req, ctx) =>
      forward(ctx, req.workspaceId, { case: "search", value: req }, SearchFilesResponseSchema),
    gitStatus: (req, ctx) =>
      forward(ctx, req.workspaceId, { case: "gitStatus", value: req }, GitStatusResponseSchema),
    gitDiff: (req, ctx) =>
      forward(ctx, req.workspaceId, { case: "gitDiff", value: req }, GitDiffResponseSchema),
    gitBranches: (req, ctx) =>
      forward(ctx, req.workspaceId, { case: "gitBranches", value: req }, GitBranchesResponseSchema),
    gitLog: (req, ctx) =>
      forward(ctx, req.workspaceId, { case: "gitLog", value: req }, GitLogResponseSchema),
  };
}
