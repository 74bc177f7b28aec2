/**
 * Rate limits for guessable doors (login, pairing, invitations, worker registration): a fixed
 * number of attempts per window per key, kept in memory. A restart forgets them, which only
 * ever gives an attacker one more window.
 */
import { Code, ConnectError } from "@connectrpc/connect";

export interface Limit {
  /** Attempts allowed in one window. */
  max: number;
  windowMs: number;
}

/** Ten password attempts a minute per address and per account name. */
export const LOGIN_LIMIT: Limit = { max: 10, windowMs: 60_000 };
/** One-time links are 256-bit secrets; this only stops a client hammering the hub. */
export const TICKET_LIMIT: Limit = { max: 20, windowMs: 60_000 };

/** Keys tracked at once; past this the oldest windows are dropped. */
const MAX_KEYS = 100_000;

export class RateLimiter {
  private readonly windows = new Map<string, { start: number; count: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Counts one attempt; throws `resource_exhausted` with the wait when over the limit. */
  take(key: string, limit: Limit): void {
    const now = this.now();
    let w = this.windows.get(key);
    if (!w || now - w.start >= limit.windowMs) {
      if (!w && this.windows.size >= MAX_KEYS) {
        const oldest = this.windows.keys().next().value;
        if (oldest !== undefined) this.windows.delete(oldest);
      }
      w = { start: now, count: 0 };
      this.windows.delete(key);
      this.windows.set(key, w);
    }
    w.count++;
    if (w.count > limit.max) {
      const wait = Math.ceil((w.start + limit.windowMs - now) / 1000);
      throw new ConnectError(`too many attempts; try again in ${wait} s`, Code.ResourceExhausted);
    }
  }
}
