/** Ids and secrets. */

/** A new id: time-ordered, random (UUIDv7). */
export const newId = (): string => Bun.randomUUIDv7();

/** A bearer secret: 32 random bytes, base64url (43 characters). */
export function newSecret(): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64url");
}

/**
 * The stored form of a bearer secret. SHA-256 is enough here: the secrets are 256 random bits,
 * so there is nothing to guess; passwords (chosen by people) use Argon2id instead.
 */
export function hashSecret(secret: string): string {
  return new Bun.CryptoHasher("sha256").update(secret).digest("base64url");
}
