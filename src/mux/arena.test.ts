import { describe, expect, test } from "bun:test";
import { Arena } from "./arena.ts";

const enc = (t: string) => new TextEncoder().encode(t);
const text = (parts: Uint8Array[]) => parts.map((p) => new TextDecoder().decode(p)).join("");

describe("Arena", () => {
  test("keeps lines in order across blocks, each followed by a newline", () => {
    const a = new Arena();
    const lines = Array.from({ length: 30_000 }, (_, i) => `line ${i} ${"x".repeat(i % 97)}`);
    for (const l of lines) a.push(enc(l));
    expect(a.length).toBe(lines.length);
    expect(text(a.ranges())).toBe(lines.join("\n") + "\n");
    expect(a.bytes).toBe(lines.reduce((n, l) => n + l.length + 1, 0));
    expect(new TextDecoder().decode(a.entry(12_345))).toBe(lines[12_345]!);
  });

  test("a line larger than a block gets a block of its own", () => {
    const a = new Arena();
    a.push(enc("small"));
    const big = "y".repeat(3 * 1024 * 1024);
    a.push(enc(big));
    a.push(enc("after"));
    expect(text(a.ranges())).toBe(`small\n${big}\nafter\n`);
  });

  test("dropping from the front frees whole blocks and keeps the rest intact", () => {
    const a = new Arena();
    const lines = Array.from({ length: 50_000 }, (_, i) => `entry-${i}-${"z".repeat(40)}`);
    for (const l of lines) a.push(enc(l));
    a.drop(45_000);
    expect(a.length).toBe(5_000);
    expect(text(a.ranges())).toBe(lines.slice(45_000).join("\n") + "\n");
    expect(new TextDecoder().decode(a.entry(0))).toBe(lines[45_000]!);
    a.push(enc("new"));
    expect(text(a.ranges()).endsWith(`${lines.at(-1)}\nnew\n`)).toBe(true);
    a.drop(a.length);
    expect(a.length).toBe(0);
    expect(a.bytes).toBe(0);
    expect(a.ranges()).toEqual([]);
  });
});
