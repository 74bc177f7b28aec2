/** The agents and workspaces stores: lists (cached), badges, unread counts, steering calls. */
import { expect, test } from "bun:test";
import { create } from "@bufbuild/protobuf";
import { createConnectTransport } from "@connectrpc/connect-web";
import {
  AgentSchema,
  AgentService,
  type AnswerPermissionRequest,
  type PromptRequest,
} from "@gen/switchboard/v1/agent_pb.ts";
import {
  AgentKind,
  AgentStatus,
  EventKind,
  EventSchema,
  Role,
} from "@gen/switchboard/v1/common_pb.ts";
import { WorkspaceSchema, WorkspaceService } from "@gen/switchboard/v1/workspace_pb.ts";
import { testApp } from "../testing/app.ts";
import { BADGE_LABEL, badgeOf, useAgentsStore } from "./agents.ts";
import { memoryCache } from "./cache.ts";
import { useStreamsStore } from "./streams.ts";
import { useWorkspacesStore } from "./workspaces.ts";

const agent = (id: string, status: AgentStatus, headSeq: number) =>
  create(AgentSchema, { id, workspaceId: "w1", name: id, status, streamId: `s-${id}`, headSeq });

test("badges: working, waiting for you, finished, failed (and the quieter ones)", () => {
  expect(BADGE_LABEL[badgeOf(AgentStatus.WORKING)]).toBe("working");
  expect(BADGE_LABEL[badgeOf(AgentStatus.WAITING)]).toBe("waiting for you");
  expect(BADGE_LABEL[badgeOf(AgentStatus.IDLE)]).toBe("finished");
  expect(BADGE_LABEL[badgeOf(AgentStatus.IDLE, AgentKind.ACP)]).toBe("finished");
  // A shell waiting for a command is running, not finished.
  expect(BADGE_LABEL[badgeOf(AgentStatus.IDLE, AgentKind.TERMINAL)]).toBe("running");
  expect(BADGE_LABEL[badgeOf(AgentStatus.STOPPED, AgentKind.TERMINAL)]).toBe("stopped");
  expect(BADGE_LABEL[badgeOf(AgentStatus.FAILED)]).toBe("failed");
  expect(BADGE_LABEL[badgeOf(AgentStatus.STOPPED)]).toBe("stopped");
  expect(BADGE_LABEL[badgeOf(AgentStatus.STARTING)]).toBe("starting");
});

test("unread counts: the head (listed or live) past what this device showed, kept across starts", async () => {
  const cache = memoryCache();
  const t = testApp({
    cache,
    routes: (r) =>
      r.service(AgentService, {
        listAgents: () => ({ agents: [agent("a1", AgentStatus.IDLE, 10)] }),
      }),
  });
  t.services.live.start();
  t.socket().open();
  const agents = t.run(() => useAgentsStore());
  const streams = t.run(() => useStreamsStore());
  await agents.load("w1");
  const a1 = agents.byWorkspace.w1![0]!;
  expect(agents.unread(a1)).toBe(10);
  agents.markSeen("a1", 7);
  expect(agents.unread(a1)).toBe(3);
  // A live stream further than the listing counts too.
  await streams.open("s-a1");
  t.socket().receive({
    case: "events",
    value: {
      streamId: "s-a1",
      events: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12].map((seq) =>
        create(EventSchema, { seq, kind: EventKind.SESSION_UPDATE }),
      ),
      live: true,
      headSeq: 12,
    },
  });
  expect(agents.unread(a1)).toBe(5);
  agents.markSeen("a1", 3); // never goes back
  expect(agents.seen.a1).toBe(7);

  // Another start of the app on this device remembers what was seen.
  await Bun.sleep(0);
  const again = testApp({ cache });
  const agents2 = again.run(() => useAgentsStore());
  await agents2.restoreSeen();
  expect(agents2.seen.a1).toBe(7);
});

test("a prompt carries its text as ACP content and the key given; answers say which option", async () => {
  const prompts: PromptRequest[] = [];
  const answers: AnswerPermissionRequest[] = [];
  const t = testApp({
    routes: (r) =>
      r.service(AgentService, {
        prompt: (req) => (prompts.push(req), { duplicate: prompts.length > 1 }),
        answerPermission: (req) => (answers.push(req), {}),
      }),
  });
  const agents = t.run(() => useAgentsStore());
  expect(await agents.prompt("a1", "hello", "key-1")).toBe(true);
  expect(await agents.prompt("a1", "hello", "key-1")).toBe(false);
  await agents.prompt("a1", "fresh");
  expect(prompts[0]).toMatchObject({ agentId: "a1", idempotencyKey: "key-1" });
  expect(JSON.parse(prompts[0]!.promptJson)).toEqual([{ type: "text", text: "hello" }]);
  expect(prompts[2]!.idempotencyKey).not.toBe("key-1");
  expect(prompts[2]!.idempotencyKey.length).toBeGreaterThanOrEqual(32);
  await agents.answerPermission("a1", "r1", "allow");
  await agents.answerPermission("a1", "r2", null);
  expect(answers.map((a) => [a.requestId, a.optionId, a.cancelled])).toEqual([
    ["r1", "allow", false],
    ["r2", "", true],
  ]);
  expect(answers[0]!.idempotencyKey).not.toBe(answers[1]!.idempotencyKey);
});

test("workspace and agent lists come from the cache when the hub cannot be reached", async () => {
  const cache = memoryCache();
  const online = testApp({
    cache,
    routes: (r) => {
      r.service(WorkspaceService, {
        listWorkspaces: () => ({
          workspaces: [create(WorkspaceSchema, { id: "w1", name: "demo", role: Role.OWNER })],
        }),
      });
      r.service(AgentService, {
        listAgents: () => ({ agents: [agent("a1", AgentStatus.WORKING, 3)] }),
      });
    },
  });
  await online.run(() => useWorkspacesStore()).load();
  await online.run(() => useAgentsStore()).load("w1");

  const offline = testApp({
    cache,
    transport: createConnectTransport({
      baseUrl: "http://127.0.0.1:9/api",
      fetch: (async () => {
        throw new TypeError("Failed to fetch");
      }) as unknown as typeof fetch,
    }),
  });
  const workspaces = offline.run(() => useWorkspacesStore());
  const agents = offline.run(() => useAgentsStore());
  await workspaces.load();
  await agents.load("w1");
  expect(workspaces.list.map((w) => w.name)).toEqual(["demo"]);
  expect(workspaces.loaded).toBe(false);
  expect(agents.byWorkspace.w1!.map((a) => a.status)).toEqual([AgentStatus.WORKING]);
  expect(agents.find("a1")?.name).toBe("a1");
});

test("with nothing cached, an unreachable hub is an error the view can show", async () => {
  const t = testApp({
    transport: createConnectTransport({
      baseUrl: "http://127.0.0.1:9/api",
      fetch: (async () => {
        throw new TypeError("Failed to fetch");
      }) as unknown as typeof fetch,
    }),
  });
  const workspaces = t.run(() => useWorkspacesStore());
  const err = await workspaces.load().catch((e: unknown) => e);
  expect(err).toBeInstanceOf(Error);
});
