/**
 * Journey 2: a signed-in desktop shows a pairing code (a QR code and its link) in Settings; a
 * phone (Pixel 7) opens the link and signs in without a password. The app on the phone is an
 * installable PWA: its service worker controls the page and Chromium reports no
 * installability error for its manifest.
 */
import {
  expect,
  JOURNEY,
  newContext,
  OWNER,
  persistentContext,
  saveScreen,
  test,
  useSession,
} from "./fixtures.ts";
import type { Locator } from "@playwright/test";
import { generate } from "lean-qr";

/** A QR code's dark modules, row by row, as "1"/"0" strings. */
function modulesOf(text: string): string[] {
  const code = generate(text);
  return Array.from({ length: code.size }, (_, y) =>
    Array.from({ length: code.size }, (_, x) => (code.get(x, y) ? "1" : "0")).join(""),
  );
}

/** The same, read off the page's SVG: is the centre of each module inside the dark path? */
function drawnModules(qr: Locator): Promise<string[]> {
  return qr.evaluate((node) => {
    // (The root tsconfig has no DOM types: the few SVG members used are typed here.)
    const svg = node as unknown as {
      viewBox: { baseVal: { width: number } };
      createSVGPoint(): { x: number; y: number };
      querySelector(s: string): { isPointInFill(p: { x: number; y: number }): boolean };
    };
    const quiet = 4;
    const size = svg.viewBox.baseVal.width - 2 * quiet;
    const path = svg.querySelector("path");
    const at = svg.createSVGPoint();
    const rows: string[] = [];
    for (let y = 0; y < size; y++) {
      let row = "";
      for (let x = 0; x < size; x++) {
        at.x = x + 0.5;
        at.y = y + 0.5;
        row += path.isPointInFill(at) ? "1" : "0";
      }
      rows.push(row);
    }
    return rows;
  });
}

interface SwNavigator {
  serviceWorker: { ready: Promise<unknown>; controller: { scriptURL: string } | null };
}

test(
  "a phone pairs through the desktop's pairing link and gets an installable app",
  {
    tag: JOURNEY,
  },
  async ({ browser, hub, owner }, info) => {
    const desktop = await newContext(browser, "desktop");
    const phone = await persistentContext("phone");
    try {
      await useSession(desktop, hub, owner);
      const settings = await desktop.newPage();
      await settings.goto(`${hub.url}/settings`);
      const pairing = settings.getByRole("region", { name: "Pair a phone" });
      await pairing.getByRole("button", { name: "Show a pairing code" }).click();
      const qr = pairing.getByRole("img", { name: /Pairing code/ });
      await expect(qr).toBeVisible();
      const link = (await pairing.getByRole("code").textContent())!.trim();
      expect(link).toMatch(new RegExp(`^${hub.url}/pair#[A-Za-z0-9_-]+$`));
      // What a camera would read: the drawn modules are those of a QR code of that link.
      expect(await drawnModules(qr)).toEqual(modulesOf(link));
      await saveScreen(settings, info, "pairing-code-desktop");

      const page = phone.pages()[0] ?? (await phone.newPage());
      await page.goto(link);
      await expect(page.getByRole("heading", { name: "Sign this device in" })).toBeVisible();
      await page.getByRole("button", { name: "Sign in here" }).click();
      await expect(page.getByRole("heading", { name: "Workspaces" })).toBeVisible();
      await page.getByRole("link", { name: "Settings" }).click();
      await expect(page.getByText(`Signed in as ${OWNER.name}`)).toBeVisible();

      // The link worked once: a second phone cannot use it.
      const other = await newContext(browser, "phone");
      const again = await other.newPage();
      await again.goto(link);
      await again.getByRole("button", { name: "Sign in here" }).click();
      await expect(again.getByRole("alert")).toBeVisible();
      await other.close();

      // The service worker installs and, from the next load on, controls the page.
      // (The root tsconfig has no DOM types: the page's navigator is typed here.)
      await page.evaluate(
        async () => void (await (navigator as unknown as SwNavigator).serviceWorker.ready),
      );
      await page.reload();
      await expect
        .poll(() =>
          page.evaluate(
            () => (navigator as unknown as SwNavigator).serviceWorker.controller?.scriptURL ?? null,
          ),
        )
        .toBe(`${hub.url}/sw.js`);
      const cdp = await phone.newCDPSession(page);
      const { installabilityErrors } = await cdp.send("Page.getInstallabilityErrors");
      expect(installabilityErrors).toEqual([]);
      await saveScreen(page, info, "paired-phone");
    } finally {
      await desktop.close();
      await phone.close();
    }
  },
);
