import { describe, expect, test } from "bun:test";
import { LineSplitter } from "./lines.ts";

function collect(max?: number) {
  const lines: string[] = [];
  const oversize: number[] = [];
  let ends = 0;
  const s = new LineSplitter(
    {
      line: (b) => lines.push(new TextDecoder().decode(b)),
      oversize: (n) => oversize.push(n),
      chunkEnd: () => ends++,
    },
    max,
  );
  return { s, lines, oversize, ends: () => ends };
}

const enc = (t: string) => new TextEncoder().encode(t);

describe("LineSplitter", () => {
  test("splits lines across and within chunks, drops CR and empty lines", () => {
    const { s, lines, ends } = collect();
    s.push(enc('{"a":1}\n{"b"'));
    s.push(enc(':2}\r\n\n{"c":3}\n'));
    expect(lines).toEqual(['{"a":1}', '{"b":2}', '{"c":3}']);
    expect(ends()).toBe(2);
  });

  test("a line over the limit is reported and skipped, the stream goes on", () => {
    const { s, lines, oversize } = collect(10);
    s.push(enc("0123456789ABC"));
    s.push(enc("DEF\nok\n"));
    s.push(enc("x".repeat(11) + "\nfine\n"));
    expect(oversize).toEqual([16, 11]);
    expect(lines).toEqual(["ok", "fine"]);
  });

  test("a multi-part line reaching the limit exactly passes", () => {
    const { s, lines, oversize } = collect(10);
    s.push(enc("01234"));
    s.push(enc("56789\n"));
    expect(lines).toEqual(["0123456789"]);
    expect(oversize).toEqual([]);
  });

  test("copies a held partial line so the producer may reuse its buffer", () => {
    const { s, lines } = collect();
    const buf = enc("abc");
    s.push(buf);
    buf.fill(0x7a);
    s.push(enc("def\n"));
    expect(lines).toEqual(["abcdef"]);
  });
});
