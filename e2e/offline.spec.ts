/**
 * Issue 6, offline: the service worker serves the shell and the device's cache the data, so a
 * reload with no network shows the last conversation; a prompt typed offline waits in the
 * outbox and reaches the agent exactly once when the network is back.
 */
import { EventKind, type Event } from "../src/gen/switchboard/v1/common_pb.ts";
import { liveSocket } from "../src/testing/hub.ts";
import {
  createWorkspace,
  expect,
  prompt,
  saveScreen,
  signIn,
  startFakeAgent,
  test,
  until,
} from "./fixtures.ts";

/** The prompts among a stream's events whose text contains `text`. */
const promptsWith = (events: Event[], text: string) =>
  events.filter((e) => e.kind === EventKind.PROMPT && e.json.includes(text));

test("offline: a reload shows the conversation, and a prompt typed offline is sent once", async ({
  page,
  context,
  hub,
  owner,
}, info) => {
  const { workspace } = await createWorkspace(owner, "demo");
  const agent = await startFakeAgent(owner, workspace.id, "offline");
  await prompt(owner, agent.id, "say kept on this device");
  const agentUrl = `${hub.url}/w/${workspace.id}/a/${agent.id}`;
  const conversation = page.getByRole("list", { name: "Conversation" });

  await signIn(page, hub);
  await page.goto(agentUrl);
  await expect(conversation.getByText("kept on this device").first()).toBeVisible();
  // The worker takes control of the pages loaded after it is active. (Strings run in the page:
  // the root tsconfig has no DOM types.)
  await page.evaluate("navigator.serviceWorker.ready.then(() => true)");
  await page.reload();
  await expect.poll(() => page.evaluate("!!navigator.serviceWorker.controller")).toBe(true);
  await expect(conversation.getByText("kept on this device").first()).toBeVisible();

  await context.setOffline(true);
  await page.reload();
  await expect(page.getByRole("status").getByText(/Offline/)).toBeVisible();
  await expect(conversation.getByText("kept on this device").first()).toBeVisible();

  await page.getByLabel("Message").fill("say sent exactly once");
  await page.getByRole("button", { name: "Send" }).click();
  const waiting = page.getByRole("region", { name: "Waiting to send" });
  await expect(waiting.getByText("Waiting to send")).toBeVisible();
  await expect(waiting.getByText("say sent exactly once")).toBeVisible();
  await saveScreen(page, info, `offline-waiting-${info.project.name}`);

  const live = await liveSocket(hub.url, owner.jar);
  live.subscribe(agent.streamId);
  await live.settled();
  expect(promptsWith(live.events(agent.streamId), "sent exactly once")).toHaveLength(0);

  await context.setOffline(false);
  await expect(waiting).toHaveCount(0);
  await until(
    () =>
      live
        .events(agent.streamId)
        .some((e) => e.kind === EventKind.SESSION_UPDATE && e.json.includes("sent exactly once")),
    20_000,
    "the agent's answer to the queued prompt",
  );
  await expect(conversation.getByText("sent exactly once").first()).toBeVisible();
  // A reconnect (another wake-up of the page) sends nothing again.
  await page.evaluate('window.dispatchEvent(new Event("online"))');
  await live.settled();
  expect(promptsWith(live.events(agent.streamId), "sent exactly once")).toHaveLength(1);
  await saveScreen(page, info, `offline-sent-${info.project.name}`);
  live.close();
});
