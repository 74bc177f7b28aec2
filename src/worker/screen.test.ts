import { expect, test } from "bun:test";
import { Screen } from "./screen.ts";

test("feeding leaves the caller's bytes alone, a Buffer's too, and the screen shows them", async () => {
  const screen = new Screen(20, 4, 10);
  try {
    const buffer = Buffer.from("hello\r\nworld");
    const view = new Uint8Array(new TextEncoder().encode("!!! tail").buffer, 4);
    screen.feed(buffer);
    screen.feed(view);
    // The screen thread got copies; what the caller holds (the outbox keeps it) is intact.
    expect(buffer.toString()).toBe("hello\r\nworld");
    expect(new TextDecoder().decode(view)).toBe("tail");
    const text = await screen.snapshot();
    expect(text).toContain("hello");
    expect(text).toContain("worldtail");
  } finally {
    screen.close();
  }
});
