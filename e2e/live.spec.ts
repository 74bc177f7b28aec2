/**
 * Journeys 3 and 4: one conversation on three frontends at once. On a phone (Pixel 7) the
 * owner makes a workspace on the hub's own worker, starts the fake agent and prompts it; a
 * desktop browser shows the same conversation live, and an editor attached with
 * `switchboard-worker attach <name>` (an ACP client of the official SDK over its stdio) gets
 * the same updates, the phone's prompt as a user message among them. Then the agent asks
 * permission: all three see it, the phone approves, the desktop shows who did, the editor's
 * copy of the request is withdrawn and the agent goes on.
 */
import { BUN, spawnClient, WORKER } from "../src/testing/clients.ts";
import { tempDir } from "../src/testing/harness.ts";
import {
  expect,
  JOURNEY,
  newContext,
  OWNER,
  saveScreen,
  signIn,
  test,
  useSession,
} from "./fixtures.ts";

test(
  "phone, desktop and an attached editor follow one agent; the phone approves its permission",
  { tag: JOURNEY },
  async ({ browser, hub, owner }, info) => {
    const phone = await newContext(browser, "phone");
    const desktop = await newContext(browser, "desktop");
    let editor: ReturnType<typeof spawnClient> | null = null;
    try {
      // The phone: a workspace on this hub's worker, the fake agent started in it.
      const page = await phone.newPage();
      await signIn(page, hub);
      const folder = tempDir("live-ws");
      const create = page.getByRole("region", { name: "New workspace" });
      await create.getByLabel("Name", { exact: true }).fill("live");
      await expect(create.getByLabel("Worker", { exact: true })).toHaveValue(/.+/);
      await create.getByLabel("Folder on the worker").fill(folder);
      await create.getByRole("button", { name: "Create" }).click();
      const start = page.getByRole("form", { name: "Start an agent" });
      await start.getByLabel("Agent").selectOption({ label: "Fake agent" });
      await start.getByLabel("Name (optional)").fill("helper");
      await start.getByRole("button", { name: "Start" }).click();
      await expect(page).toHaveURL(/\/w\/[^/]+\/a\/[^/]+$/);
      const message = page.getByLabel("Message");
      await expect(message).toBeEnabled({ timeout: 20_000 });

      // The desktop opens the same agent.
      await useSession(desktop, hub, owner);
      const wide = await desktop.newPage();
      await wide.goto(page.url());
      await expect(wide.getByRole("heading", { name: "helper" })).toBeVisible();

      // The editor attaches by the agent's name and joins its session.
      editor = spawnClient([BUN, WORKER, "attach", "helper"], {
        name: "zed",
        env: { SWITCHBOARD_SOCKET_DIR: hub.socketDir },
      });
      await editor.conn.agent.request("initialize", {
        protocolVersion: 1,
        clientCapabilities: {},
        clientInfo: { name: "zed", version: "1" },
      });
      const { sessionId } = await editor.conn.agent.request("session/new", {
        cwd: folder,
        mcpServers: [],
      });
      expect(sessionId).toBeTruthy();

      // Journey 3: the phone prompts; the answer streams to all three.
      const script = "say Hello from the phone\nslow 10 100";
      await message.fill(script);
      await page.getByRole("button", { name: "Send" }).click();
      for (const p of [page, wide]) {
        const conversation = p.getByRole("list", { name: "Conversation" });
        await expect(conversation.getByText("Hello from the phone").first()).toBeVisible();
        await expect(conversation.getByText(/s0 s1 s2 s3 s4 s5 s6 s7 s8 s9/).first()).toBeVisible();
      }
      await editor.until(
        (c) => c.texts("user_message_chunk").join("").includes(script),
        "the phone's prompt as a user message in the editor",
      );
      await editor.until(
        (c) => c.texts().join("").includes("Hello from the phone"),
        "the answer in the editor",
      );
      await editor.until(
        (c) => c.texts().join("").includes("s0 s1 s2 s3 s4 s5 s6 s7 s8 s9 "),
        "the streamed chunks in the editor",
      );
      // The same updates, in the same order, as the agent sent them.
      expect(editor.texts().filter((t) => /^s\d+ $/.test(t))).toEqual(
        Array.from({ length: 10 }, (_, i) => `s${i} `),
      );
      await expect(message).toBeEnabled();

      // Journey 4: the agent asks permission; all three see it.
      await message.fill("permission Edit the file");
      await page.getByRole("button", { name: "Send" }).click();
      const onPhone = page.getByRole("group", { name: /Permission: Edit the file/ });
      const onDesktop = wide.getByRole("group", { name: /Permission: Edit the file/ });
      await expect(onPhone.getByRole("button", { name: "Allow" })).toBeVisible();
      await expect(onDesktop.getByRole("button", { name: "Allow" })).toBeVisible();
      await editor.until((c) => c.permissions.length === 1, "the request in the editor");
      expect(editor.permissions[0]!.params.toolCall.title).toBe("Edit the file");
      await saveScreen(wide, info, "permission-asked-desktop");

      await onPhone.getByRole("button", { name: "Allow" }).click();
      // The desktop shows who answered and what; no buttons are left anywhere.
      await expect(onDesktop).toContainText(OWNER.name);
      await expect(onDesktop).toContainText("Allow");
      await expect(onDesktop.getByRole("button")).toHaveCount(0);
      await expect(onPhone.getByRole("button")).toHaveCount(0);
      // The editor's copy is withdrawn, and the agent goes on.
      await editor.until(
        (c) => c.permissions[0]!.settled === "withdrawn",
        "the editor's copy withdrawn",
      );
      await editor.until(
        (c) => c.texts().includes("permission: selected allow"),
        "the agent going on, in the editor",
      );
      for (const p of [page, wide]) {
        await expect(
          p
            .getByRole("list", { name: "Conversation" })
            .getByText("permission: selected allow")
            .first(),
        ).toBeVisible();
      }
      await saveScreen(page, info, "phone", { docs: true });
      await saveScreen(wide, info, "desktop", { docs: true });
    } finally {
      await editor?.close();
      await phone.close();
      await desktop.close();
    }
  },
);
