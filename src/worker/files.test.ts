/**
 * Workspace file reads on real folders: listing (symlinks in and out), confinement against
 * every way out we know, reading text, cut text, binary files and images, and searching
 * names and contents with and without git.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { create, fromJsonString, type MessageInitShape } from "@bufbuild/protobuf";
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import {
  FileKind,
  ListDirResponseSchema,
  ReadFileResponseSchema,
  SearchFilesResponseSchema,
  SearchMode,
} from "../gen/switchboard/v1/files_pb.ts";
import { FileCallSchema } from "../gen/switchboard/v1/link_pb.ts";
import {
  LineSplitter,
  MAX_IMAGE_BYTES,
  MAX_LIST_ENTRIES,
  MAX_PREVIEW_CHARS,
  MAX_TEXT_BYTES,
  handleFileCall,
  parseGrepLine,
  preview,
} from "./files.ts";
import { CommandError } from "./link.ts";

const made: string[] = [];
afterAll(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

/** A fresh real folder (the parent of a workspace, so escapes have somewhere to go). */
function tempDir(): string {
  const d = realpathSync(mkdtempSync(path.join(tmpdir(), "switchboard-files-")));
  made.push(d);
  return d;
}

/** A workspace folder `ws` inside a fresh folder that also has a secret next to it. */
function workspace(): { ws: string; parent: string } {
  const parent = tempDir();
  const ws = path.join(parent, "ws");
  mkdirSync(ws);
  writeFileSync(path.join(parent, "secret.txt"), "top secret\n");
  // Shares the workspace's name as a prefix: a naive startsWith check would let it in.
  mkdirSync(path.join(parent, "ws-other"));
  writeFileSync(path.join(parent, "ws-other", "x.txt"), "other\n");
  return { ws, parent };
}

function write(root: string, rel: string, content: string | Uint8Array): void {
  const p = path.join(root, rel);
  mkdirSync(path.dirname(p), { recursive: true });
  writeFileSync(p, content);
}

type Call = MessageInitShape<typeof FileCallSchema>["call"];

function run(root: string, call: Call): Promise<string> {
  return handleFileCall(create(FileCallSchema, { root, call }));
}

async function list(root: string, p: string) {
  return fromJsonString(
    ListDirResponseSchema,
    await run(root, { case: "listDir", value: { path: p } }),
  );
}

async function read(root: string, p: string) {
  return fromJsonString(
    ReadFileResponseSchema,
    await run(root, { case: "readFile", value: { path: p } }),
  );
}

async function search(root: string, query: string, mode: SearchMode, maxResults = 0) {
  return fromJsonString(
    SearchFilesResponseSchema,
    await run(root, { case: "search", value: { query, mode, maxResults } }),
  );
}

/** The CommandError a promise rejects with. */
async function failure(p: Promise<unknown>): Promise<CommandError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(CommandError);
    return e as CommandError;
  }
  throw new Error("expected a CommandError, but it worked");
}

function git(cwd: string, ...args: string[]): string {
  const r = Bun.spawnSync(
    ["git", "-c", "user.name=Test", "-c", "user.email=t@example.com", ...args],
    {
      cwd,
      env: { ...process.env, GIT_CONFIG_GLOBAL: "/dev/null", GIT_CONFIG_NOSYSTEM: "1" },
    },
  );
  if (r.exitCode !== 0) throw new Error(`git ${args.join(" ")}: ${r.stderr.toString()}`);
  return r.stdout.toString();
}

const PNG = new Uint8Array([
  0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
]);

describe("listing", () => {
  test("dirs first then names; symlinks in are what they point to, out are SYMLINK_OUT", async () => {
    const { ws, parent } = workspace();
    mkdirSync(path.join(ws, "b"));
    mkdirSync(path.join(ws, "A"));
    write(ws, "c.txt", "cc");
    write(ws, "a.txt", "a");
    write(ws, "b/inner.txt", "inner");
    symlinkSync("b", path.join(ws, "to-dir"));
    symlinkSync(path.join(ws, "c.txt"), path.join(ws, "to-file"));
    symlinkSync("/etc", path.join(ws, "out-etc"));
    symlinkSync(path.join(parent, "secret.txt"), path.join(ws, "out-file"));
    symlinkSync("/nonexistent/nowhere", path.join(ws, "out-dangling"));
    symlinkSync("missing-inside", path.join(ws, "in-dangling"));
    symlinkSync("loop-b", path.join(ws, "loop-a"));
    symlinkSync("loop-a", path.join(ws, "loop-b"));

    const res = await list(ws, "");
    expect(res.path).toBe("");
    expect(res.truncated).toBe(false);
    expect(res.entries.map((e) => [e.name, e.kind])).toEqual([
      ["A", FileKind.DIR],
      ["b", FileKind.DIR],
      ["to-dir", FileKind.DIR],
      ["a.txt", FileKind.FILE],
      ["c.txt", FileKind.FILE],
      ["in-dangling", FileKind.OTHER],
      ["loop-a", FileKind.OTHER],
      ["loop-b", FileKind.OTHER],
      ["out-dangling", FileKind.SYMLINK_OUT],
      ["out-etc", FileKind.SYMLINK_OUT],
      ["out-file", FileKind.SYMLINK_OUT],
      ["to-file", FileKind.FILE],
    ]);
    const c = res.entries.find((e) => e.name === "c.txt")!;
    expect(c.size).toBe(2);
    expect(c.modifiedMs).toBeGreaterThan(Date.now() - 60_000);
    // A link in takes its target's size; a link out says nothing about its target.
    expect(res.entries.find((e) => e.name === "to-file")!.size).toBe(2);
    expect(res.entries.find((e) => e.name === "out-file")!.size).toBe(0);

    const sub = await list(ws, "b/");
    expect(sub.path).toBe("b");
    expect(sub.entries.map((e) => e.name)).toEqual(["inner.txt"]);
    // Through a symlink that stays inside.
    expect((await list(ws, "to-dir")).entries.map((e) => e.name)).toEqual(["inner.txt"]);
    expect((await list(ws, "./b/.")).path).toBe("b");
    // Links that lead nowhere cannot be opened.
    expect((await failure(read(ws, "loop-a"))).code).toBe("invalid_argument");
    expect((await failure(read(ws, "in-dangling"))).code).toBe("not_found");
  });

  test("a file, a missing path and a missing root are clear errors", async () => {
    const { ws, parent } = workspace();
    write(ws, "f.txt", "x");
    expect((await failure(list(ws, "f.txt"))).code).toBe("invalid_argument");
    const missing = await failure(list(ws, "nope/deeper"));
    expect(missing.code).toBe("not_found");
    expect(missing.message).toContain("nope/deeper");
    expect((await failure(list(ws, "f.txt/x"))).code).toBe("not_found");
    expect((await failure(list(path.join(parent, "gone"), ""))).code).toBe("failed_precondition");
    expect((await failure(list("relative/root", ""))).code).toBe("failed_precondition");
    expect((await failure(list(path.join(ws, "f.txt"), ""))).code).toBe("failed_precondition");
  });

  test("a large folder is cut at the limit, keeping the first names", async () => {
    const { ws } = workspace();
    for (let i = 0; i <= MAX_LIST_ENTRIES; i++) {
      writeFileSync(path.join(ws, `f${String(i).padStart(5, "0")}`), "");
    }
    const res = await list(ws, "");
    expect(res.truncated).toBe(true);
    expect(res.entries).toHaveLength(MAX_LIST_ENTRIES);
    expect(res.entries[0]!.name).toBe("f00000");
    expect(res.entries.at(-1)!.name).toBe(`f${String(MAX_LIST_ENTRIES - 1).padStart(5, "0")}`);
  });
});

describe("confinement", () => {
  test("every way out is refused with permission_denied, naming the path only", async () => {
    const { ws, parent } = workspace();
    mkdirSync(path.join(ws, "a"));
    write(ws, "ok.txt", "fine");
    symlinkSync("/etc", path.join(ws, "etc"));
    symlinkSync("/etc/passwd", path.join(ws, "passwd"));
    symlinkSync("..", path.join(ws, "up"));
    symlinkSync(path.join(parent, "ws-other"), path.join(ws, "other"));
    symlinkSync(path.join(parent, "nothing-here"), path.join(ws, "dangling-out"));
    // A link inside a folder inside, leading out in two hops.
    symlinkSync("../up", path.join(ws, "a", "hop"));

    const attempts = [
      "../secret.txt",
      "..",
      "/etc/passwd",
      "a/../../secret.txt",
      "a/..",
      "etc",
      "etc/passwd",
      "passwd",
      "up",
      "up/secret.txt",
      "other",
      "other/x.txt",
      "dangling-out",
      "a/hop/secret.txt",
      "ok.txt\0../secret.txt",
      "a\0",
    ];
    for (const p of attempts) {
      for (const op of [list, read]) {
        const e = await failure(op(ws, p));
        expect([p, e.code]).toEqual([p, "permission_denied"]);
        // The message names what was asked, never where it leads.
        expect(e.message).toContain(JSON.stringify(p));
        if (!p.includes("etc")) expect(e.message).not.toContain("/etc");
        expect(e.message).not.toContain(parent + "/");
      }
    }
    // What stays inside still works; so does a link whose real target is back inside.
    expect((await read(ws, "./ok.txt")).text).toBe("fine");
    expect((await read(ws, "up/ws/ok.txt")).text).toBe("fine");
  });

  test("a workspace reached through a symlink is confined to its real folder", async () => {
    const { ws, parent } = workspace();
    write(ws, "in.txt", "inside");
    const alias = path.join(parent, "alias");
    symlinkSync(ws, alias);
    symlinkSync(path.join(ws, "in.txt"), path.join(ws, "abs-link"));
    expect((await read(alias, "in.txt")).text).toBe("inside");
    expect((await read(alias, "abs-link")).text).toBe("inside");
    expect((await failure(read(alias, "../secret.txt"))).code).toBe("permission_denied");
  });
});

describe("reading", () => {
  test("text, with its path and size", async () => {
    const { ws } = workspace();
    write(ws, "dir/hello.md", "# Héllo ✓\nworld\n");
    const res = await read(ws, "dir/hello.md");
    expect(res.path).toBe("dir/hello.md");
    expect(res.text).toBe("# Héllo ✓\nworld\n");
    expect(res.size).toBe(Buffer.byteLength("# Héllo ✓\nworld\n"));
    expect(res.truncated).toBe(false);
    expect(res.binary).toBe(false);
    expect(res.data.length).toBe(0);
    // An empty file is empty text.
    write(ws, "empty", "");
    expect(await read(ws, "empty")).toMatchObject({ text: "", size: 0, binary: false });
    // SVG is text.
    write(ws, "pic.svg", "<svg/>");
    expect(await read(ws, "pic.svg")).toMatchObject({ text: "<svg/>", mimeType: "" });
  });

  test("long text is cut at the limit on a character boundary", async () => {
    const { ws } = workspace();
    // "é" is two bytes; with one ASCII byte first, one straddles the limit.
    const content = "x" + "é".repeat(MAX_TEXT_BYTES / 2 + 10);
    write(ws, "long.txt", content);
    const res = await read(ws, "long.txt");
    expect(res.truncated).toBe(true);
    expect(res.size).toBe(Buffer.byteLength(content));
    expect(Buffer.byteLength(res.text)).toBe(MAX_TEXT_BYTES - 1);
    expect(res.text).not.toContain("\uFFFD");
    expect(content.startsWith(res.text)).toBe(true);
  });

  test("binary: NUL bytes or invalid UTF-8 near the start; only the size is sent", async () => {
    const { ws } = workspace();
    write(ws, "nul.bin", new Uint8Array([0x68, 0x69, 0x00, 0x01, 0x02]));
    write(ws, "latin1.txt", new Uint8Array([0x63, 0x61, 0x66, 0xe9, 0x20, 0x6f, 0x6b]));
    for (const name of ["nul.bin", "latin1.txt"]) {
      const res = await read(ws, name);
      expect([name, res.binary, res.text, res.data.length]).toEqual([name, true, "", 0]);
      expect(res.size).toBeGreaterThan(0);
    }
  });

  test("images by extension and magic bytes; the wrong magic is not an image", async () => {
    const { ws } = workspace();
    const jpeg = new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46]);
    const gif = new TextEncoder().encode("GIF89a\x01\x00\x01\x00");
    const webp = new Uint8Array([
      ...new TextEncoder().encode("RIFF"),
      4,
      0,
      0,
      0,
      ...new TextEncoder().encode("WEBPVP8 "),
    ]);
    write(ws, "a.png", PNG);
    write(ws, "b.JPG", jpeg);
    write(ws, "c.gif", gif);
    write(ws, "d.webp", webp);
    const cases: [string, Uint8Array, string][] = [
      ["a.png", PNG, "image/png"],
      ["b.JPG", jpeg, "image/jpeg"],
      ["c.gif", gif, "image/gif"],
      ["d.webp", webp, "image/webp"],
    ];
    for (const [name, bytes, mime] of cases) {
      const res = await read(ws, name);
      expect([name, res.mimeType, res.text, res.binary]).toEqual([name, mime, "", false]);
      expect(Array.from(res.data)).toEqual(Array.from(bytes));
      expect(res.size).toBe(bytes.length);
    }
    // Named .png but text inside: text. PNG bytes named .txt: binary.
    write(ws, "fake.png", "not a picture");
    expect(await read(ws, "fake.png")).toMatchObject({ text: "not a picture", mimeType: "" });
    write(ws, "png.txt", PNG);
    expect(await read(ws, "png.txt")).toMatchObject({ binary: true, mimeType: "" });
  });

  test("an image over the limit is answered with its type and size only", async () => {
    const { ws } = workspace();
    const big = new Uint8Array(MAX_IMAGE_BYTES + 1);
    big.set(PNG);
    write(ws, "big.png", big);
    const res = await read(ws, "big.png");
    expect(res).toMatchObject({ mimeType: "image/png", truncated: true, size: big.length });
    expect(res.data.length).toBe(0);
  });

  test("folders, FIFOs and missing files are refused", async () => {
    const { ws } = workspace();
    mkdirSync(path.join(ws, "d"));
    const dir = await failure(read(ws, "d"));
    expect(dir.code).toBe("invalid_argument");
    expect(dir.message).toContain("folder");
    expect((await failure(read(ws, ""))).code).toBe("invalid_argument");
    expect(Bun.spawnSync(["mkfifo", path.join(ws, "pipe")]).exitCode).toBe(0);
    // Must not block waiting for a writer.
    expect((await failure(read(ws, "pipe"))).code).toBe("invalid_argument");
    expect((await failure(read(ws, "missing.txt"))).code).toBe("not_found");
  });
});

describe("searching names", () => {
  test("case-insensitive, relative paths, skipping .git, node_modules and links out", async () => {
    const { ws, parent } = workspace();
    write(ws, "Readme.MD", "");
    write(ws, "src/readme-notes.txt", "");
    write(ws, "src/deep/er/README", "");
    write(ws, "src/other.ts", "");
    write(ws, "node_modules/pkg/readme.md", "");
    write(ws, ".git/readme", "");
    write(ws, "readme-dir/x.txt", "");
    write(parent, "outside/readme.txt", "");
    symlinkSync(path.join(parent, "outside"), path.join(ws, "linked"));
    symlinkSync(path.join(parent, "secret.txt"), path.join(ws, "readme-out"));
    symlinkSync("Readme.MD", path.join(ws, "readme-in"));

    const res = await search(ws, "README", SearchMode.NAME);
    expect(res.truncated).toBe(false);
    expect(res.matches.map((m) => m.path)).toEqual([
      "readme-in",
      "Readme.MD",
      "src/readme-notes.txt",
      "src/deep/er/README",
    ]);
    expect(res.matches.every((m) => m.line === 0)).toBe(true);
    expect(res.matches[0]!.preview).toBe("readme-in");
  });

  test("max_results bounds the answer and says truncated", async () => {
    const { ws } = workspace();
    for (let i = 0; i < 10; i++) write(ws, `d${i}/match${i}.txt`, "");
    const res = await search(ws, "match", SearchMode.NAME, 3);
    expect(res.matches).toHaveLength(3);
    expect(res.truncated).toBe(true);
    const all = await search(ws, "match", SearchMode.NAME);
    expect(all.matches).toHaveLength(10);
    expect(all.truncated).toBe(false);
  });

  test("bad queries are refused", async () => {
    const { ws } = workspace();
    expect((await failure(search(ws, "", SearchMode.NAME))).code).toBe("invalid_argument");
    expect((await failure(search(ws, "a\0b", SearchMode.CONTENT))).code).toBe("invalid_argument");
    expect((await failure(search(ws, "x".repeat(5_000), SearchMode.CONTENT))).code).toBe(
      "invalid_argument",
    );
  });
});

/** The same tree, searched as a plain folder and as a git repository. */
function contentTree(ws: string, parent: string): void {
  write(ws, "a.txt", "first line\nHello World\nhello again\n");
  write(ws, "sub/b.md", "nothing\n  say -v HELLO  \n");
  write(ws, "dash.txt", "run it with -rf carefully\n");
  write(ws, "dots.txt", "a.b literal\naxb not\n");
  write(ws, "node_modules/dep/index.js", "hello from a dependency\n");
  write(ws, "bin.dat", new Uint8Array([0x68, 0x65, 0x6c, 0x6c, 0x6f, 0x00, 0x01]));
  write(parent, "leak.txt", "hello from outside\n");
  symlinkSync(path.join(parent, "leak.txt"), path.join(ws, "leak-link.txt"));
  symlinkSync(parent, path.join(ws, "parent-link"));
}

function sorted(res: { matches: { path: string; line: number; preview: string }[] }) {
  return res.matches.map((m) => [m.path, m.line, m.preview]).sort();
}

describe("searching contents", () => {
  for (const withGit of [false, true]) {
    test(withGit ? "in a git repository (git grep)" : "in a plain folder (grep)", async () => {
      const { ws, parent } = workspace();
      contentTree(ws, parent);
      if (withGit) {
        git(ws, "init", "-q", "-b", "main");
        write(ws, ".gitignore", "ignored.txt\n");
        write(ws, "ignored.txt", "hello but ignored\n");
        git(ws, "add", "a.txt", ".gitignore");
        git(ws, "commit", "-q", "-m", "init");
        // sub/b.md stays untracked: still searched.
      }
      const res = await search(ws, "hello", SearchMode.CONTENT);
      expect(res.truncated).toBe(false);
      expect(sorted(res)).toEqual([
        ["a.txt", 2, "Hello World"],
        ["a.txt", 3, "hello again"],
        ["sub/b.md", 2, "say -v HELLO"],
      ]);
      // A query starting with "-" is a query, not an option.
      expect(sorted(await search(ws, "-rf", SearchMode.CONTENT))).toEqual([
        ["dash.txt", 1, "run it with -rf carefully"],
      ]);
      expect(sorted(await search(ws, "-V hello", SearchMode.CONTENT))).toEqual([
        ["sub/b.md", 2, "say -v HELLO"],
      ]);
      // Literal, not a pattern.
      expect(sorted(await search(ws, "a.b", SearchMode.CONTENT))).toEqual([
        ["dots.txt", 1, "a.b literal"],
      ]);
      expect((await search(ws, "zzz-not-there", SearchMode.CONTENT)).matches).toEqual([]);
      expect((await search(ws, "first\nHello", SearchMode.CONTENT)).matches).toEqual([]);
      const capped = await search(ws, "l", SearchMode.CONTENT, 2);
      expect(capped.matches).toHaveLength(2);
      expect(capped.truncated).toBe(true);
    });
  }

  test("long lines are previewed around the match", async () => {
    const { ws } = workspace();
    write(ws, "min.js", "x".repeat(5_000) + "NEEDLE" + "y".repeat(100_000) + "\nshort needle\n");
    const res = await search(ws, "needle", SearchMode.CONTENT);
    const long = res.matches.find((m) => m.line === 1)!;
    expect(long.preview.length).toBeLessThanOrEqual(MAX_PREVIEW_CHARS);
    expect(long.preview).toContain("NEEDLE");
    expect(res.matches.find((m) => m.line === 2)!.preview).toBe("short needle");
  });
});

describe("helpers", () => {
  test("grep output lines of both formats parse", () => {
    const enc = (s: string) => new TextEncoder().encode(s);
    expect(parseGrepLine(enc("./a:b.txt\u000012:x: y\r"))).toEqual({
      path: "a:b.txt",
      line: 12,
      text: "x: y",
    });
    expect(parseGrepLine(enc("dir/f.ts\u00003\u0000const a = 1;"))).toEqual({
      path: "dir/f.ts",
      line: 3,
      text: "const a = 1;",
    });
    expect(parseGrepLine(enc("no separator"))).toBeNull();
  });

  test("the line splitter bounds each line and can stop", () => {
    const got: string[] = [];
    const s = new LineSplitter(4, (l) => {
      got.push(new TextDecoder().decode(l));
      return got.length < 3;
    });
    expect(s.push(new TextEncoder().encode("ab\ncdefgh"))).toBe(true);
    expect(s.push(new TextEncoder().encode("ij\n\nnever\n"))).toBe(false);
    expect(got).toEqual(["ab", "cdef", ""]);
  });

  test("previews keep short lines and window long ones", () => {
    expect(preview("  short  ", "sh")).toBe("short");
    const p = preview("a".repeat(300), "zzz");
    expect(p.length).toBe(MAX_PREVIEW_CHARS);
    expect(p.endsWith("…")).toBe(true);
  });
});
