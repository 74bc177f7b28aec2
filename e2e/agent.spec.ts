/**
 * Issue 6: in a workspace, start an agent from the app, prompt it, and watch its answer stream
 * in, on a phone and a desktop.
 */
import { createWorkspace, expect, saveScreen, signIn, test } from "./fixtures.ts";

test("start an agent from the app, prompt it and watch the answer stream in", async ({
  page,
  hub,
  owner,
}, info) => {
  await createWorkspace(owner, "demo");
  await signIn(page, hub);
  await page.getByRole("link", { name: /demo/ }).click();

  const form = page.getByRole("form", { name: "Start an agent" });
  await form.getByLabel("Agent").selectOption({ label: "Fake agent" });
  await form.getByLabel("Name (optional)").fill("helper");
  await form.getByRole("button", { name: "Start" }).click();
  await expect(page).toHaveURL(/\/w\/[^/]+\/a\/[^/]+$/);

  const message = page.getByLabel("Message");
  // Enabled once the agent runs.
  await expect(message).toBeEnabled({ timeout: 20_000 });
  await message.fill("say Hello from the e2e test\nslow 5 100\nsay Done.");
  await page.getByRole("button", { name: "Send" }).click();

  const conversation = page.getByRole("list", { name: "Conversation" });
  await expect(conversation.getByText("Hello from the e2e test").first()).toBeVisible();
  // The slow chunks arrive one by one and end as one text.
  await expect(conversation.getByText(/s0 s1 s2 s3 s4/).first()).toBeVisible();
  await expect(conversation.getByText(/Done\./).first()).toBeVisible();
  await expect(message).toHaveValue("");
  await saveScreen(page, info, `conversation-${info.project.name}`);
});
