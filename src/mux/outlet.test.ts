import { describe, expect, test } from "bun:test";
import { Outlet, type Sink } from "./outlet.ts";

function sink(capacity = Infinity) {
  const writes: Uint8Array[] = [];
  let ended = false;
  let room = capacity;
  const s: Sink & { writes: Uint8Array[]; ended: () => boolean; open: (n: number) => void } = {
    writes,
    ended: () => ended,
    open: (n) => void (room = n),
    write(d) {
      const took = Math.min(d.length, room);
      room -= took;
      if (took > 0) writes.push(d.slice(0, took));
      return took;
    },
    end() {
      ended = true;
    },
  };
  return s;
}

const text = (s: { writes: Uint8Array[] }) =>
  s.writes.map((w) => new TextDecoder().decode(w)).join("");
const enc = (t: string) => new TextEncoder().encode(t);

describe("Outlet", () => {
  test("coalesces what is sent in one turn into one write", async () => {
    const s = sink();
    const o = new Outlet(s, () => {});
    o.send(enc("a\n"));
    o.send(enc("b\n"));
    o.send(enc("c\n"));
    expect(s.writes.length).toBe(0);
    await Promise.resolve();
    expect(s.writes.length).toBe(1);
    expect(text(s)).toBe("a\nb\nc\n");
  });

  test("keeps the unwritten rest in order until the sink drains", async () => {
    const s = sink(3);
    const o = new Outlet(s, () => {});
    o.send(enc("hello\n"));
    await Promise.resolve();
    o.send(enc("world\n"));
    await Promise.resolve();
    expect(text(s)).toBe("hel");
    s.open(100);
    o.flush();
    expect(text(s)).toBe("hello\nworld\n");
  });

  test("a reader over the bound that takes nothing for the stall time is dropped once", async () => {
    const s = sink(0);
    const dropped: number[] = [];
    const o = new Outlet(s, (n) => dropped.push(n), 10, 50);
    o.send(enc("123456"));
    o.send(enc("789"));
    o.send(enc("abc"));
    expect(dropped).toEqual([]);
    await Bun.sleep(120);
    expect(dropped).toEqual([12]);
    expect(o.isClosed).toBe(true);
    expect(s.ended()).toBe(true);
    o.send(enc("more"));
    expect(dropped).toEqual([12]);
  });

  test("a reader over the bound that keeps taking bytes is behind, not dropped", async () => {
    const s = sink(0);
    const dropped: number[] = [];
    const o = new Outlet(s, (n) => dropped.push(n), 10, 50);
    o.send(enc("0123456789abcdef"));
    for (let i = 0; i < 6; i++) {
      await Bun.sleep(25);
      s.open(1);
      o.flush();
    }
    expect(dropped).toEqual([]);
    s.open(100);
    o.flush();
    expect(text(s)).toBe("0123456789abcdef");
  });

  test("past the hard bound it is dropped at once", () => {
    const s = sink(0);
    const dropped: number[] = [];
    const o = new Outlet(s, (n) => dropped.push(n), 10, 60_000, 20);
    o.send(enc("0123456789abcdef"));
    o.send(enc("0123456789"));
    expect(dropped).toEqual([16]);
  });

  test("one message larger than the bounds passes when nothing waits before it", async () => {
    const s = sink();
    const dropped: number[] = [];
    const o = new Outlet(s, (n) => dropped.push(n), 4, 50, 8);
    o.send(enc("0123456789"));
    await Promise.resolve();
    expect(dropped).toEqual([]);
    expect(text(s)).toBe("0123456789");
  });

  test("large chunks shared by many frontends are written as they are, never copied", async () => {
    const seen: Uint8Array[] = [];
    const o = new Outlet({ write: (d) => (seen.push(d), d.length), end() {} }, () => {});
    const big1 = new Uint8Array(100 * 1024);
    const big2 = new Uint8Array(100 * 1024);
    o.send(big1);
    o.send(big2);
    await Promise.resolve();
    expect(seen.length).toBe(2);
    expect(seen[0]).toBe(big1);
    expect(seen[1]).toBe(big2);
  });

  test("end() flushes first, then closes", async () => {
    const s = sink(2);
    const o = new Outlet(s, () => {});
    o.send(enc("abcd"));
    o.end();
    expect(s.ended()).toBe(false);
    s.open(10);
    o.flush();
    expect(text(s)).toBe("abcd");
    expect(s.ended()).toBe(true);
  });
});
