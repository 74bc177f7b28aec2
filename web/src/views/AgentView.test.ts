/**
 * The agent view with its stores: the session facts from the stream reach the header and the
 * composer, and a prompt with images goes out as ACP blocks under one key across retries.
 */
import { expect, test } from "bun:test";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { flushPromises, mount } from "@vue/test-utils";
import { createMemoryHistory, createRouter } from "vue-router";
import {
  AgentSchema,
  AgentService,
  type PromptRequest,
  type SetModeRequest,
} from "@gen/switchboard/v1/agent_pb.ts";
import {
  AgentKind,
  AgentStatus,
  EventKind,
  EventSchema,
  Role,
} from "@gen/switchboard/v1/common_pb.ts";
import { WorkspaceSchema, WorkspaceService } from "@gen/switchboard/v1/workspace_pb.ts";
import type { Attachment } from "../agent/images.ts";
import Composer from "../components/Composer.vue";
import { SERVICES } from "../services.ts";
import { useAgentsStore } from "../stores/agents.ts";
import { memoryCache } from "../stores/cache.ts";
import { useWorkspacesStore } from "../stores/workspaces.ts";
import { testApp } from "../testing/app.ts";
import { useDom } from "../testing/dom.ts";
import AgentView from "./AgentView.vue";

useDom();

const event = (seq: number, kind: EventKind, json: unknown) =>
  create(EventSchema, { seq, kind, json: JSON.stringify(json), actor: "agent" });

test("usage in the header, pickers from the session, images sent as blocks with one key", async () => {
  const prompts: PromptRequest[] = [];
  const modes: SetModeRequest[] = [];
  let busy = true;
  const cache = memoryCache();
  await cache.append(
    "s-a1",
    [
      event(1, EventKind.SESSION_INFO, {
        sessionId: "x",
        modes: { currentModeId: "ask", availableModes: [{ id: "ask" }, { id: "code" }] },
        agentCapabilities: { promptCapabilities: { image: true } },
      }),
      event(2, EventKind.SESSION_UPDATE, {
        update: { sessionUpdate: "usage_update", used: 50_000, size: 200_000 },
      }),
    ],
    false,
  );
  const t = testApp({
    cache,
    routes: (r) => {
      r.service(AgentService, {
        listAgents: () => ({
          agents: [
            create(AgentSchema, {
              id: "a1",
              workspaceId: "w1",
              name: "helper",
              kind: AgentKind.ACP,
              status: AgentStatus.IDLE,
              streamId: "s-a1",
            }),
          ],
        }),
        prompt: (req) => {
          prompts.push(req);
          if (busy) throw new ConnectError("a turn is already running", Code.FailedPrecondition);
          return { duplicate: false };
        },
        setMode: (req) => (modes.push(req), {}),
      });
      r.service(WorkspaceService, {
        listWorkspaces: () => ({
          workspaces: [create(WorkspaceSchema, { id: "w1", name: "demo", role: Role.OPERATOR })],
        }),
      });
    },
  });
  await t.run(async () => {
    await useWorkspacesStore().load();
    await useAgentsStore().load("w1");
  });
  const router = createRouter({
    history: createMemoryHistory(),
    routes: [{ path: "/w/:workspaceId", name: "agents", component: { render: () => null } }],
  });
  const w = mount(AgentView, {
    props: { workspaceId: "w1", agentId: "a1" },
    global: { plugins: [router], provide: { [SERVICES as symbol]: t.services } },
  });
  await flushPromises();

  expect(w.find('[role="group"][aria-label^="Context"]').attributes("aria-label")).toBe(
    "Context 25% used, 50K / 200K tokens",
  );
  await w.find('select[aria-label="Mode"]').setValue("code");
  await flushPromises();
  expect(modes.map((m) => [m.agentId, m.modeId])).toEqual([["a1", "code"]]);

  const image: Attachment = { id: "i1", name: "", mimeType: "image/png", data: "iVBO", url: "" };
  w.findComponent(Composer).vm.$emit("update:images", [image]);
  await w.find("textarea").setValue("what is this?");
  await w.find("form").trigger("submit");
  await flushPromises();
  expect(prompts).toHaveLength(1);
  expect(JSON.parse(prompts[0]!.promptJson)).toEqual([
    { type: "text", text: "what is this?" },
    { type: "image", data: "iVBO", mimeType: "image/png" },
  ]);
  // Refused: the text and the image stay, and the retry carries the same key.
  expect((w.find("textarea").element as HTMLTextAreaElement).value).toBe("what is this?");
  expect(w.find(".problem").text()).toBe("a turn is already running");
  busy = false;
  await w.find("form").trigger("submit");
  await flushPromises();
  expect(prompts).toHaveLength(2);
  expect(prompts[1]!.idempotencyKey).toBe(prompts[0]!.idempotencyKey);
  expect(prompts[1]!.promptJson).toBe(prompts[0]!.promptJson);
  expect((w.find("textarea").element as HTMLTextAreaElement).value).toBe("");
  expect(w.find(".image-strip").exists()).toBe(false);
  w.unmount();
});
