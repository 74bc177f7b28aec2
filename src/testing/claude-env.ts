/**
 * The environment that runs the real Claude Code ACP adapter offline in tests: its API address
 * is a closed loopback port, its HOME a scratch folder, and its nonessential traffic (telemetry,
 * error reports, auto-update) is switched off. Shared by the worker's adapter tests and the
 * end-to-end journey, so both keep the adapter away from the network and any user's setup.
 */
import { join } from "node:path";

/** A loopback port that nothing listens on: the API calls fail at once, nothing leaves. */
export function closedPort(): number {
  const server = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = server.port;
  server.stop(true);
  return port;
}

/**
 * What keeps Claude Code offline and away from any user's configuration, with `home` as its
 * HOME. The empty values stand for unset: they override a key or cloud provider in the
 * environment of the process that runs the tests.
 */
export function offlineClaudeEnv(home: string): Record<string, string> {
  return {
    HOME: home,
    CLAUDE_CONFIG_DIR: join(home, ".claude"),
    ANTHROPIC_BASE_URL: `http://127.0.0.1:${closedPort()}`,
    ANTHROPIC_API_KEY: "sk-ant-offline-test",
    ANTHROPIC_AUTH_TOKEN: "",
    CLAUDE_CODE_USE_BEDROCK: "",
    CLAUDE_CODE_USE_VERTEX: "",
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
    DISABLE_AUTOUPDATER: "1",
    DISABLE_TELEMETRY: "1",
    DISABLE_ERROR_REPORTING: "1",
  };
}
