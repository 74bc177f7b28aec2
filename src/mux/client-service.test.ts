import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import {
  chmod,
  lstat,
  mkdir,
  mkdtemp,
  readFile,
  readdir,
  realpath,
  rm,
  stat,
  symlink,
  writeFile,
} from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import {
  createClientService,
  OutputBuffer,
  type ClientService,
  type ClientServiceOptions,
} from "./client-service.ts";
import { ErrorCode, RpcFailure } from "./jsonrpc.ts";

let root: string; // the workspace
let outside: string; // a sibling folder the service must never touch
let svc: ClientService;
const sessionId = "s1";

function service(extra: Partial<ClientServiceOptions> = {}): ClientService {
  svc.close();
  svc = createClientService({ root, ...extra });
  return svc;
}

beforeEach(async () => {
  const base = await mkdtemp(path.join(tmpdir(), "client-service-"));
  root = path.join(base, "ws");
  outside = path.join(base, "outside");
  await mkdir(root);
  await mkdir(outside);
  await writeFile(path.join(outside, "secret.txt"), "secret\n");
  svc = createClientService({ root });
});

afterEach(async () => {
  svc.close();
  await rm(path.dirname(root), { recursive: true, force: true });
});

/** Awaits a rejection and checks it is an RpcFailure with `code` (and a message containing `text`). */
async function rejects(p: Promise<unknown>, code: number, text?: string): Promise<RpcFailure> {
  let caught: unknown;
  try {
    await p;
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(RpcFailure);
  const f = caught as RpcFailure;
  expect({ code: f.code, message: f.message }).toMatchObject({ code });
  if (text !== undefined) expect(f.message).toContain(text);
  return f;
}

const read = (p: string, extra: object = {}) =>
  svc.handle("fs/read_text_file", { sessionId, path: p, ...extra }) as Promise<{ content: string }>;
const write = (p: string, content: string) =>
  svc.handle("fs/write_text_file", { sessionId, path: p, content });

async function exists(p: string): Promise<boolean> {
  return lstat(p).then(
    () => true,
    () => false,
  );
}

/** A pid is gone when kill(0) fails or it is a zombie nobody has reaped yet (PID 1 in containers). */
async function isAlive(pid: number): Promise<boolean> {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  const stat = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => "");
  return !/\) Z /.test(stat);
}

async function eventually(check: () => Promise<boolean>, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await Bun.sleep(25);
  }
}

describe("fs", () => {
  test("read honours line and limit", async () => {
    const f = path.join(root, "lines.txt");
    await writeFile(f, "a\nb\nc\nd\n");
    expect((await read(f)).content).toBe("a\nb\nc\nd\n");
    expect((await read(f, { line: 2, limit: 2 })).content).toBe("b\nc\n");
    expect((await read(f, { line: 3 })).content).toBe("c\nd\n");
    expect((await read(f, { limit: 1 })).content).toBe("a\n");
    expect((await read(f, { line: null, limit: null })).content).toBe("a\nb\nc\nd\n");
    expect((await read(f, { line: 9 })).content).toBe("");
  });

  test("write then read back, keeping the mode and leaving no temp file", async () => {
    const f = path.join(root, "script.sh");
    await writeFile(f, "old");
    await chmod(f, 0o751);
    expect(await write(f, "héllo\n")).toEqual({});
    expect((await read(f)).content).toBe("héllo\n");
    expect((await stat(f)).mode & 0o7777).toBe(0o751);
    expect(await readdir(root)).toEqual(["script.sh"]);
  });

  test("write creates a new nested file", async () => {
    const f = path.join(root, "a", "b", "c.txt");
    await write(f, "deep");
    expect(await readFile(f, "utf8")).toBe("deep");
  });

  test("missing file is resourceNotFound", async () => {
    await rejects(read(path.join(root, "nope.txt")), ErrorCode.resourceNotFound, "does not exist");
  });

  test("reading a folder is refused", async () => {
    await rejects(read(root), ErrorCode.invalidParams, "is a folder");
  });

  test("`..` cannot climb out", async () => {
    await rejects(read(`${root}/../outside/secret.txt`), ErrorCode.invalidParams, "outside");
    await rejects(write(`${root}/../outside/new.txt`, "x"), ErrorCode.invalidParams, "outside");
    expect(await exists(path.join(outside, "new.txt"))).toBe(false);
    // `..` that stays inside is fine.
    await write(path.join(root, "x.txt"), "in");
    expect((await read(`${root}/sub/../x.txt`)).content).toBe("in");
  });

  test("absolute path elsewhere and relative paths are refused with a clear message", async () => {
    const f = await rejects(read("/etc/passwd"), ErrorCode.invalidParams);
    expect(f.message).toBe(`path /etc/passwd is outside the workspace ${root}`);
    await rejects(read("relative.txt"), ErrorCode.invalidParams, "must be an absolute path");
  });

  test("a file symlink leading outside is refused", async () => {
    const link = path.join(root, "link.txt");
    await symlink(path.join(outside, "secret.txt"), link);
    await rejects(read(link), ErrorCode.invalidParams, "outside the workspace");
    await rejects(write(link, "pwned"), ErrorCode.invalidParams, "outside the workspace");
    expect(await readFile(path.join(outside, "secret.txt"), "utf8")).toBe("secret\n");
  });

  test("a folder symlink leading outside is refused", async () => {
    const dir = path.join(root, "dir");
    await symlink(outside, dir);
    await rejects(read(path.join(dir, "secret.txt")), ErrorCode.invalidParams, "outside");
    await rejects(write(path.join(dir, "new", "f.txt"), "x"), ErrorCode.invalidParams, "outside");
    expect(await readdir(outside)).toEqual(["secret.txt"]);
  });

  test("a dangling symlink as the final component is followed when writing", async () => {
    const out = path.join(root, "dangling.txt");
    await symlink(path.join(outside, "created.txt"), out);
    await rejects(write(out, "x"), ErrorCode.invalidParams, "outside");
    expect(await exists(path.join(outside, "created.txt"))).toBe(false);

    // A link that stays inside is written through, and stays a link.
    const inner = path.join(root, "alias.txt");
    await symlink("target.txt", inner);
    await write(inner, "via alias");
    expect(await readFile(path.join(root, "target.txt"), "utf8")).toBe("via alias");
    expect((await lstat(inner)).isSymbolicLink()).toBe(true);
  });

  test("files over maxReadBytes are refused", async () => {
    service({ maxReadBytes: 10 });
    await writeFile(path.join(root, "ok.txt"), "0123456789");
    await writeFile(path.join(root, "big.txt"), "0123456789X");
    expect((await read(path.join(root, "ok.txt"))).content).toBe("0123456789");
    await rejects(read(path.join(root, "big.txt")), ErrorCode.invalidParams, "read limit of 10");
  });
});

type Output = { output: string; truncated: boolean; exitStatus?: object };
const create = (command: string, args: string[] = [], extra: object = {}) =>
  svc
    .handle("terminal/create", { sessionId, command, args, ...extra })
    .then((r) => (r as { terminalId: string }).terminalId);
const output = (terminalId: string) =>
  svc.handle("terminal/output", { sessionId, terminalId }) as Promise<Output>;
const waitExit = (terminalId: string) =>
  svc.handle("terminal/wait_for_exit", { sessionId, terminalId });

describe("terminal", () => {
  test("captures stdout and stderr and the exit code", async () => {
    const id = await create("sh", ["-c", "echo out; echo err >&2; echo $FOO; exit 3"], {
      env: [{ name: "FOO", value: "bar" }],
    });
    expect(await waitExit(id)).toEqual({ exitCode: 3, signal: null });
    const out = await output(id);
    expect(out.output.split("\n").sort()).toEqual(["", "bar", "err", "out"]);
    expect(out).toMatchObject({ truncated: false, exitStatus: { exitCode: 3, signal: null } });
  });

  test("runs in the workspace by default and refuses a cwd outside", async () => {
    const id = await create("pwd");
    await waitExit(id);
    expect((await output(id)).output).toBe(`${await realpath(root)}\n`);
    await rejects(create("pwd", [], { cwd: outside }), ErrorCode.invalidParams, "cwd");
  });

  test("truncates from the beginning at a character boundary", async () => {
    // 3 + 4*3 = 15 bytes; keeping 10 cuts into the first "€", which must go whole.
    const id = await create("printf", ["abc€€€€"], { outputByteLimit: 10 });
    await waitExit(id);
    expect(await output(id)).toMatchObject({ output: "€€€", truncated: true });
  });

  test("the buffer keeps whole characters across many small appends", () => {
    const buf = new OutputBuffer(11);
    for (let i = 0; i < 1000; i++) buf.append("é"); // 2 bytes each; also merges chunks
    expect(buf.text()).toBe("ééééé");
    expect(buf.truncated).toBe(true);
    const none = new OutputBuffer(0);
    none.append("x");
    expect([none.text(), none.truncated]).toEqual(["", true]);
  });

  test("outputByteLimit is capped by defaultOutputByteLimit", async () => {
    service({ defaultOutputByteLimit: 4 });
    const id = await create("printf", ["123456"], { outputByteLimit: 1000 });
    await waitExit(id);
    expect(await output(id)).toMatchObject({ output: "3456", truncated: true });
  });

  test("kill stops the command and keeps the terminal", async () => {
    const id = await create("sleep", ["30"]);
    expect(await svc.handle("terminal/kill", { sessionId, terminalId: id })).toEqual({});
    expect(await waitExit(id)).toEqual({ exitCode: null, signal: "SIGTERM" });
    expect(await output(id)).toMatchObject({ output: "", exitStatus: { signal: "SIGTERM" } });
  });

  test("release kills and forgets the terminal", async () => {
    const id = await create("sh", ["-c", "echo $$; exec sleep 30"]);
    await eventually(async () => (await output(id)).output.endsWith("\n"));
    const pid = Number((await output(id)).output);
    await svc.handle("terminal/release", { sessionId, terminalId: id });
    await rejects(output(id), ErrorCode.resourceNotFound, "unknown terminal");
    await eventually(async () => !(await isAlive(pid)));
  });

  test("wait_for_exit gives up after maxWaitMs", async () => {
    service({ maxWaitMs: 200 });
    const id = await create("sleep", ["30"]);
    const started = Date.now();
    await rejects(waitExit(id), ErrorCode.internal, "still running");
    expect(Date.now() - started).toBeLessThan(5000);
  });

  test("close kills the whole process group", async () => {
    // The shell prints its own pid and a background child's; both must die.
    const id = await create("sh", ["-c", "sleep 300 & echo $$ $!; wait"]);
    await eventually(async () => (await output(id)).output.endsWith("\n"));
    const pids = (await output(id)).output.trim().split(" ").map(Number);
    expect(pids).toHaveLength(2);
    svc.close();
    for (const pid of pids) await eventually(async () => !(await isAlive(pid)));
    await rejects(output(id), ErrorCode.internal, "closed");
  });

  test("a command that does not exist is a clear error", async () => {
    await rejects(create("no-such-command-xyz"), ErrorCode.invalidParams, "command not found");
  });

  test("too many terminals", async () => {
    service({ maxTerminals: 1 });
    await create("sleep", ["30"]);
    await rejects(create("sleep", ["30"]), ErrorCode.internal, "too many terminals");
  });
});

describe("bad params", () => {
  test("wrong types are invalidParams", async () => {
    await rejects(svc.handle("fs/read_text_file", null), ErrorCode.invalidParams);
    await rejects(
      svc.handle("fs/read_text_file", { sessionId, path: 42 }),
      ErrorCode.invalidParams,
      "path",
    );
    await rejects(read(path.join(root, "x"), { line: 0 }), ErrorCode.invalidParams, "line");
    await rejects(
      svc.handle("fs/write_text_file", { sessionId, path: path.join(root, "x") }),
      ErrorCode.invalidParams,
      "content",
    );
    await rejects(
      svc.handle("terminal/create", { sessionId, command: "ls", args: "-l" }),
      ErrorCode.invalidParams,
      "args",
    );
    await rejects(
      svc.handle("terminal/create", {
        sessionId,
        command: "ls",
        env: [{ name: "A=B", value: "" }],
      }),
      ErrorCode.invalidParams,
      "env",
    );
    await rejects(svc.handle("terminal/output", { sessionId }), ErrorCode.invalidParams);
  });

  test("unknown terminals and methods", async () => {
    await rejects(output("nope"), ErrorCode.resourceNotFound, "unknown terminal nope");
    await rejects(svc.handle("fs/delete", {}), ErrorCode.methodNotFound, "fs/delete");
  });
});
