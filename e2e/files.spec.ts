/**
 * Issue 6: a workspace's files and git changes in the app, on a phone and a desktop: the tree,
 * a file highlighted, git's status in words with the branch, a diff (side by side on a
 * desktop, unified on a phone), and a path that leads outside the workspace refused.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createWorkspace, expect, saveScreen, signIn, test } from "./fixtures.ts";

/** The branch the repository starts on (named, so no git default decides it). */
const BRANCH = "trunk";
const OLD_LINE = 'export const greeting = "hello";';
const NEW_LINE = 'export const greeting = "hello, files";';
const APP_TS = [
  "/** A small module for the files view to show. */",
  OLD_LINE,
  "",
  "export function greet(name: string): string {",
  "  return `${greeting}, ${name}`;",
  "}",
  "",
].join("\n");

/** Runs git in `cwd` with a fixed identity and no user or system configuration. */
function git(cwd: string, ...args: string[]): void {
  const r = Bun.spawnSync(
    ["git", "-c", "user.name=Ada", "-c", "user.email=ada@example.com", ...args],
    { cwd, env: { ...process.env, GIT_CONFIG_GLOBAL: "/dev/null", GIT_CONFIG_NOSYSTEM: "1" } },
  );
  if (r.exitCode !== 0) throw new Error(`git ${args.join(" ")}: ${r.stderr.toString()}`);
}

/**
 * A repository with one commit (src/app.ts, README.md), then: src/app.ts changed in the
 * working tree, README.md changed and staged, notes.txt new and untracked.
 */
function makeRepo(folder: string): void {
  git(folder, "init", "-q", "-b", BRANCH);
  mkdirSync(join(folder, "src"));
  writeFileSync(join(folder, "src", "app.ts"), APP_TS);
  writeFileSync(join(folder, "README.md"), "# Demo\n\nA workspace for the files journey.\n");
  git(folder, "add", ".");
  git(folder, "commit", "-q", "-m", "first");
  writeFileSync(join(folder, "src", "app.ts"), APP_TS.replace(OLD_LINE, NEW_LINE));
  writeFileSync(join(folder, "README.md"), "# Demo\n\nStaged words.\n");
  git(folder, "add", "README.md");
  writeFileSync(join(folder, "notes.txt"), "not in git yet\n");
}

test("browse files, read one highlighted, see git's changes and a diff", async ({
  page,
  hub,
  owner,
}, info) => {
  const desktop = info.project.name === "desktop";
  const { workspace, folder } = await createWorkspace(owner, "demo");
  makeRepo(folder);
  await signIn(page, hub);
  await page.getByRole("link", { name: /demo/ }).click();

  // The way in: the phone's bottom bar, the desktop's workspace sidebar.
  const way = desktop
    ? page.getByRole("complementary", { name: "Workspace" })
    : page.getByRole("navigation", { name: "Workspace" });
  await way.getByRole("link", { name: "Files", exact: true }).click();
  await expect(page).toHaveURL(/\/w\/[^/]+\/files$/);

  // The workspace's root: a folder and a file. A desktop shows a tree (folders open in
  // place), a phone a list to walk through.
  if (desktop) {
    const tree = page.getByRole("complementary", { name: "File tree" });
    const src = tree.getByRole("button", { name: "src" });
    await expect(src).toHaveAttribute("aria-expanded", "false");
    await expect(tree.getByRole("link", { name: /^README\.md\s+M\b/ })).toBeVisible();
    await src.click();
    await expect(src).toHaveAttribute("aria-expanded", "true");
    await tree.getByRole("link", { name: /^app\.ts/ }).click();
  } else {
    const folderList = page.getByRole("region", { name: "Folder contents" });
    await expect(folderList.getByRole("link", { name: /^README\.md\s+M\b/ })).toBeVisible();
    await folderList.getByRole("link", { name: "src/" }).click();
    await expect(page.getByRole("navigation", { name: "Folder" })).toContainText("src");
    await folderList.getByRole("link", { name: /^app\.ts/ }).click();
  }
  await expect(page).toHaveURL((u) => u.searchParams.get("file") === "src/app.ts");

  const file = page.getByRole("region", { name: "File" });
  const code = file.getByRole("region", { name: "src/app.ts" });
  await expect(code).toContainText(NEW_LINE);
  // The highlighter's chunk arrives after the plain text: its spans mark the keywords.
  await expect(code.locator("code .hljs-keyword").first()).toHaveText("export");
  await expect(code.locator("code .hljs-string").first()).toHaveText('"hello, files"');
  // A desktop keeps the tree beside the file; a phone shows the file alone.
  if (desktop) {
    await expect(page.getByRole("complementary", { name: "File tree" })).toBeVisible();
  } else {
    await expect(page.getByRole("region", { name: "Folder contents" })).toHaveCount(0);
    await expect(page.getByRole("navigation", { name: "Files or changes" })).toHaveCount(0);
  }
  await expect(file.getByRole("link", { name: "This file has changes: show them" })).toBeVisible();
  await saveScreen(page, info, `files-file-${info.project.name}`);

  // Changes: git's status in words, with the branch.
  if (!desktop) await page.getByRole("link", { name: "Back to the list" }).click();
  const tabs = page.getByRole("navigation", { name: "Files or changes" });
  const changesTab = tabs.getByRole("link", { name: /^Changes/ });
  // Three changed paths: the count on the tab.
  await expect(changesTab).toHaveText(/Changes\s*3/);
  await changesTab.click();
  await expect(changesTab).toHaveAttribute("aria-current", "page");
  const changes = desktop ? page.getByRole("complementary", { name: "Changed files" }) : page;
  await expect(changes.getByText("Branch")).toBeVisible();
  await expect(changes.getByRole("code").filter({ hasText: BRANCH })).toBeVisible();
  await expect(changes.getByRole("link", { name: "src/app.ts modified" })).toBeVisible();
  await expect(changes.getByRole("link", { name: "notes.txt untracked" })).toBeVisible();
  await expect(changes.getByRole("link", { name: "README.md staged: modified" })).toBeVisible();

  // The working tree's diff of src/app.ts: the old line removed, the new one added.
  await changes.getByRole("link", { name: "src/app.ts modified" }).click();
  await expect(page).toHaveURL((u) => u.searchParams.get("diff") === "src/app.ts");
  const which = page.getByRole("navigation", { name: "Which changes" });
  await expect(which.getByRole("link", { name: "Working tree" })).toHaveAttribute(
    "aria-current",
    "page",
  );
  const diff = page.getByRole("figure", { name: /src\/app\.ts/ });
  await expect(diff).toContainText("+1");
  await expect(diff).toContainText("−1");
  const removed = diff.getByText(OLD_LINE, { exact: true });
  const added = diff.getByText(NEW_LINE, { exact: true });
  // Screen readers hear which is which; the signs are hidden from them.
  await expect(removed.locator("xpath=..")).toContainText(`removed: ${OLD_LINE}`);
  await expect(added.locator("xpath=..")).toContainText(`added: ${NEW_LINE}`);
  const r = (await removed.boundingBox())!;
  const a = (await added.boundingBox())!;
  if (desktop) {
    // Side by side: the new line on the right of the old, on the same row.
    expect(a.x).toBeGreaterThan(r.x + r.width / 2);
    expect(Math.abs(a.y - r.y)).toBeLessThan(2);
  } else {
    // Unified: the new line under the old, in the same column.
    expect(a.y).toBeGreaterThan(r.y);
    expect(Math.abs(a.x - r.x)).toBeLessThan(2);
    // Nothing is wider than the phone's screen.
    const width = await page.evaluate<number>("document.documentElement.scrollWidth");
    expect(width).toBeLessThanOrEqual(page.viewportSize()!.width);
  }
  // The staged diff holds README.md's change, not src/app.ts's.
  await which.getByRole("link", { name: "Staged" }).click();
  await expect(page).toHaveURL((u) => u.searchParams.get("staged") === "1");
  await expect(page.getByText("No staged changes in src/app.ts.")).toBeVisible();
  await saveScreen(page, info, `files-staged-${info.project.name}`);
  await which.getByRole("link", { name: "Working tree" }).click();
  await expect(page.getByRole("figure", { name: /src\/app\.ts/ })).toBeVisible();
  await saveScreen(page, info, `files-diff-${info.project.name}`);

  // A path out of the workspace is refused by the worker: an error, never the file.
  await page.goto(`${hub.url}/w/${workspace.id}/files?file=../../etc/passwd`);
  const refused = page.getByRole("region", { name: "File" });
  await expect(refused.getByRole("alert")).toContainText("outside the workspace");
  await expect(refused.getByRole("region", { name: "../../etc/passwd" })).toHaveCount(0);
  await expect(page.getByText(/root:x?:0:0/)).toHaveCount(0);
  await saveScreen(page, info, `files-refused-${info.project.name}`);
});
