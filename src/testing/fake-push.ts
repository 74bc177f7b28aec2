/**
 * A fake Web Push service for tests: plain http on loopback (the hub accepts that only with
 * SWITCHBOARD_PUSH_LOOPBACK_HTTP=1), recording every request and answering each path with the
 * status it is told (201 by default). And a fake browser subscription: its own P-256 key pair
 * and auth secret, which decrypts what it is sent (RFC 8291, aes128gcm) and checks the VAPID
 * header (RFC 8292), all with crypto.subtle, independently of the hub's web-push.
 */

export interface PushRequest {
  path: string;
  headers: Headers;
  body: Uint8Array;
}

export async function fakePushService() {
  const requests: PushRequest[] = [];
  const status = new Map<string, number>();
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      const path = new URL(req.url).pathname;
      requests.push({ path, headers: req.headers, body: new Uint8Array(await req.arrayBuffer()) });
      const code = status.get(path) ?? 201;
      return new Response(code >= 400 ? `push service says ${code}` : null, { status: code });
    },
  });
  const origin = `http://127.0.0.1:${server.port}`;
  return {
    origin,
    requests,
    /** The requests made to one path, in arrival order. */
    to: (path: string) => requests.filter((r) => r.path === path),
    /** Answers requests to `path` with `code` from now on. */
    answer: (path: string, code: number) => void status.set(path, code),
    stop: () => server.stop(true),
  };
}

const enc = new TextEncoder();
const b64url = (b: ArrayBuffer | Uint8Array) => Buffer.from(b as ArrayBuffer).toString("base64url");
const concat = (...parts: Uint8Array[]) => new Uint8Array(Buffer.concat(parts));

/** A browser's PushSubscription: endpoint, keys, and what only the browser can do with them. */
export async function pushSubscriber(endpoint: string) {
  const pair = (await crypto.subtle.generateKey({ name: "ECDH", namedCurve: "P-256" }, true, [
    "deriveBits",
  ])) as CryptoKeyPair;
  const uaPublic = new Uint8Array(await crypto.subtle.exportKey("raw", pair.publicKey));
  const authSecret = crypto.getRandomValues(new Uint8Array(16));
  return {
    endpoint,
    p256dh: b64url(uaPublic),
    auth: b64url(authSecret),
    /** Decrypts an aes128gcm body (RFC 8188 framing, RFC 8291 keys) to its text. */
    async decrypt(message: Uint8Array): Promise<string> {
      const body = new Uint8Array(message);
      const salt = body.slice(0, 16);
      const rs = new DataView(body.buffer, 16, 4).getUint32(0);
      const idLen = body[20]!;
      const asPublic = body.slice(21, 21 + idLen);
      const cipher = body.slice(21 + idLen);
      if (idLen !== 65) throw new Error(`keyid is ${idLen} bytes, not a P-256 point`);
      if (cipher.length > rs) throw new Error("more than one record");
      const asKey = await crypto.subtle.importKey(
        "raw",
        asPublic,
        { name: "ECDH", namedCurve: "P-256" },
        false,
        [],
      );
      const ecdh = new Uint8Array(
        await crypto.subtle.deriveBits({ name: "ECDH", public: asKey }, pair.privateKey, 256),
      );
      type Bytes = Uint8Array<ArrayBuffer>;
      const hkdf = async (salt: Bytes, ikm: Bytes, info: Bytes, bytes: number) => {
        const key = await crypto.subtle.importKey("raw", ikm, "HKDF", false, ["deriveBits"]);
        return new Uint8Array(
          await crypto.subtle.deriveBits(
            { name: "HKDF", hash: "SHA-256", salt, info },
            key,
            bytes * 8,
          ),
        );
      };
      // RFC 8291 §3.4: IKM from the ECDH secret and the auth secret, bound to both public keys.
      const keyInfo = concat(enc.encode("WebPush: info\0"), uaPublic, asPublic);
      const ikm = await hkdf(authSecret, ecdh, keyInfo, 32);
      // RFC 8188 §2.2-2.3: content key and nonce from the salt.
      const cek = await hkdf(salt, ikm, enc.encode("Content-Encoding: aes128gcm\0"), 16);
      const nonce = await hkdf(salt, ikm, enc.encode("Content-Encoding: nonce\0"), 12);
      const aes = await crypto.subtle.importKey("raw", cek, "AES-GCM", false, ["decrypt"]);
      const plain = new Uint8Array(
        await crypto.subtle.decrypt({ name: "AES-GCM", iv: nonce }, aes, cipher),
      );
      // The last record ends with the delimiter 0x02, then zero padding.
      let end = plain.length - 1;
      while (end >= 0 && plain[end] === 0) end--;
      if (plain[end] !== 2) throw new Error("no last-record delimiter");
      return new TextDecoder().decode(plain.subarray(0, end));
    },
  };
}

export type PushSubscriber = Awaited<ReturnType<typeof pushSubscriber>>;

export interface VapidClaims {
  aud: string;
  exp: number;
  sub: string;
}

/**
 * Checks an `Authorization: vapid t=<JWT>, k=<key>` header: k is `publicKey` and the JWT is
 * ES256-signed by it. Returns the JWT's claims.
 */
export async function verifyVapid(authorization: string, publicKey: string): Promise<VapidClaims> {
  const m = /^vapid t=([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+), k=([A-Za-z0-9_-]+)$/.exec(
    authorization,
  );
  if (!m) throw new Error(`not a vapid Authorization: ${authorization}`);
  const [, jwt, k] = m;
  if (k !== publicKey) throw new Error(`k=${k} is not the hub's key ${publicKey}`);
  const [head, claims, sig] = jwt!.split(".") as [string, string, string];
  const header = JSON.parse(Buffer.from(head, "base64url").toString()) as { alg: string };
  if (header.alg !== "ES256") throw new Error(`alg ${header.alg}`);
  const key = await crypto.subtle.importKey(
    "raw",
    Buffer.from(publicKey, "base64url"),
    { name: "ECDSA", namedCurve: "P-256" },
    false,
    ["verify"],
  );
  const ok = await crypto.subtle.verify(
    { name: "ECDSA", hash: "SHA-256" },
    key,
    Buffer.from(sig, "base64url"),
    enc.encode(`${head}.${claims}`),
  );
  if (!ok) throw new Error("the JWT's signature does not verify with the hub's key");
  return JSON.parse(Buffer.from(claims, "base64url").toString()) as VapidClaims;
}
