/** The generated code is never edited: regenerating from proto/ must give exactly src/gen. */
import { expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { ROOT } from "./testing/clients.ts";
import { tempDir } from "./testing/harness.ts";
import { runToEnd } from "./testing/procs.ts";

const BIN = join(ROOT, "node_modules", ".bin");

function files(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => relative(dir, join(d.parentPath, d.name)))
    .sort();
}

test("src/gen is what buf and protoc-gen-es make of proto/ today, and the protos pass lint", async () => {
  const out = tempDir("gen");
  const template = JSON.stringify({
    version: "v2",
    plugins: [
      { local: join(BIN, "protoc-gen-es"), out, opt: ["target=ts", "import_extension=ts"] },
    ],
  });
  const gen = await runToEnd([join(BIN, "buf"), "generate", "--template", template], { cwd: ROOT });
  expect(gen.stderr).toBe("");
  expect(gen.code).toBe(0);
  const committed = join(ROOT, "src", "gen");
  expect(files(out)).toEqual(files(committed));
  for (const f of files(out)) {
    expect(`${f}:\n${readFileSync(join(committed, f), "utf8")}`).toBe(
      `${f}:\n${readFileSync(join(out, f), "utf8")}`,
    );
  }
  const lint = await runToEnd([join(BIN, "buf"), "lint"], { cwd: ROOT });
  expect(lint.stdout + lint.stderr).toBe("");
  expect(lint.code).toBe(0);
});
