/**
 * Reconnect delays: exponential with full jitter, so phones that lose the hub together do not
 * come back together. The same bounds as the worker's link (docs/architecture.md).
 */

/** The first retry waits at most this long: quick enough to hide a blip. */
export const BACKOFF_MIN_MS = 250;
/** No retry waits longer: a hub that comes back is found within this. */
export const BACKOFF_MAX_MS = 15_000;

/** The delay before retry number `attempt` (0 for the first), in milliseconds. */
export function backoffDelay(attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** Math.min(attempt, 16));
  return Math.floor(random() * ceiling);
}
