/**
 * Issue 6: the agent asks permission, the app shows the request with its options, the user
 * approves, and the agent goes on (its tool call completes); phone and desktop.
 */
import { createWorkspace, expect, saveScreen, signIn, startFakeAgent, test } from "./fixtures.ts";

test("a permission request is answered from the app and the agent continues", async ({
  page,
  hub,
  owner,
}, info) => {
  const { workspace } = await createWorkspace(owner, "demo");
  const agent = await startFakeAgent(owner, workspace.id, "editor");
  await signIn(page, hub);
  await page.goto(`${hub.url}/w/${workspace.id}/a/${agent.id}`);
  await expect(page.getByLabel("Message")).toBeEnabled();

  await page.getByLabel("Message").fill("permission Edit the file");
  await page.getByRole("button", { name: "Send" }).click();

  const request = page.getByRole("group", { name: /Permission: Edit the file/ });
  await expect(request).toBeVisible();
  await expect(request.getByRole("button", { name: "Reject" })).toBeVisible();
  await saveScreen(page, info, `permission-${info.project.name}`);
  await request.getByRole("button", { name: "Allow" }).click();

  // Who answered, and the agent's own word that it went on.
  await expect(request.getByText(/ada/)).toBeVisible();
  await expect(request.getByRole("button", { name: "Allow" })).toHaveCount(0);
  const conversation = page.getByRole("list", { name: "Conversation" });
  await expect(conversation.getByText("permission: selected allow").first()).toBeVisible();
});
