/**
 * Issue 6: signing in on the login page with a name and password, on a phone and a desktop;
 * a wrong password is refused with a message and no session.
 */
import { expect, OWNER, saveScreen, signIn, test } from "./fixtures.ts";

test("the owner signs in with name and password and sees the workspace list", async ({
  page,
  hub,
}, info) => {
  await page.goto(hub.url);
  // Signed out: the app sends the browser to the sign-in page.
  await expect(page).toHaveURL(/\/login$/);
  await expect(page.getByRole("heading", { name: "Sign in" })).toBeVisible();

  await page.getByLabel("Name").fill(OWNER.name);
  await page.getByLabel("Password").fill("not the password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("alert")).toBeVisible();
  await expect(page).toHaveURL(/\/login$/);

  await signIn(page, hub);
  await expect(page.getByText("No workspace yet")).toBeVisible();
  await saveScreen(page, info, `signed-in-${info.project.name}`);

  // The session is the device's: a reload stays signed in.
  await page.reload();
  await expect(page.getByRole("heading", { name: "Workspaces" })).toBeVisible();
});
