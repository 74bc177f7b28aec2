/**
 * The mux between peers nobody here wrote: the ACP SDK 1.9 example agent as the agent, and acpx
 * (a headless ACP client) as the editor, both as the primary and through `attach`.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { BUN, FAKE_AGENT, ROOT, socketClient, WORKER } from "../testing/clients.ts";
import { startMux } from "../testing/harness.ts";
import {
  childPids,
  Cleanups,
  cmdline,
  isRunning,
  killIfRunning,
  runToEnd,
  waitFor,
} from "../testing/procs.ts";

const cleanups = new Cleanups();
afterEach(() => cleanups.runAll());

const scratch = (prefix: string) => cleanups.scratch(prefix);

const EXAMPLE_AGENT = join(ROOT, "node_modules", "acp-sdk-1", "dist", "examples", "agent.js");
const ACPX = join(ROOT, "node_modules", ".bin", "acpx");

describe("the ACP SDK 1.9 example agent under the mux, with SDK 2.4 frontends", () => {
  for (const [runtime, exe] of [
    ["bun", BUN],
    ["node", "node"],
  ] as const) {
    test(`(${runtime}) a turn streams to both; its permission request too; one answer wins`, async () => {
      const run = await startMux({
        agent: [exe, EXAMPLE_AGENT],
        primary: { name: "primary", permission: { kind: "never" } },
      });
      cleanups.add(() => run.cleanup());
      const b = await run.join({
        name: "b",
        permission: { kind: "select", optionId: "allow", delayMs: 300 },
      });
      const r = await run.prompt(run.primary, "please fix the config");
      expect(r.stopReason).toBe("end_turn");

      const expected = [
        "I'll help you with that. Let me start by reading some files to understand the current situation.",
        " Now I understand the project structure. I need to make some changes to improve it.",
        " Perfect! I've successfully updated the configuration. The changes have been applied.",
      ];
      expect(run.primary.texts()).toEqual(expected);
      await b.until((c) => c.texts().length === 3, "b's three messages");
      expect(b.texts()).toEqual(expected);
      // b saw the prompt first, as a user message.
      expect(b.texts("user_message_chunk")).toEqual(["please fix the config"]);
      expect(b.updates[0]!.update.sessionUpdate).toBe("user_message_chunk");

      // Both got the request; b answered it, the primary's copy was withdrawn.
      for (const c of [run.primary, b]) {
        expect(c.permissions.length).toBe(1);
        expect(c.permissions[0]!.params.toolCall.toolCallId).toBe("call_2");
        expect(c.permissions[0]!.params.options.map((o) => o.optionId)).toEqual([
          "allow",
          "reject",
        ]);
      }
      expect(b.permissions[0]!.settled).toBe("selected allow");
      await run.primary.until(
        (c) => c.permissions[0]!.settled === "withdrawn",
        "the primary's copy withdrawn",
      );
      // The agent went on: the tool call that needed permission completed, at both.
      for (const c of [run.primary, b]) {
        const done = c.updates.filter(
          (u) =>
            u.update.sessionUpdate === "tool_call_update" &&
            u.update.toolCallId === "call_2" &&
            u.update.status === "completed",
        );
        expect(done.length).toBe(1);
      }
      // The others hear that the primary's turn ended.
      await b.until(
        (c) => c.ext.some((e) => e.method === "_switchboard/turn_finished"),
        "turn_finished",
      );
      expect(b.ext.find((e) => e.method === "_switchboard/turn_finished")!.params).toMatchObject({
        sessionId: run.sessionId,
        stopReason: "end_turn",
      });
    });
  }

  test("cancel from the secondary while the request is pending ends the turn cancelled", async () => {
    const run = await startMux({ agent: [BUN, EXAMPLE_AGENT] });
    cleanups.add(() => run.cleanup());
    const b = await run.join({ name: "b" });
    const done = run.prompt(run.primary, "go");
    await b.until((c) => c.permissions.length === 1, "b's copy");
    await run.primary.until((c) => c.permissions.length === 1, "the primary's copy");
    await b.conn.agent.notify("session/cancel", { sessionId: run.sessionId });
    // The example agent answers a cancelled permission by ending its turn normally.
    expect(["cancelled", "end_turn"]).toContain((await done).stopReason);
    await run.primary.until((c) => c.permissions[0]!.settled === "withdrawn", "withdrawn");
    await b.until((c) => c.permissions[0]!.settled === "withdrawn", "withdrawn at b");
  });
});

/** acpx with its state in temp folders; runs `--agent <agent> --format json --approve-all exec`. */
function acpx(agent: string[], prompt: string, env: Record<string, string>, cwd: string) {
  const home = scratch("acpx-home");
  for (const d of [".config", ".local/state", ".cache", ".local/share"])
    mkdirSync(join(home, d), { recursive: true });
  return runToEnd(
    [
      ACPX,
      "--agent",
      agent.join(" "),
      "--format",
      "json",
      "--approve-all",
      "--timeout",
      "60",
      "exec",
      prompt,
    ],
    {
      cwd,
      timeoutMs: 60_000,
      env: {
        ...env,
        HOME: home,
        XDG_CONFIG_HOME: join(home, ".config"),
        XDG_STATE_HOME: join(home, ".local/state"),
        XDG_CACHE_HOME: join(home, ".cache"),
        XDG_DATA_HOME: join(home, ".local/share"),
      },
    },
  );
}

interface Line {
  jsonrpc?: string;
  id?: number | string;
  method?: string;
  params?: {
    sessionId?: string;
    update?: { sessionUpdate: string; content?: { type: string; text?: string } };
  };
  result?: { sessionId?: string; stopReason?: string };
}

function parseLines(stdout: string): Line[] {
  return stdout
    .split("\n")
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as Line);
}

/** Texts of one kind of session/update in acpx's JSON output. */
function outputTexts(lines: Line[], kind = "agent_message_chunk"): string[] {
  return lines
    .filter((m) => m.method === "session/update" && m.params?.update?.sessionUpdate === kind)
    .map((m) => m.params!.update!.content?.text ?? "");
}

describe("acpx as a frontend", () => {
  test("as the primary (its agent is `worker.ts mux`), with an SDK client on the socket", async () => {
    const dir = scratch("sock");
    const cwd = scratch("cwd");
    const agent = [BUN, WORKER, "mux", "--", ...FAKE_AGENT];
    // The agent sleeps first, so the SDK client is there before the answer.
    const running = acpx(
      agent,
      "sleep 2500\nsay answer to acpx",
      { SWITCHBOARD_SOCKET_DIR: dir },
      cwd,
    );
    let muxPid = 0;
    await waitFor(() => {
      const sock = readdirSync(dir).find((n) => n.endsWith(".sock"));
      if (sock) muxPid = Number(sock.slice(0, -".sock".length));
      return sock !== undefined;
    }, "the mux's socket");
    cleanups.add(() => killIfRunning(muxPid));
    let agentPid = 0;
    await waitFor(() => {
      agentPid = childPids(muxPid).find((p) => cmdline(p).includes("fake-agent")) ?? 0;
      return agentPid !== 0;
    }, "the agent under the mux");
    cleanups.add(() => killIfRunning(agentPid));
    const b = await socketClient(join(dir, `${muxPid}.sock`), { name: "b" });
    cleanups.add(() => b.close());
    const init = await b.conn.agent.request("initialize", {
      protocolVersion: 1,
      clientCapabilities: {},
      clientInfo: { name: "b", version: "1" },
    });
    expect(init.agentInfo?.name).toBe("fake-agent");
    const joined = await b.conn.agent.request("session/new", { cwd, mcpServers: [] });

    await b.until(
      (c) => c.texts("user_message_chunk").some((t) => t.includes("say answer to acpx")),
      "acpx's prompt as a user message",
    );
    await b.until((c) => c.texts().includes("answer to acpx"), "the answer");
    const user = b.updates.find((u) => u.update.sessionUpdate === "user_message_chunk")!;
    expect(user.update).toMatchObject({
      _meta: { switchboard: { frontend: "acpx (primary)" } },
    });

    const out = await running;
    expect(out.code).toBe(0);
    const lines = parseLines(out.stdout);
    const made = lines.find((m) => m.id === 1 && m.result?.sessionId)!;
    expect(made.result!.sessionId).toBe(joined.sessionId);
    expect(outputTexts(lines)).toEqual(["answer to acpx"]);
    expect(lines.find((m) => m.result?.stopReason)?.result?.stopReason).toBe("end_turn");
    // acpx saw b join.
    expect(
      lines.some(
        (m) => m.method === "_switchboard/frontends" && JSON.stringify(m).includes('"b#2"'),
      ),
    ).toBe(true);

    // On exit acpx closes the agent's stdin, then 100 ms later SIGTERMs it and its
    // descendants (acpx's cleanupAgentProcess): the session cannot outlive acpx as primary.
    // The mux takes that as a clean stop: socket gone, b disconnected.
    await b.conn.closed;
    await waitFor(() => !isRunning(muxPid), "the mux to end");
    await waitFor(() => !isRunning(agentPid), "the agent to end");
    expect(readdirSync(dir)).toEqual([]);
  });

  test("as a secondary through `worker.ts attach`, while an SDK primary holds the session", async () => {
    const run = await startMux({ primary: { name: "primary", permission: { kind: "never" } } });
    cleanups.add(() => run.cleanup());
    await run.prompt(run.primary, "say from the editor");

    const out = await acpx(
      [BUN, WORKER, "attach", run.socket],
      "say answer for acpx",
      run.env,
      run.cwd,
    );
    expect(out.code).toBe(0);
    const lines = parseLines(out.stdout);
    // acpx joined the primary's session and got its history, then its own answer.
    const made = lines.find((m) => m.id === 1 && m.result?.sessionId)!;
    expect(made.result!.sessionId).toBe(run.sessionId);
    expect(outputTexts(lines)).toEqual(["from the editor", "answer for acpx"]);
    expect(outputTexts(lines, "user_message_chunk")).toEqual(["say from the editor"]);
    const answer = lines.find((m) => m.params?.update?.content?.text === "answer for acpx")!;
    expect(answer.params!.sessionId).toBe(run.sessionId);
    expect(lines.find((m) => m.result?.stopReason)?.result?.stopReason).toBe("end_turn");

    // The primary saw acpx's prompt and the answer.
    await run.primary.until(
      (c) => c.texts("user_message_chunk").includes("say answer for acpx"),
      "acpx's prompt at the primary",
    );
    await run.primary.until((c) => c.texts().includes("answer for acpx"), "the answer");
    const user = run.primary.updates.find((u) => u.update.sessionUpdate === "user_message_chunk")!;
    expect(JSON.stringify(user.update)).toContain('"frontend":"acpx#2"');
  });

  test("as a secondary, acpx --approve-all answers the agent's permission request", async () => {
    const run = await startMux({ primary: { name: "primary", permission: { kind: "never" } } });
    cleanups.add(() => run.cleanup());
    const out = await acpx(
      [BUN, WORKER, "attach", run.socket],
      "permission deploy",
      run.env,
      run.cwd,
    );
    expect(out.code).toBe(0);
    const lines = parseLines(out.stdout);
    expect(outputTexts(lines)).toContain("permission: selected allow");
    expect(lines.some((m) => m.method === "session/request_permission")).toBe(true);
    // The primary had the same request; acpx's answer withdrew it.
    await run.primary.until((c) => c.permissions[0]?.settled === "withdrawn", "withdrawn");
    await run.primary.until(
      (c) => c.texts().includes("permission: selected allow"),
      "the outcome at the primary",
    );
    expect(
      run.primary.ext.find((e) => e.method === "_switchboard/permission_resolved")?.params,
    ).toMatchObject({ outcome: { outcome: "selected", optionId: "allow" }, by: "acpx#2" });
  });
});
