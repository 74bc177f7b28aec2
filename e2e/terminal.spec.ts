/**
 * Issue 6, terminals: a phone opens the workspace's Terminal tab and starts a shell; a desktop
 * opens the same terminal in its panes. What one types shows on both, the phone's key bar
 * sends keys the touch keyboard lacks, and the desktop splits its area into two panes. Then
 * the desktop's tiling alone: agents opened in panes from the list's menu and by dragging, a
 * layout that comes back after a reload, and the keyboard shortcuts.
 */
import type { Page } from "@playwright/test";
import { AgentKind } from "../src/gen/switchboard/v1/common_pb.ts";
import {
  createWorkspace,
  startFakeAgent,
  until,
  expect,
  JOURNEY,
  newContext,
  saveScreen,
  test,
  useSession,
} from "./fixtures.ts";

/** The text xterm shows (its DOM renderer's rows). */
const screenOf = (page: Page) => page.locator(".terminal-pane .xterm-rows").first();

test(
  "a shell started on a phone is typed into from a desktop and the phone, both see it all",
  { tag: JOURNEY },
  async ({ browser, hub, owner }, info) => {
    const { workspace } = await createWorkspace(owner, "term");
    const phone = await newContext(browser, "phone");
    const desktop = await newContext(browser, "desktop");
    try {
      await useSession(phone, hub, owner);
      await useSession(desktop, hub, owner);

      // The phone: the bottom bar's Terminal tab, then New shell.
      const page = await phone.newPage();
      await page.goto(`${hub.url}/w/${workspace.id}`);
      await page
        .getByRole("navigation", { name: "Workspace" })
        .getByRole("link", { name: "Terminal" })
        .click();
      // A cold first load on a busy machine: the lazy chunks, the hub's first answers.
      await expect(page.getByText("No terminals yet.")).toBeVisible({ timeout: 20_000 });
      await page.getByRole("button", { name: "New shell" }).click();
      await expect(page).toHaveURL(/\/terminal\?agent=/, { timeout: 20_000 });
      const screen = screenOf(page);
      await expect(page.locator(".terminal-pane .xterm")).toBeVisible({ timeout: 20_000 });

      // Typed on the phone (its keyboard reaches xterm's textarea).
      await page.locator(".terminal-pane .xterm").click();
      await page.keyboard.type("echo from-$((6*7))-phone\n");
      await expect(screen).toContainText("from-42-phone", { timeout: 20_000 });

      // The key bar: Ctrl is sticky and makes the next key a control character (Ctrl+U
      // erases the typed line), and the bar has its accessible names.
      const bar = page.getByRole("toolbar", { name: "Terminal keys" });
      for (const name of ["Escape", "Tab", "Up arrow", "Pipe", "Tilde"])
        await expect(bar.getByRole("button", { name })).toBeVisible();
      await page.keyboard.type("echo never-run");
      const ctrl = bar.getByRole("button", { name: /Control/ });
      await ctrl.click();
      await expect(ctrl).toHaveAttribute("aria-pressed", "true");
      await page.keyboard.type("u");
      await expect(ctrl).toHaveAttribute("aria-pressed", "false");
      await page.keyboard.type("echo after-ctrl-u\n");
      await expect(screen).toContainText("after-ctrl-u", { timeout: 20_000 });
      await expect(screen).not.toContainText("never-runecho");

      // The desktop: the same terminal, from the phone's address; it sees what was typed.
      const wide = await desktop.newPage();
      await wide.goto(page.url());
      const wideScreen = screenOf(wide);
      await expect(wideScreen).toContainText("from-42-phone", { timeout: 20_000 });
      await wide.locator(".terminal-pane .xterm").first().click();
      await wide.keyboard.type("echo from-desktop-$((2+3))\n");
      await expect(wideScreen).toContainText("from-desktop-5", { timeout: 20_000 });
      await expect(screen).toContainText("from-desktop-5", { timeout: 20_000 });

      // The desktop splits: two panes, each with the terminal, a separator between them.
      await wide.getByRole("button", { name: "Split pane 1" }).click();
      await expect(wide.getByRole("region", { name: /^Pane \d$/ })).toHaveCount(2);
      const divider = wide.getByRole("separator", { name: "Resize panes 1 and 2" });
      await expect(divider).toHaveAttribute("aria-valuenow", "50");
      await divider.focus();
      await wide.keyboard.press("ArrowRight");
      await expect(divider).toHaveAttribute("aria-valuenow", "55");
      // Dragged with the pointer: a tenth of the area to the left.
      const box = (await divider.boundingBox())!;
      const area = (await wide.locator(".tiling").boundingBox())!;
      await wide.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
      await wide.mouse.down();
      await wide.mouse.move(box.x + box.width / 2 - area.width / 10, box.y + 10, { steps: 5 });
      await wide.mouse.up();
      await expect(divider).toHaveAttribute("aria-valuenow", "45");
      await expect(wide.locator(".terminal-pane .xterm-rows")).toHaveCount(2);

      await saveScreen(page, info, "terminal-phone", { docs: true });
      await saveScreen(wide, info, "terminal-desktop", { docs: true });
    } finally {
      await phone.close();
      await desktop.close();
    }
  },
);

test(
  "desktop panes: open in pane N, drag from the list, restored after a reload, shortcuts",
  { tag: JOURNEY },
  async ({ browser, hub, owner }, info) => {
    const { workspace } = await createWorkspace(owner, "tiles");
    await startFakeAgent(owner, workspace.id, "helper");
    await owner.agents.startAgent({
      workspaceId: workspace.id,
      command: ["sh"],
      kind: AgentKind.TERMINAL,
      name: "plain-sh",
    });
    const desktop = await newContext(browser, "desktop");
    try {
      await useSession(desktop, hub, owner);
      const page = await desktop.newPage();
      await page.goto(`${hub.url}/w/${workspace.id}`);
      const panes = page.getByRole("region", { name: /^Pane \d$/ });
      await expect(panes).toHaveCount(1);
      const list = page.getByRole("list", { name: "Agents" });

      // The way without dragging: the agent's menu, "Open in a new pane".
      await list.getByLabel("Open helper in a pane").click();
      await list.getByRole("button", { name: "Open in a new pane" }).click();
      await expect(panes).toHaveCount(2);
      await expect(panes.nth(1).getByRole("heading", { name: "helper" })).toBeVisible();
      await expect(page).toHaveURL(/\/a\/[^/]+$/);

      // Dragging the terminal agent onto pane 1 shows its terminal there.
      await list.getByRole("link", { name: /plain-sh/ }).dragTo(panes.nth(0));
      await expect(panes.nth(0).locator(".terminal-pane .xterm")).toBeVisible({ timeout: 20_000 });
      await expect(page).toHaveURL(/\/terminal\?agent=/);

      // Saved to the hub (after a quiet second), and restored by a reload.
      await until(
        async () => (await owner.workspaces.getLayout({})).json.includes('"terminal"'),
        10_000,
        "the layout saved",
      );
      await page.reload();
      await expect(panes).toHaveCount(2);
      await expect(panes.nth(1).getByRole("heading", { name: "helper" })).toBeVisible();
      await expect(panes.nth(0).locator(".terminal-pane .xterm")).toBeVisible({ timeout: 20_000 });

      // Shortcuts: Alt+2 focuses pane 2 (the route follows), ? lists them, Alt+N new agent.
      await page.locator("body").click({ position: { x: 5, y: 700 } });
      await page.keyboard.press("Alt+2");
      await expect(page).toHaveURL(/\/a\/[^/]+$/);
      await page.getByRole("link", { name: "All workspaces" }).focus();
      await page.keyboard.press("Shift+Slash");
      const help = page.getByRole("dialog", { name: "Keyboard shortcuts" });
      await expect(help).toBeVisible();
      await expect(help.getByText("Next pane")).toBeVisible();
      await page.keyboard.press("Escape");
      await expect(help).toBeHidden();
      await page.keyboard.press("Alt+N");
      await expect(page).toHaveURL(new RegExp(`/w/${workspace.id}$`));
      await expect(panes.nth(1).getByLabel("Agent", { exact: true })).toBeFocused();
      await saveScreen(page, info, "panes-desktop", { docs: true });
    } finally {
      await desktop.close();
    }
  },
);
