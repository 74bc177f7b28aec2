/** The auth store: cached user at once, the hub's word after, sign-in and sign-out effects. */
import { expect, test } from "bun:test";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import { AuthService, DeviceSchema, UserSchema } from "@gen/switchboard/v1/auth_pb.ts";
import { testApp } from "../testing/app.ts";
import { useAuthStore } from "./auth.ts";
import { memoryCache } from "./cache.ts";

const ada = create(UserSchema, { id: "u1", name: "ada", isOwner: true });
const bob = create(UserSchema, { id: "u2", name: "bob" });
const phone = create(DeviceSchema, { id: "d1", name: "phone", current: true });

test("a signed-in device: GetMe fills the store, is cached, and the live socket starts", async () => {
  const t = testApp({
    routes: (r) => r.service(AuthService, { getMe: () => ({ user: ada, device: phone }) }),
  });
  const auth = t.run(() => useAuthStore());
  await auth.init();
  expect(auth.status).toBe("signed-in");
  expect(auth.me?.name).toBe("ada");
  expect(auth.isOwner).toBe(true);
  expect(auth.offline).toBe(false);
  expect(t.services.live.state).toBe("connecting");
  expect(await t.services.cache.get("me")).toMatchObject({ user: { name: "ada" } });
});

test("signed out on the hub: the store says so, the cache is emptied, the socket stops", async () => {
  const cache = memoryCache();
  await cache.set("me", { user: ada, device: phone });
  await cache.set("workspaces", [{ id: "w1" }]);
  const t = testApp({
    cache,
    routes: (r) =>
      r.service(AuthService, {
        getMe: () => {
          throw new ConnectError("sign in first", Code.Unauthenticated);
        },
      }),
  });
  const auth = t.run(() => useAuthStore());
  await auth.init();
  // The cached user shows at once; the hub's answer follows.
  expect(auth.me?.name).toBe("ada");
  await auth.verified();
  expect(auth.status).toBe("signed-out");
  expect(auth.me).toBeNull();
  expect(await cache.get("workspaces")).toBeUndefined();
  expect(t.services.live.state).toBe("stopped");
});

test("no network: the cached user stays signed in, marked offline", async () => {
  const cache = memoryCache();
  await cache.set("me", { user: ada, device: phone });
  const transport = createConnectTransport({
    baseUrl: "http://127.0.0.1:9/api",
    fetch: (async () => {
      throw new TypeError("Failed to fetch");
    }) as unknown as typeof fetch,
  });
  const t = testApp({ cache, transport });
  const auth = t.run(() => useAuthStore());
  await auth.verified();
  expect(auth.status).toBe("signed-in");
  expect(auth.offline).toBe(true);
  expect(auth.me?.name).toBe("ada");
  expect(t.services.live.state).toBe("connecting");
});

test("another user signing in on this device never sees the last one's data", async () => {
  const cache = memoryCache();
  await cache.set("me", { user: ada, device: phone });
  await cache.set("workspaces", [{ id: "w1" }]);
  const t = testApp({
    cache,
    routes: (r) =>
      r.service(AuthService, {
        login: (req) => {
          if (req.password !== "right")
            throw new ConnectError("wrong name or password", Code.Unauthenticated);
          return { user: bob, device: phone };
        },
      }),
  });
  const auth = t.run(() => useAuthStore());
  const refused = await auth.login("bob", "wrong").catch((e: unknown) => e);
  expect((refused as ConnectError).rawMessage).toBe("wrong name or password");
  expect(auth.status).toBe("unknown");
  await auth.login("bob", "right");
  expect(auth.me?.name).toBe("bob");
  expect(await cache.get("workspaces")).toBeUndefined();
  expect(await cache.get("me")).toMatchObject({ user: { id: "u2" } });
});

test("pairing and invitation links get the page's origin; revoking this device signs it out", async () => {
  let revoked = "";
  const t = testApp({
    routes: (r) =>
      r.service(AuthService, {
        getMe: () => ({ user: ada, device: phone }),
        createPairing: () => ({ path: "/pair#tok", token: "tok", expiresAtMs: 5 }),
        createInvite: () => ({ path: "/invite#inv", token: "inv", expiresAtMs: 6 }),
        listDevices: () => ({ devices: [phone] }),
        revokeDevice: (req) => ((revoked = req.deviceId), {}),
      }),
  });
  const auth = t.run(() => useAuthStore());
  await auth.init();
  expect(await auth.createPairing()).toEqual({
    url: "https://hub.example/pair#tok",
    token: "tok",
    expiresAtMs: 5,
  });
  expect((await auth.createInvite()).url).toBe("https://hub.example/invite#inv");
  await auth.loadDevices();
  expect(auth.devices.map((d) => d.name)).toEqual(["phone"]);
  await auth.revokeDevice("d1");
  expect(revoked).toBe("d1");
  expect(auth.status).toBe("signed-out");
});
