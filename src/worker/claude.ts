/**
 * The worker's built-in catalog entries: Claude Code through Zed's ACP adapter, and Gemini CLI
 * and Codex when their ACP commands are installed.
 *
 * Claude Code: the adapter (@zed-industries/claude-agent-acp, a dependency of this package) runs
 * the Claude Agent SDK, which runs Claude Code's CLI (bundled in the SDK) and talks to the
 * Anthropic API (ANTHROPIC_API_KEY, ANTHROPIC_BASE_URL, or a `claude /login` in HOME).
 *
 * Root: Claude Code refuses to bypass permissions as root unless IS_SANDBOX is exactly "1"; the
 * adapter offers its Bypass Permissions mode (and asks the CLI to allow it) as soon as
 * IS_SANDBOX is set to anything. So with IS_SANDBOX=yes the CLI exits at session/new, and with
 * no IS_SANDBOX the mode is simply not offered. The "claude" entry therefore says "1" when the
 * worker's environment declares a sandbox, leaves it unset otherwise, and tells the user which
 * through its notice.
 */
import { existsSync, readFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { AgentKind } from "../gen/switchboard/v1/common_pb.ts";
import type { CatalogEntry } from "./catalog.ts";

export const CLAUDE_ADAPTER_PACKAGE = "@zed-industries/claude-agent-acp";
/** The adapter's command, when installed globally (`npm i -g @zed-industries/claude-agent-acp`). */
export const CLAUDE_ADAPTER_BIN = "claude-agent-acp";

/** The claude entry's notice as root, with and without a declared sandbox. */
export const ROOT_SANDBOX_NOTICE =
  "Running as root in a sandbox (IS_SANDBOX is set): Claude Code starts with IS_SANDBOX=1 " +
  "and offers its Bypass Permissions mode.";
export const ROOT_NOTICE =
  "Running as root: Claude Code does not offer its Bypass Permissions mode to root, so it asks " +
  "before acting. If this machine is a sandbox, set IS_SANDBOX=1 in the worker's environment.";

type Env = Record<string, string | undefined>;

/**
 * The argv that runs the Claude Code ACP adapter: this package's own copy under node (or under
 * Bun when there is no node), else `claude-agent-acp` on PATH; null when neither is there.
 */
export function findClaudeAdapter(env: Env = process.env): string[] | null {
  const script = bundledAdapter();
  if (script) {
    const node = which("node", env);
    if (node) return [node, script];
    // Under Bun itself (not a compiled worker, whose executable is the worker).
    if (process.versions.bun && basename(process.execPath).startsWith("bun"))
      return [process.execPath, script];
  }
  const onPath = which(CLAUDE_ADAPTER_BIN, env);
  return onPath ? [onPath] : null;
}

/** The adapter's entry script in this package's node_modules, or null. */
function bundledAdapter(): string | null {
  try {
    const manifest = Bun.resolveSync(`${CLAUDE_ADAPTER_PACKAGE}/package.json`, import.meta.dir);
    const pkg = JSON.parse(readFileSync(manifest, "utf8")) as { bin?: Record<string, string> };
    const bin = pkg.bin?.[CLAUDE_ADAPTER_BIN];
    const script = bin && join(dirname(manifest), bin);
    return script && existsSync(script) ? script : null;
  } catch {
    return null;
  }
}

/**
 * The built-in entries: "claude" when the adapter is found, "gemini" (`gemini
 * --experimental-acp`) and "codex" (`codex-acp`) when on PATH. `uid` is the effective user
 * (tests pass one); 0 is root.
 */
export function defaultCatalog(
  env: Env = process.env,
  uid: number | undefined = process.geteuid?.(),
): CatalogEntry[] {
  const entries: CatalogEntry[] = [];
  const claude = findClaudeAdapter(env);
  if (claude) entries.push(claudeEntry(claude, env, uid === 0));
  const gemini = which("gemini", env);
  if (gemini) {
    entries.push({
      id: "gemini",
      name: "Gemini CLI",
      kind: AgentKind.ACP,
      command: [gemini, "--experimental-acp"],
      env: {},
      description: "Google's Gemini CLI in its ACP mode",
    });
  }
  const codex = which("codex-acp", env);
  if (codex) {
    entries.push({
      id: "codex",
      name: "Codex",
      kind: AgentKind.ACP,
      command: [codex],
      env: {},
      description: "OpenAI's Codex through its ACP adapter (codex-acp)",
    });
  }
  return entries;
}

function claudeEntry(command: string[], env: Env, root: boolean): CatalogEntry {
  const entry: CatalogEntry = {
    id: "claude",
    name: "Claude Code",
    kind: AgentKind.ACP,
    command,
    env: {},
    description: "Anthropic's Claude Code through Zed's ACP adapter (claude-agent-acp)",
  };
  if (!root) return entry;
  if (env.IS_SANDBOX) return { ...entry, env: { IS_SANDBOX: "1" }, notice: ROOT_SANDBOX_NOTICE };
  return { ...entry, notice: ROOT_NOTICE };
}

function which(command: string, env: Env): string | null {
  return Bun.which(command, { PATH: env.PATH ?? "" });
}
