/** How usage reads in the header. */
import { expect, test } from "bun:test";
import { costText, tokensText, usedShare } from "./usage.ts";

test("tokens in short form, the share of the window, and the cost in its currency", () => {
  const u = { used: 12_345, size: 200_000, cost: { amount: 0.0342, currency: "USD" } };
  expect(tokensText(u)).toBe("12.3K / 200K tokens");
  expect(usedShare(u)).toBeCloseTo(0.0617, 3);
  expect(costText(u)).toBe("$0.0342");
  expect(costText({ ...u, cost: { amount: 12.5, currency: "EUR" } })).toBe("€12.50");
});

test("no cost, an unknown currency code, and a window of unknown size", () => {
  expect(costText({ used: 1, size: 2, cost: null })).toBe("");
  expect(costText({ used: 1, size: 2, cost: { amount: 3, currency: "credits" } })).toBe(
    "3.0000 credits",
  );
  expect(usedShare({ used: 5, size: 0, cost: null })).toBe(0);
  expect(usedShare({ used: 9, size: 4, cost: null })).toBe(1);
});
