/**
 * The catalog: built-in entries with the worker's config file merged over them, and clear errors
 * for a broken file.
 */
import { afterEach, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { AgentKind } from "../gen/switchboard/v1/common_pb.ts";
import { Cleanups } from "../testing/procs.ts";
import { loadCatalog, type CatalogEntry } from "./catalog.ts";
import { defaultCatalog } from "./claude.ts";

const cleanups = new Cleanups();
afterEach(() => cleanups.runAll());

const builtIn = (id: string, extra: Partial<CatalogEntry> = {}): CatalogEntry => ({
  id,
  name: `Built-in ${id}`,
  kind: AgentKind.ACP,
  command: [`/opt/${id}`],
  env: {},
  description: `the ${id} default`,
  ...extra,
});
const DEFAULTS = [builtIn("claude", { notice: "root" }), builtIn("gemini"), builtIn("codex")];

/** A catalog file with this content (an object is written as JSON). */
function file(content: unknown): string {
  const path = join(cleanups.scratch("catalog"), "catalog.json");
  writeFileSync(path, typeof content === "string" ? content : JSON.stringify(content));
  return path;
}

test("no file, or a missing one, is the built-in entries as they are", () => {
  expect(loadCatalog(null, DEFAULTS)).toEqual(DEFAULTS);
  const missing = join(cleanups.scratch("catalog"), "nope.json");
  expect(loadCatalog(missing, DEFAULTS)).toEqual(DEFAULTS);
  expect(loadCatalog(missing, [])).toEqual([]);
});

test("without defaults given, the built-ins are this machine's (the adapter is a dependency)", () => {
  const ids = loadCatalog(null).map((e) => e.id);
  expect(ids).toEqual(defaultCatalog().map((e) => e.id));
  expect(ids[0]).toBe("claude");
});

test("the file replaces a built-in of the same id in place, adds its own, and disables", () => {
  const path = file({
    agents: [
      { id: "mine", name: "Mine", kind: "terminal", command: ["htop"] },
      {
        id: "claude",
        name: "Claude (mine)",
        kind: "acp",
        command: ["/usr/local/bin/claude-agent-acp"],
        env: { ANTHROPIC_MODEL: "x" },
        description: "pinned",
        notice: "uses the team's key",
      },
      { id: "gemini", disabled: true },
      // A built-in that is not installed here: disabling it is no error.
      { id: "qwen", disabled: true },
      { id: "aider", name: "Aider", kind: "acp", command: ["aider", "--acp"], disabled: false },
    ],
  });
  const got = loadCatalog(path, DEFAULTS);
  expect(got.map((e) => e.id)).toEqual(["claude", "codex", "mine", "aider"]);
  expect(got[0]).toEqual({
    id: "claude",
    name: "Claude (mine)",
    kind: AgentKind.ACP,
    command: ["/usr/local/bin/claude-agent-acp"],
    env: { ANTHROPIC_MODEL: "x" },
    description: "pinned",
    notice: "uses the team's key",
  });
  expect(got[1]).toBe(DEFAULTS[2]!);
  expect(got[2]).toEqual({
    id: "mine",
    name: "Mine",
    kind: AgentKind.TERMINAL,
    command: ["htop"],
    env: {},
    description: "",
  });
  expect("notice" in got[2]!).toBe(false);
});

test("a replaced built-in keeps nothing of its own (its notice neither)", () => {
  const path = file({ agents: [{ id: "claude", name: "C", kind: "acp", command: ["c"] }] });
  const [claude] = loadCatalog(path, DEFAULTS);
  expect(claude!.name).toBe("C");
  expect(claude!.notice).toBeUndefined();
});

test("a disabled entry needs only its id; its other fields are not read", () => {
  const path = file({ agents: [{ id: "claude", disabled: true, name: 7 }] });
  expect(loadCatalog(path, DEFAULTS).map((e) => e.id)).toEqual(["gemini", "codex"]);
});

test("a broken file is an error naming the file and the field", () => {
  const cases: [unknown, string][] = [
    ["{nope", "not JSON"],
    [{}, "agents: "],
    [{ agents: "x" }, "agents: "],
    [{ agents: [{ id: "Bad Id", name: "x", kind: "acp", command: ["x"] }] }, "agents.0.id: ids"],
    [{ agents: [{ id: "ok", name: "x", kind: "web", command: ["x"] }] }, "agents.0.kind: "],
    [{ agents: [{ id: "ok", name: "x", kind: "acp", command: [] }] }, "agents.0.command: "],
    [{ agents: [{ id: "ok", name: "x", kind: "acp" }] }, "agents.0.command: "],
    [
      { agents: [{ id: "ok", name: "x", kind: "acp", command: ["x"], env: { A: 1 } }] },
      "agents.0.env.A: ",
    ],
    [
      { agents: [{ id: "ok", name: "x", kind: "acp", command: ["x"], disabled: "yes" }] },
      "agents.0.disabled: ",
    ],
    [{ agents: [{ id: "claude" }, { id: "Bad", disabled: true }] }, "agents.0.name: "],
    [{ agents: [{ id: "Bad", disabled: true }] }, "agents.0.id: ids"],
    [{ agents: [null] }, "agents.0: "],
  ];
  for (const [content, message] of cases) {
    const path = file(content);
    let error = "";
    try {
      loadCatalog(path, DEFAULTS);
    } catch (e) {
      error = (e as Error).message;
    }
    expect(error).toStartWith(`${path}: `);
    expect(error).toContain(message);
  }
});

test("an id used twice in the file is an error, a disabled one included", () => {
  const entry = { id: "twice", name: "x", kind: "acp", command: ["x"] };
  expect(() => loadCatalog(file({ agents: [entry, entry] }), DEFAULTS)).toThrow(
    "the id twice is used twice",
  );
  const both = {
    agents: [
      { id: "gemini", disabled: true },
      { ...entry, id: "gemini" },
    ],
  };
  expect(() => loadCatalog(file(both), DEFAULTS)).toThrow("the id gemini is used twice");
});
