/**
 * Journey 8: a second user joins through the owner's invitation link. Without a share they see
 * nothing; shared as a viewer they follow the stream live but cannot prompt; as an operator
 * they can, and the owner sees the prompt under their name.
 */
import {
  agentStatus,
  createWorkspace,
  expect,
  JOURNEY,
  login,
  newContext,
  prompt,
  saveScreen,
  startFakeAgent,
  test,
  until,
  useSession,
} from "./fixtures.ts";
import { AgentStatus } from "../src/gen/switchboard/v1/common_pb.ts";

const GUEST = { name: "bob", password: "another long password" };

test(
  "an invited user sees nothing unshared, watches as a viewer and prompts as an operator",
  { tag: JOURNEY },
  async ({ browser, hub, owner }, info) => {
    const { workspace } = await createWorkspace(owner, "team");
    const agent = await startFakeAgent(owner, workspace.id, "shared");
    await prompt(owner, agent.id, "say Before the share");
    const idle = () =>
      until(
        async () => (await agentStatus(owner, workspace.id, agent.id)) === AgentStatus.IDLE,
        20_000,
        "the agent idle",
      );
    await idle();

    const desktop = await newContext(browser, "desktop");
    const phone = await newContext(browser, "phone");
    try {
      // The owner makes an invitation on the desktop.
      await useSession(desktop, hub, owner);
      const settings = await desktop.newPage();
      await settings.goto(`${hub.url}/settings`);
      const invitations = settings.getByRole("region", { name: "Invitations" });
      await invitations.getByRole("button", { name: "Make an invitation" }).click();
      const link = (await invitations.getByRole("code").textContent())!.trim();
      expect(link).toMatch(new RegExp(`^${hub.url}/invite#[A-Za-z0-9_-]+$`));

      // The guest joins on a phone: no workspace is theirs to see.
      const page = await phone.newPage();
      await page.goto(link);
      await expect(page.getByRole("heading", { name: "Join this hub" })).toBeVisible();
      await page.getByLabel("Name").fill(GUEST.name);
      await page.getByLabel("Password").fill(GUEST.password);
      await page.getByRole("button", { name: "Create account" }).click();
      await expect(page.getByRole("heading", { name: "Workspaces" })).toBeVisible();
      await expect(page.getByText("Nobody has shared a workspace with you yet.")).toBeVisible();
      const guest = await login(hub, GUEST);
      expect((await guest.workspaces.listWorkspaces({})).workspaces).toEqual([]);
      // Nor by its address.
      await page.goto(`${hub.url}/w/${workspace.id}/a/${agent.id}`);
      await expect(page.getByRole("alert").first()).toBeVisible();
      await expect(page.getByText("Before the share")).toHaveCount(0);
      await expect(page.getByLabel("Message")).toHaveCount(0);

      // Shared as a viewer: the stream, live, and no composer.
      await settings.reload();
      const sharing = settings.getByRole("region", { name: "Sharing" });
      await sharing.getByLabel("User name").fill(GUEST.name);
      await sharing.getByLabel("Role").selectOption({ label: "viewer" });
      await sharing.getByRole("button", { name: "Share" }).click();
      await expect(sharing.getByRole("listitem").filter({ hasText: GUEST.name })).toContainText(
        "viewer",
      );
      await page.goto(hub.url);
      await expect(page.getByRole("link", { name: /team/ })).toContainText("viewer");
      await page.goto(`${hub.url}/w/${workspace.id}/a/${agent.id}`);
      const conversation = page.getByRole("list", { name: "Conversation" });
      await expect(conversation.getByText("Before the share").first()).toBeVisible();
      await expect(page.getByLabel("Message")).toHaveCount(0);
      await prompt(owner, agent.id, "say While bob watches");
      await expect(conversation.getByText("While bob watches").first()).toBeVisible();
      await idle();
      await saveScreen(page, info, "viewer-phone");

      // As an operator: the composer, and the prompt goes through under the guest's name.
      await sharing.getByLabel("User name").fill(GUEST.name);
      await sharing.getByLabel("Role").selectOption({ label: "operator" });
      await sharing.getByRole("button", { name: "Share" }).click();
      await expect(sharing.getByRole("listitem").filter({ hasText: GUEST.name })).toContainText(
        "operator",
      );
      await page.reload();
      const message = page.getByLabel("Message");
      await expect(message).toBeEnabled();
      await message.fill("say Greetings from the guest");
      await page.getByRole("button", { name: "Send" }).click();
      await expect(conversation.getByText("Greetings from the guest").first()).toBeVisible();

      const watch = await desktop.newPage();
      await watch.goto(`${hub.url}/w/${workspace.id}/a/${agent.id}`);
      const ownerView = watch.getByRole("list", { name: "Conversation" });
      await expect(ownerView.getByText("Greetings from the guest").first()).toBeVisible();
      await expect(
        ownerView.getByRole("listitem").filter({ hasText: "say Greetings from the guest" }).first(),
      ).toContainText(GUEST.name);
      await saveScreen(page, info, "operator-phone");
    } finally {
      await desktop.close();
      await phone.close();
    }
  },
);
