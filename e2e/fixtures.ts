/**
 * Playwright fixtures and helpers for the end-to-end journeys (e2e/*.spec.ts). Playwright runs
 * under Bun (`bun --bun node_modules/.bin/playwright test`, see scripts/test.ts), so these reuse
 * the hub helpers of src/testing/ and start real processes: `bun server.ts` on a temporary data
 * folder, its own worker, the fake ACP agent.
 *
 * API (kept stable; other specs build on it):
 *
 *   import { test, expect, OWNER, ... } from "./fixtures.ts";
 *
 *   Fixtures (test-scoped: a fresh hub per test):
 *     hub       TestHub: a running hub whose owner OWNER is already set up through the API, its
 *               local worker given the fake agent as catalog entry "fake" ("Fake agent").
 *     owner     Api: the owner's signed-in API session on `hub` (Connect clients, cookie jar).
 *     hubOptions (option) TestHubOptions for the fixture's hub: `test.use({ hubOptions: {...} })`
 *               (extra catalog entries, environment).
 *
 *   Hubs:
 *     startTestHub(opts?)          a hub like the fixture's (the caller stops it); opts.setup:
 *                                  false leaves it without owner; opts.dataDir/port restart one.
 *     hub.restart({ kill })        stops it (SIGTERM, or SIGKILL with kill: true) and starts it
 *                                  again on the same data folder and port.
 *     api(url)                     a fresh signed-out Api session.
 *
 *   Signing pages in:
 *     signIn(page, hub, user?)     through the login page (Name, Password, "Sign in"); waits
 *                                  for the workspace list. Default user OWNER.
 *     useSession(context, hub, a)  gives a browser context the device cookie of Api session `a`
 *                                  (no UI).
 *     newContext(browser, profile) a context with the "phone" (Pixel 7) or "desktop" (Desktop
 *                                  Chrome) profile, for journeys that use both in one test.
 *     persistentContext(profile)   the same in a browser of its own with a profile folder (not
 *                                  incognito: what Chromium asks of an installable app); the
 *                                  caller closes it.
 *
 *   Data, through the API:
 *     localWorker(a)               the hub's own worker, once online.
 *     createWorkspace(a, name?)    a workspace on the local worker in a new temp folder.
 *     startFakeAgent(a, wsId, name?) starts catalog entry "fake"; resolves when it is idle.
 *     prompt(a, agentId, text)     sends a text prompt (one script line per line of `text`).
 *     agentStatus(a, wsId, id)     its current AgentStatus.
 *     streamText(events)           the concatenated text of SESSION_UPDATE message chunks.
 *
 *   Screens:
 *     saveScreen(page, info, name, { docs? })  a PNG in the test's output folder (test-results),
 *                                  and with docs: true, when UPDATE_SCREENSHOTS=1, also
 *                                  docs/screenshots/<name>.png (the README's pictures; a plain
 *                                  `npm test` leaves the tracked files alone).
 *
 *   Projects and tags: every spec runs in the "phone" and the "desktop" project, except tests
 *   tagged JOURNEY ("@journey"), which open their own phone and desktop contexts and run in the
 *   phone project only.
 */
import {
  chromium,
  devices,
  expect,
  test as base,
  type Browser,
  type BrowserContext,
  type Page,
  type TestInfo,
} from "@playwright/test";
import { copyFileSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { AgentService } from "../src/gen/switchboard/v1/agent_pb.ts";
import { AuthService } from "../src/gen/switchboard/v1/auth_pb.ts";
import { AgentStatus, EventKind, type Event } from "../src/gen/switchboard/v1/common_pb.ts";
import { WorkerService } from "../src/gen/switchboard/v1/worker_pb.ts";
import { WorkspaceService, type Workspace } from "../src/gen/switchboard/v1/workspace_pb.ts";
import { BUN, ROOT } from "../src/testing/clients.ts";
import { tempDir } from "../src/testing/harness.ts";
import { browser, startHub, until, type HubRun } from "../src/testing/hub.ts";

export { expect };
export { until };

/** The owner every fixture hub is set up with. */
export const OWNER = { name: "ada", password: "correct horse battery" } as const;
/** Tag of tests that drive several frontends themselves: they run in one project only. */
export const JOURNEY = "@journey";
/** The device cookie's name (src/hub/auth/sessions.ts). */
const SESSION_COOKIE = "switchboard_session";
const SCREENSHOTS = join(ROOT, "docs", "screenshots");
/** A process start on a busy 2-core machine can take several seconds. */
const START_MS = 20_000;

export type Api = ReturnType<typeof api>;

/** A signed-out API session: a cookie jar and the hub's Connect clients. */
export function api(url: string) {
  const b = browser(url);
  return {
    url,
    jar: b.jar,
    auth: b.client(AuthService),
    workspaces: b.client(WorkspaceService),
    agents: b.client(AgentService),
    workers: b.client(WorkerService),
  };
}

export interface TestHub {
  url: string;
  port: number;
  dataDir: string;
  socketDir: string;
  /** The catalog file the local worker reads (SWITCHBOARD_CATALOG). */
  catalogPath: string;
  /** Environment the hub runs with (SWITCHBOARD_SOCKET_DIR, SWITCHBOARD_CATALOG, ...). */
  env: Record<string, string>;
  /** The running process (changes on restart). */
  run: HubRun;
  restart(opts?: { kill?: boolean }): Promise<void>;
  stop(): Promise<void>;
}

export interface TestHubOptions {
  /** Set up OWNER through the API (default true). */
  setup?: boolean;
  dataDir?: string;
  port?: number;
  /** Extra catalog entries (src/worker/catalog.ts), after "fake". */
  catalog?: unknown[];
  env?: Record<string, string>;
}

/** The catalog entry of the fake ACP agent (src/testing/fake-agent.ts). */
export function fakeEntry(id = "fake", name = "Fake agent") {
  return {
    id,
    name,
    kind: "acp",
    command: [BUN, join(ROOT, "src", "testing", "fake-agent.ts")],
    description: "Scripted test agent",
  };
}

/** Starts a hub with the fake agent in its catalog, and (by default) its owner set up. */
export async function startTestHub(opts: TestHubOptions = {}): Promise<TestHub> {
  const catalogPath = join(tempDir("catalog"), "catalog.json");
  writeFileSync(catalogPath, JSON.stringify({ agents: [fakeEntry(), ...(opts.catalog ?? [])] }));
  const env: Record<string, string> = {
    SWITCHBOARD_SOCKET_DIR: tempDir("hub-sock"),
    SWITCHBOARD_CATALOG: catalogPath,
    ...opts.env,
  };
  const dataDir = opts.dataDir ?? tempDir("hub");
  let run = await startHub({ dataDir, port: opts.port, env, timeoutMs: START_MS });
  const hub: TestHub = {
    url: run.url,
    port: run.port,
    dataDir,
    socketDir: run.socketDir,
    catalogPath,
    env,
    get run() {
      return run;
    },
    async restart({ kill = false } = {}) {
      await (kill ? run.kill() : run.stop());
      run = await startHub({ dataDir, port: hub.port, env, timeoutMs: START_MS });
    },
    async stop() {
      if (run.proc.exitCode === null && run.proc.signalCode === null) await run.stop();
    },
  };
  if (opts.setup !== false) {
    if (!run.setupToken) throw new Error("the hub printed no setup link");
    await api(run.url).auth.setup({ token: run.setupToken, ...OWNER, deviceName: "fixture" });
  }
  return hub;
}

/** Signs a page in through the login page and waits for the workspace list. */
export async function signIn(
  page: Page,
  hub: { url: string },
  user: { name: string; password: string } = OWNER,
): Promise<void> {
  await page.goto(`${hub.url}/login`);
  await page.getByLabel("Name").fill(user.name);
  await page.getByLabel("Password").fill(user.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("heading", { name: "Workspaces" })).toBeVisible();
}

/** Gives a browser context the device cookie of a signed-in API session. */
export async function useSession(
  context: BrowserContext,
  hub: { url: string },
  session: Api,
): Promise<void> {
  const value = session.jar.cookies.get(SESSION_COOKIE);
  if (!value) throw new Error("the API session is not signed in");
  await context.addCookies([
    { name: SESSION_COOKIE, value, url: hub.url, httpOnly: true, sameSite: "Strict" },
  ]);
}

/** Signs a new API session in with a name and password. */
export async function login(
  hub: { url: string },
  user: { name: string; password: string } = OWNER,
): Promise<Api> {
  const a = api(hub.url);
  await a.auth.login({ name: user.name, password: user.password });
  return a;
}

export type Profile = "phone" | "desktop";
const PROFILES = { phone: devices["Pixel 7"], desktop: devices["Desktop Chrome"] };

/** A new context with a device profile, for tests that use a phone and a desktop together. */
export function newContext(b: Browser, profile: Profile): Promise<BrowserContext> {
  return b.newContext({ ...PROFILES[profile] });
}

/** Debian's chromium: Playwright's own browsers cannot be downloaded here. */
export const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";

/** A context in a browser of its own, with a profile folder: not incognito. */
export async function persistentContext(profile: Profile): Promise<BrowserContext> {
  const { defaultBrowserType: _, ...device } = PROFILES[profile];
  const dir = tempDir("chromium-profile");
  const context = await chromium.launchPersistentContext(dir, {
    ...device,
    executablePath: CHROMIUM,
  });
  // A profile folder holds tens of megabytes: removed once close() has ended the browser (the
  // "close" event comes before the browser's last writes).
  const close = context.close.bind(context);
  context.close = async (options) => {
    await close(options);
    rmSync(dir, { recursive: true, force: true });
  };
  return context;
}

/** The hub's own worker, once it is online. */
export async function localWorker(a: Api) {
  return await until(
    async () => (await a.workers.listWorkers({})).workers.find((w) => w.local && w.online),
    START_MS,
    "the local worker online",
  );
}

/** A workspace on the hub's own worker, in a new temporary folder. */
export async function createWorkspace(
  a: Api,
  name = "demo",
): Promise<{ workspace: Workspace; folder: string }> {
  const worker = (await localWorker(a))!;
  const folder = tempDir("ws");
  const { workspace } = await a.workspaces.createWorkspace({
    name,
    workerId: worker.id,
    path: folder,
  });
  return { workspace: workspace!, folder };
}

export async function agentStatus(a: Api, workspaceId: string, agentId: string) {
  const { agents } = await a.agents.listAgents({ workspaceId });
  return agents.find((x) => x.id === agentId)?.status ?? AgentStatus.UNSPECIFIED;
}

/** Starts the catalog's fake agent and waits until it is idle. */
export async function startFakeAgent(a: Api, workspaceId: string, name = "fake") {
  const { agent } = await a.agents.startAgent({ workspaceId, catalogId: "fake", name });
  await until(
    async () => (await agentStatus(a, workspaceId, agent!.id)) === AgentStatus.IDLE,
    START_MS,
    "the agent idle",
  );
  return agent!;
}

/** Sends a text prompt (the fake agent reads one command per line). */
export async function prompt(a: Api, agentId: string, text: string) {
  return await a.agents.prompt({
    agentId,
    idempotencyKey: crypto.randomUUID(),
    promptJson: JSON.stringify([{ type: "text", text }]),
  });
}

/** The text of the agent's message chunks among `events`, in order. */
export function streamText(events: Event[]): string {
  return events
    .filter((e) => e.kind === EventKind.SESSION_UPDATE)
    .map((e) => {
      const u = JSON.parse(e.json) as {
        update?: { sessionUpdate?: string; content?: { type?: string; text?: string } };
      };
      return u.update?.sessionUpdate === "agent_message_chunk"
        ? (u.update.content?.text ?? "")
        : "";
    })
    .join("");
}

/** Saves the page as a PNG in the test's output folder, and for the README with docs: true. */
export async function saveScreen(
  page: Page,
  info: TestInfo,
  name: string,
  opts: { docs?: boolean } = {},
): Promise<string> {
  const file = info.outputPath(`${name}.png`);
  await page.screenshot({ path: file });
  await info.attach(name, { path: file, contentType: "image/png" });
  if (opts.docs && process.env.UPDATE_SCREENSHOTS === "1") {
    mkdirSync(SCREENSHOTS, { recursive: true });
    copyFileSync(file, join(SCREENSHOTS, `${name}.png`));
  }
  return file;
}

export const test = base.extend<{ hub: TestHub; owner: Api; hubOptions: TestHubOptions }>({
  hubOptions: [{}, { option: true }],
  hub: async ({ hubOptions }, use) => {
    const hub = await startTestHub(hubOptions);
    try {
      await use(hub);
    } finally {
      await hub.stop();
      // Its temporary folders (a data folder the test named is left alone).
      const made = [hub.socketDir, dirname(hub.catalogPath)];
      if (!hubOptions.dataDir) made.push(hub.dataDir);
      for (const dir of made) {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  },
  owner: async ({ hub }, use) => {
    await use(await login(hub));
  },
});
