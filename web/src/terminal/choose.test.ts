import { expect, test } from "bun:test";
import { create } from "@bufbuild/protobuf";
import { AgentSchema, CatalogEntrySchema } from "@gen/switchboard/v1/agent_pb.ts";
import { AgentKind, AgentStatus } from "@gen/switchboard/v1/common_pb.ts";
import { pickTerminal, SHELL_COMMAND, shellSpec, terminalsOf } from "./choose.ts";

const agent = (id: string, kind: AgentKind, status: AgentStatus, createdAtMs: number) =>
  create(AgentSchema, { id, kind, status, createdAtMs });

test("terminals are listed newest first; the newest running one is opened", () => {
  const list = terminalsOf([
    agent("acp", AgentKind.ACP, AgentStatus.WORKING, 50),
    agent("old", AgentKind.TERMINAL, AgentStatus.IDLE, 10),
    agent("dead", AgentKind.TERMINAL, AgentStatus.STOPPED, 30),
    agent("mid", AgentKind.TERMINAL, AgentStatus.WORKING, 20),
  ]);
  expect(list.map((a) => a.id)).toEqual(["dead", "mid", "old"]);
  expect(pickTerminal(list)?.id).toBe("mid");
  expect(pickTerminal(list, "old")?.id).toBe("old");
  expect(pickTerminal(list, "acp")?.id).toBe("mid");
  expect(pickTerminal([agent("x", AgentKind.TERMINAL, AgentStatus.FAILED, 1)])?.id).toBe("x");
  expect(pickTerminal([])).toBeNull();
});

test("a shell comes from the catalog when it has one, else the plain command", () => {
  const entry = (id: string, name: string, kind: AgentKind) =>
    create(CatalogEntrySchema, { id, name, kind });
  expect(
    shellSpec([
      entry("claude", "Claude Code", AgentKind.ACP),
      entry("htop", "htop", AgentKind.TERMINAL),
      entry("zsh", "Z shell", AgentKind.TERMINAL),
    ]),
  ).toEqual({ catalogId: "zsh", name: "Z shell" });
  expect(shellSpec([entry("htop", "htop", AgentKind.TERMINAL)])).toEqual({
    command: SHELL_COMMAND,
    kind: AgentKind.TERMINAL,
    name: "Shell",
  });
  expect(shellSpec([entry("shell", "A shell", AgentKind.ACP)])).toEqual({
    command: SHELL_COMMAND,
    kind: AgentKind.TERMINAL,
    name: "Shell",
  });
});
