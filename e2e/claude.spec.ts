/**
 * Journey 10: the real Claude Code ACP adapter (catalog entry "claude"), started by the hub's
 * own worker and kept offline (a closed loopback port for its API, a scratch HOME, no
 * telemetry or updates: src/testing/claude-env.ts, as in the worker's tests). It appears as an
 * agent with its modes and slash commands, and a prompt (which cannot reach the API) is
 * cancelled from the phone.
 */
import { AgentStatus, EventKind } from "../src/gen/switchboard/v1/common_pb.ts";
import { offlineClaudeEnv } from "../src/testing/claude-env.ts";
import { tempDir } from "../src/testing/harness.ts";
import { liveSocket } from "../src/testing/hub.ts";
import {
  agentStatus,
  createWorkspace,
  expect,
  JOURNEY,
  login,
  saveScreen,
  signIn,
  test,
  until,
} from "./fixtures.ts";

const home = tempDir("claude-home");
test.use({
  hubOptions: {
    env: {
      // The machine runs as root: a declared sandbox lets Claude Code start there.
      IS_SANDBOX: "yes",
      ...offlineClaudeEnv(home),
    },
  },
});

test(
  "Claude Code runs offline as an agent with its modes and commands; the phone cancels a prompt",
  { tag: JOURNEY },
  async ({ page, hub, owner }, info) => {
    const { workspace } = await createWorkspace(owner, "claude");
    await signIn(page, hub);
    await page.goto(`${hub.url}/w/${workspace.id}`);
    const start = page.getByRole("form", { name: "Start an agent" });
    await start.getByLabel("Agent").selectOption({ label: "Claude Code" });
    await start.getByRole("button", { name: "Start" }).click();
    await expect(page).toHaveURL(/\/w\/[^/]+\/a\/[^/]+$/);
    const agentId = page.url().split("/").at(-1)!;
    const message = page.getByLabel("Message");
    await expect(message).toBeEnabled({ timeout: 45_000 });

    // Its modes, as the adapter lists them, in the composer's mode picker.
    const mode = page.getByRole("combobox", { name: "Mode", exact: true });
    await expect(mode).toBeVisible();
    const modes = await mode.getByRole("option").allTextContents();
    expect(modes.some((m) => /plan/i.test(m))).toBe(true);
    expect(modes.length).toBeGreaterThanOrEqual(2);

    // Its slash commands, offered when the message starts with "/".
    await message.fill("/");
    const commands = page.getByRole("listbox", { name: "Commands" });
    await expect(commands.getByRole("option").first()).toBeVisible({ timeout: 20_000 });
    expect(await commands.getByRole("option").count()).toBeGreaterThan(0);
    await message.fill("");

    // A prompt that cannot reach the API runs until the phone stops it.
    const reader = await login(hub);
    const agent = (await reader.agents.listAgents({ workspaceId: workspace.id })).agents.find(
      (a) => a.id === agentId,
    )!;
    const live = await liveSocket(hub.url, reader.jar);
    live.subscribe(agent.streamId, 0);
    await message.fill("Say hello.");
    await page.getByRole("button", { name: "Send" }).click();
    const stop = page.getByRole("button", { name: "Stop" });
    await expect(stop).toBeVisible();
    await saveScreen(page, info, "claude-working-phone");
    await stop.click();
    const end = await until(
      () => live.events(agent.streamId).find((e) => e.kind === EventKind.TURN_FINISHED),
      30_000,
      "the turn's end",
    );
    expect(JSON.parse(end!.json)).toEqual({ stopReason: "cancelled" });
    await until(
      async () => (await agentStatus(owner, workspace.id, agentId)) === AgentStatus.IDLE,
      30_000,
      "the agent idle again",
    );
    await expect(stop).toHaveCount(0);
    await expect(message).toBeEnabled();
    live.close();
    await saveScreen(page, info, "claude-cancelled-phone");
  },
);
