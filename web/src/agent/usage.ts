/** How an agent's usage reads in its header: context tokens used of the window, and cost. */
import type { Usage } from "./session.ts";

const compact = new Intl.NumberFormat("en", { notation: "compact", maximumFractionDigits: 1 });

/** "12.3K / 200K tokens". */
export function tokensText(u: Usage): string {
  return `${compact.format(u.used)} / ${compact.format(u.size)} tokens`;
}

/** The share of the context window used, 0 to 1 (0 when the window size is unknown). */
export function usedShare(u: Usage): number {
  return u.size > 0 ? Math.min(1, Math.max(0, u.used / u.size)) : 0;
}

/** "$0.03" or "0.03 XYZ" for a currency the browser does not know; "" without a cost. */
export function costText(u: Usage): string {
  if (!u.cost) return "";
  const { amount, currency } = u.cost;
  try {
    return new Intl.NumberFormat("en", {
      style: "currency",
      currency,
      // Cents hide what a short turn costs; four digits show it.
      maximumFractionDigits: amount < 1 ? 4 : 2,
    }).format(amount);
  } catch {
    // Not an ISO 4217 code (an agent's own unit): the number and the code as given.
    return `${amount.toFixed(4)} ${currency}`;
  }
}
