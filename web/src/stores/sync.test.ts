/** The hub's `changed` frames and reconnects refetch what the stores show. */
import { expect, test } from "bun:test";
import { create } from "@bufbuild/protobuf";
import { AgentSchema, AgentService } from "@gen/switchboard/v1/agent_pb.ts";
import { AuthService } from "@gen/switchboard/v1/auth_pb.ts";
import { AgentStatus } from "@gen/switchboard/v1/common_pb.ts";
import { WorkspaceSchema, WorkspaceService } from "@gen/switchboard/v1/workspace_pb.ts";
import { testApp } from "../testing/app.ts";
import { useAgentsStore } from "./agents.ts";
import { useAuthStore } from "./auth.ts";
import { syncStores } from "./sync.ts";
import { useWorkspacesStore } from "./workspaces.ts";

test("changed agents, workspaces and a reconnect each refetch; a refused socket re-asks who we are", async () => {
  let status = AgentStatus.WORKING;
  const calls = { agents: 0, workspaces: 0, me: 0 };
  const t = testApp({
    routes: (r) => {
      r.service(AgentService, {
        listAgents: () => (
          calls.agents++,
          { agents: [create(AgentSchema, { id: "a1", workspaceId: "w1", status })] }
        ),
      });
      r.service(WorkspaceService, {
        listWorkspaces: () => (
          calls.workspaces++,
          { workspaces: [create(WorkspaceSchema, { id: "w1", name: `demo ${calls.workspaces}` })] }
        ),
      });
      r.service(AuthService, { getMe: () => (calls.me++, { user: { id: "u1", name: "ada" } }) });
    },
  });
  const unsync = t.run(() => syncStores(t.services.live));
  const agents = t.run(() => useAgentsStore());
  const workspaces = t.run(() => useWorkspacesStore());
  t.run(() => useAuthStore());
  await agents.load("w1");
  await workspaces.load();
  t.services.live.start();
  t.socket().open();

  status = AgentStatus.IDLE;
  t.socket().receive({ case: "changed", value: { what: "agents", workspaceId: "w1" } });
  // A workspace whose agents were never shown is not fetched.
  t.socket().receive({ case: "changed", value: { what: "agents", workspaceId: "w9" } });
  await Bun.sleep(20);
  expect(calls.agents).toBe(2);
  expect(agents.byWorkspace.w1![0]!.status).toBe(AgentStatus.IDLE);
  expect(agents.byWorkspace.w9).toBeUndefined();

  t.socket().receive({ case: "changed", value: { what: "workspaces", workspaceId: "w1" } });
  await Bun.sleep(20);
  expect(workspaces.list[0]!.name).toBe("demo 2");

  // After a reconnect, what is shown is fetched again (changes may have passed meanwhile).
  t.socket().drop();
  t.clock.advance(1);
  t.socket().open();
  await Bun.sleep(20);
  expect(calls.workspaces).toBe(3);
  expect(calls.agents).toBe(4);

  // A socket refused before opening may mean the session ended: the store asks.
  t.socket().drop();
  t.clock.advance(1);
  t.socket().drop();
  await Bun.sleep(20);
  expect(calls.me).toBe(1);
  unsync();
});
