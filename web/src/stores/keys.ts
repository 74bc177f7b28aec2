/** Idempotency keys: the same on every retry of one prompt or answer, so the hub drops repeats. */
export function newKey(): string {
  // randomUUID exists only in secure contexts; a phone on http://<lan address> is not one.
  if (typeof crypto.randomUUID === "function" && globalThis.isSecureContext !== false) {
    return crypto.randomUUID();
  }
  const b = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}
