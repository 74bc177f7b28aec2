/**
 * Issue 6, Web Push: a permission request arrives as a push, the service worker shows it with
 * Approve and Deny, and Deny answers it without the app.
 *
 * Honest limits: a real push needs the browser's push service (Google's, for Chromium), which
 * these machines cannot reach, so the push is handed to the service worker through the
 * DevTools protocol (ServiceWorker.deliverPushMessage) with the payload the hub would encrypt
 * and send (src/hub/push.ts; the hub's side, encryption included, is src/hub/push.test.ts). And
 * headless Chromium shows no notification to click, so the click is asked of the worker by a
 * message (NOTIFICATION_CLICK, web/src/sw.ts), which runs the same code as a real click: the
 * worker's own same-origin fetch to AnswerPermission.
 */
import { EventKind } from "../src/gen/switchboard/v1/common_pb.ts";
import { liveSocket } from "../src/testing/hub.ts";
import {
  createWorkspace,
  expect,
  prompt,
  signIn,
  startFakeAgent,
  test,
  until,
} from "./fixtures.ts";

interface Shown {
  title: string;
  tag: string;
  actions: string[];
  data: { requestId: string; approve: string; deny: string; url: string };
}

test("a permission push shows Approve and Deny, and Deny answers it from the worker", async ({
  page,
  context,
  hub,
  owner,
}) => {
  await context.grantPermissions(["notifications"], { origin: hub.url });
  const { workspace } = await createWorkspace(owner, "demo");
  const agent = await startFakeAgent(owner, workspace.id, "pusher");
  await signIn(page, hub);
  const { cdp, registrationId } = await swRegistration(page, hub.url);

  const live = await liveSocket(hub.url, owner.jar);
  live.subscribe(agent.streamId);
  await prompt(owner, agent.id, "permission Delete the logs");
  const asked = await until(
    () => live.events(agent.streamId).find((e) => e.kind === EventKind.PERMISSION_REQUEST),
    20_000,
    "the permission request",
  ).then((e) => e!);
  const j = JSON.parse(asked.json) as {
    requestId: string;
    request: { options: { optionId: string; name: string; kind: string }[] };
  };

  // What the hub sends for this request (src/hub/push.ts, "The payload").
  const payload = {
    type: "permission",
    title: "pusher asks permission",
    body: "Delete the logs",
    tag: `permission:${agent.streamId}:${j.requestId}`,
    data: {
      workspaceId: workspace.id,
      agentId: agent.id,
      streamId: agent.streamId,
      seq: asked.seq,
      canAnswer: true,
      requestId: j.requestId,
      options: j.request.options,
    },
  };
  await cdp.send("ServiceWorker.deliverPushMessage", {
    origin: hub.url,
    registrationId,
    data: JSON.stringify(payload),
  });

  const shown = (await until(
    async () => (await notifications(page))[0],
    10_000,
    "a notification",
  ))!;
  expect(shown.title).toBe("pusher asks permission");
  expect(shown.tag).toBe(payload.tag);
  expect(shown.actions).toEqual(["approve", "deny"]);
  const reject = j.request.options.find((o) => o.kind.startsWith("reject"))!;
  expect(shown.data).toMatchObject({ requestId: j.requestId, deny: reject.optionId });
  expect(shown.data.url).toBe(`/w/${workspace.id}/a/${agent.id}`);

  // (Strings run in the page: the root tsconfig has no DOM types.)
  const click = { type: "NOTIFICATION_CLICK", tag: payload.tag, action: "deny" };
  await page.evaluate(
    `navigator.serviceWorker.ready.then((r) => r.active.postMessage(${JSON.stringify(click)}))`,
  );
  const resolved = await until(
    () => live.events(agent.streamId).find((e) => e.kind === EventKind.PERMISSION_RESOLVED),
    20_000,
    "the request answered",
  ).then((e) => e!);
  expect(JSON.parse(resolved.json)).toMatchObject({ outcome: { optionId: reject.optionId } });
  expect(resolved.actor).toBe("ada");
  await until(
    () =>
      live
        .events(agent.streamId)
        .some((e) => e.json.includes(`permission: selected ${reject.optionId}`)),
    20_000,
    "the agent told of the answer",
  );
  expect(await notifications(page)).toEqual([]);
  live.close();
});

/** A DevTools session with its ServiceWorker domain on, and the worker's registration id. */
async function swRegistration(page: import("@playwright/test").Page, origin: string) {
  await page.evaluate("navigator.serviceWorker.ready.then(() => true)");
  const cdp = await page.context().newCDPSession(page);
  const ids: string[] = [];
  cdp.on("ServiceWorker.workerRegistrationUpdated", (e) => {
    for (const r of e.registrations) if (r.scopeURL === `${origin}/`) ids.push(r.registrationId);
  });
  await cdp.send("ServiceWorker.enable");
  const registrationId = (await until(() => ids[0], 10_000, "the service worker's registration"))!;
  return { cdp, registrationId };
}

async function notifications(page: import("@playwright/test").Page): Promise<Shown[]> {
  return (await page.evaluate(`navigator.serviceWorker.ready
    .then((r) => r.getNotifications())
    .then((shown) => shown.map((n) => ({
      title: n.title,
      tag: n.tag,
      actions: (n.actions ?? []).map((a) => a.action),
      data: n.data,
    })))`)) as Shown[];
}
