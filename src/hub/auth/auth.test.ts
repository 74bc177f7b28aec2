/**
 * AuthService on the real hub: `bun server.ts` on a temporary data folder, called as a browser
 * calls it (Connect over fetch with a cookie jar), with its database file opened beside it to
 * check what is stored: Argon2id password hashes, and only hashes of session and link tokens.
 */
import { Database } from "bun:sqlite";
import { afterEach, describe, expect, test } from "bun:test";
import { Code, ConnectError } from "@connectrpc/connect";
import { join } from "node:path";
import { AuthService } from "../../gen/switchboard/v1/auth_pb.ts";
import { Cleanups } from "../../testing/procs.ts";
import {
  browser,
  liveSocket,
  startHub,
  until,
  type HubRun,
  type HubRunOptions,
} from "../../testing/hub.ts";
import { hashSecret } from "../store/ids.ts";
import { SESSION_COOKIE } from "./sessions.ts";
import { deviceNameFrom } from "./service.ts";

const cleanups = new Cleanups();
afterEach(() => cleanups.runAll());

const PASSWORD = "correct horse battery staple";
const ANDROID_CHROME =
  "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) " +
  "Chrome/126.0.0.0 Mobile Safari/537.36";
const IPHONE_SAFARI =
  "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) " +
  "Version/17.5 Mobile/15E148 Safari/604.1";

/** Starts a hub (no local worker: these tests need none) that is killed after the test. */
async function hub(opts: HubRunOptions = {}): Promise<HubRun> {
  const dataDir = opts.dataDir ?? cleanups.scratch("auth");
  const h = await startHub({ args: ["--no-local-worker"], ...opts, dataDir });
  cleanups.add(() => h.kill());
  return h;
}

/** A hub whose owner "Ana" was set up from a browser ("laptop"), signed in. */
async function hubWithOwner(opts: HubRunOptions = {}) {
  const h = await hub(opts);
  const laptop = browser(h.url);
  const auth = laptop.client(AuthService);
  const signIn = await auth.setup({
    token: h.setupToken!,
    name: "Ana",
    password: PASSWORD,
    deviceName: "laptop",
  });
  return { h, laptop, auth, owner: signIn.user!, device: signIn.device! };
}

/** The error a call fails with (the test fails when it succeeds). */
async function failure(call: Promise<unknown>): Promise<ConnectError> {
  try {
    await call;
  } catch (err) {
    return ConnectError.from(err);
  }
  throw new Error("the call succeeded");
}

async function expectCode(call: Promise<unknown>, code: Code): Promise<ConnectError> {
  const err = await failure(call);
  expect(Code[err.code]).toBe(Code[code]);
  return err;
}

/** The hub's database, opened beside the running process (WAL allows it). */
function openDb(h: HubRun, readonly = true): Database {
  const db = new Database(join(h.dataDir, "hub.db"), readonly ? { readonly: true } : {});
  db.run("PRAGMA busy_timeout = 5000");
  return db;
}

/** A unary call as plain JSON over fetch, to see the raw HTTP answer. */
function rawCall(h: HubRun, method: string, body: unknown, headers: Record<string, string> = {}) {
  return fetch(`${h.url}/api/switchboard.v1.AuthService/${method}`, {
    method: "POST",
    headers: { "content-type": "application/json", origin: h.url, ...headers },
    body: JSON.stringify(body),
  });
}

describe("setup", () => {
  test("the printed token creates the owner once; a wrong token is refused", async () => {
    const h = await hub();
    expect(h.setupToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(h.stdout()).toContain(`${h.url}/setup#${h.setupToken}`);
    const b = browser(h.url);
    const auth = b.client(AuthService);
    expect((await auth.getSetupState({})).needsSetup).toBe(true);

    const wrong = await expectCode(
      auth.setup({ token: "A".repeat(43), name: "Ana", password: PASSWORD }),
      Code.Unauthenticated,
    );
    expect(wrong.rawMessage).toBe("this setup link is unknown, used or expired");
    // A bad password is refused before the token is spent: the same link still works after.
    await expectCode(
      auth.setup({ token: h.setupToken!, name: "Ana", password: "short" }),
      Code.InvalidArgument,
    );
    expect((await auth.getSetupState({})).needsSetup).toBe(true);
    expect(b.jar.cookies.size).toBe(0);

    const res = await auth.setup({
      token: h.setupToken!,
      name: "  Ana  ",
      password: PASSWORD,
      deviceName: "laptop",
    });
    expect(res.user).toMatchObject({ name: "Ana", isOwner: true });
    expect(res.device).toMatchObject({ name: "laptop", current: true });
    expect(b.jar.cookies.get(SESSION_COOKIE)).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const me = await auth.getMe({});
    expect(me.user?.id).toBe(res.user!.id);
    expect(me.device?.id).toBe(res.device!.id);
    expect((await auth.getSetupState({})).needsSetup).toBe(false);

    // Neither the same link nor a second account through setup.
    const again = browser(h.url).client(AuthService);
    await expectCode(
      again.setup({ token: h.setupToken!, name: "Eve", password: PASSWORD }),
      Code.FailedPrecondition,
    );

    // Stored: an Argon2id hash of the password; only SHA-256 of the link and session tokens.
    const db = openDb(h);
    try {
      const users = db
        .query("SELECT name, password_hash AS hash, is_owner AS owner FROM users")
        .all() as {
        name: string;
        hash: string;
        owner: number;
      }[];
      expect(users).toHaveLength(1);
      expect(users[0]!.name).toBe("Ana");
      expect(users[0]!.owner).toBe(1);
      expect(users[0]!.hash).toStartWith("$argon2id$");
      expect(await Bun.password.verify(PASSWORD, users[0]!.hash)).toBe(true);
      const ticket = db
        .query("SELECT token_hash AS hash, used_at AS usedAt FROM tickets WHERE kind = 'setup'")
        .get() as { hash: string; usedAt: number | null };
      expect(ticket.hash).toBe(hashSecret(h.setupToken!));
      expect(ticket.usedAt).toBeNumber();
      const cookie = b.jar.cookies.get(SESSION_COOKIE)!;
      const device = db.query("SELECT token_hash AS hash FROM devices").get() as { hash: string };
      expect(device.hash).toBe(hashSecret(cookie));
      const dump =
        JSON.stringify(db.query("SELECT * FROM devices").all()) +
        JSON.stringify(db.query("SELECT * FROM tickets").all());
      expect(dump).not.toContain(cookie);
      expect(dump).not.toContain(h.setupToken!);
    } finally {
      db.close();
    }
  });

  test("each start prints a new link and voids the last; none once the owner exists", async () => {
    const first = await hub();
    const oldToken = first.setupToken!;
    await first.stop();
    const second = await hub({ dataDir: first.dataDir, port: first.port });
    expect(second.setupToken).not.toBeNull();
    expect(second.setupToken).not.toBe(oldToken);
    const auth = browser(second.url).client(AuthService);
    await expectCode(
      auth.setup({ token: oldToken, name: "Ana", password: PASSWORD }),
      Code.Unauthenticated,
    );
    await auth.setup({ token: second.setupToken!, name: "Ana", password: PASSWORD });
    await second.stop();

    const third = await hub({ dataDir: first.dataDir, port: first.port });
    expect(third.setupToken).toBeNull();
    expect(third.stdout()).not.toContain("/setup#");
    expect((await browser(third.url).client(AuthService).getSetupState({})).needsSetup).toBe(false);
  });

  test("a restart keeps accounts and device sessions", async () => {
    const { h, laptop, owner } = await hubWithOwner();
    await h.stop();
    const again = await hub({ dataDir: h.dataDir, port: h.port });
    expect(again.url).toBe(h.url);
    // The laptop's cookie still signs it in.
    const me = await laptop.client(AuthService).getMe({});
    expect(me.user?.id).toBe(owner.id);
    // And the password still works from a new browser.
    const res = await browser(again.url)
      .client(AuthService)
      .login({ name: "Ana", password: PASSWORD, deviceName: "desk" });
    expect(res.user?.id).toBe(owner.id);
  });
});

describe("login", () => {
  test("the right password signs in; a wrong one and an unknown name get the same answer", async () => {
    const { h, owner } = await hubWithOwner();
    const phone = browser(h.url);
    const auth = phone.client(AuthService);

    const wrong = await expectCode(
      auth.login({ name: "Ana", password: "not the password" }),
      Code.Unauthenticated,
    );
    const unknown = await expectCode(
      auth.login({ name: "Nobody", password: PASSWORD }),
      Code.Unauthenticated,
    );
    expect(wrong.rawMessage).toBe("wrong name or password");
    expect(unknown.rawMessage).toBe(wrong.rawMessage);
    expect(phone.jar.cookies.size).toBe(0);

    // Names match without regard to case; an empty device name comes from the User-Agent.
    const res = await auth.login(
      { name: " ana ", password: PASSWORD, deviceName: "" },
      { headers: { "user-agent": ANDROID_CHROME } },
    );
    expect(res.user).toMatchObject({ id: owner.id, name: "Ana", isOwner: true });
    expect(res.device).toMatchObject({
      name: "Chrome on Android",
      userAgent: ANDROID_CHROME,
      current: true,
    });
    expect((await auth.getMe({})).device?.id).toBe(res.device!.id);
  });

  test("an unknown name takes as long as a wrong password", async () => {
    const { h } = await hubWithOwner();
    const auth = browser(h.url).client(AuthService);
    const timed = async (name: string) => {
      const t = performance.now();
      await expectCode(auth.login({ name, password: "not the password" }), Code.Unauthenticated);
      return performance.now() - t;
    };
    // Four of each stays under the ten attempts a minute an address gets.
    const wrong: number[] = [];
    const unknown: number[] = [];
    for (let i = 0; i < 4; i++) {
      wrong.push(await timed("Ana"));
      unknown.push(await timed(`nobody-${i}`));
    }
    wrong.sort((a, b) => a - b);
    // Without the dummy verification an unknown name answers in about a millisecond, against
    // Argon2's tens to hundreds.
    expect(Math.min(...unknown)).toBeGreaterThan(wrong[1]! * 0.4);
  });

  test("the 11th attempt in a minute from one address is refused", async () => {
    const { h } = await hubWithOwner();
    const auth = browser(h.url).client(AuthService);
    for (let i = 0; i < 10; i++) {
      await expectCode(
        auth.login({ name: `guess-${i}`, password: "not it at all" }),
        Code.Unauthenticated,
      );
    }
    const err = await expectCode(
      auth.login({ name: "Ana", password: PASSWORD }),
      Code.ResourceExhausted,
    );
    expect(err.rawMessage).toMatch(/^too many attempts; try again in \d+ s$/);
  });

  test("the 11th attempt in a minute on one name is refused, whichever address", async () => {
    // Listening on :: takes IPv4 (::ffff:127.0.0.1) and IPv6 (::1): two client addresses.
    const { h } = await hubWithOwner({ args: ["--no-local-worker", "--host", "::"] });
    const v4 = browser(h.url).client(AuthService);
    const v6 = browser(`http://[::1]:${h.port}`).client(AuthService);
    for (let i = 0; i < 5; i++) {
      await expectCode(v4.login({ name: "Ana", password: "not it at all" }), Code.Unauthenticated);
      await expectCode(v6.login({ name: "ana", password: "not it at all" }), Code.Unauthenticated);
    }
    // Six attempts from ::1 is under its address limit, but "Ana" has had ten.
    await expectCode(v6.login({ name: "ANA", password: PASSWORD }), Code.ResourceExhausted);
    // Another name from the same address is still answered.
    await expectCode(v6.login({ name: "Ben", password: "not it at all" }), Code.Unauthenticated);
  });

  test("the session cookie is HttpOnly, SameSite=Strict, Path=/, and cleared by logout", async () => {
    const { h } = await hubWithOwner();
    const res = await rawCall(h, "Login", { name: "Ana", password: PASSWORD });
    expect(res.status).toBe(200);
    const set = res.headers.getSetCookie();
    expect(set).toHaveLength(1);
    const attrs = set[0]!.split(";").map((s) => s.trim());
    const [pair, ...rest] = attrs;
    const token = pair!.slice(`${SESSION_COOKIE}=`.length);
    expect(pair).toStartWith(`${SESSION_COOKIE}=`);
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(rest).toContain("HttpOnly");
    expect(rest).toContain("SameSite=Strict");
    expect(rest).toContain("Path=/");
    expect(rest.find((a) => a.startsWith("Max-Age="))).toMatch(/^Max-Age=[1-9]\d*$/);
    // Plain http here, so not Secure (a browser would drop it).
    expect(rest).not.toContain("Secure");
    const body = (await res.json()) as { user: { name: string }; device: { current: boolean } };
    expect(body.user.name).toBe("Ana");
    expect(body.device.current).toBe(true);

    const cookie = `${SESSION_COOKIE}=${token}`;
    expect((await rawCall(h, "GetMe", {}, { cookie })).status).toBe(200);
    const out = await rawCall(h, "Logout", {}, { cookie });
    expect(out.status).toBe(200);
    const cleared = out.headers.getSetCookie()[0]!;
    expect(cleared).toStartWith(`${SESSION_COOKIE}=;`);
    expect(cleared).toContain("Max-Age=0");
    const after = await rawCall(h, "GetMe", {}, { cookie });
    expect(after.status).toBe(401);
    expect(((await after.json()) as { code: string }).code).toBe("unauthenticated");
  });
});

test("calls other than the sign-in ones need a session", async () => {
  const { h } = await hubWithOwner();
  const auth = browser(h.url).client(AuthService);
  await expectCode(auth.getMe({}), Code.Unauthenticated);
  await expectCode(auth.listDevices({}), Code.Unauthenticated);
  await expectCode(auth.createPairing({}), Code.Unauthenticated);
  await expectCode(auth.createInvite({}), Code.Unauthenticated);
  await expectCode(auth.listUsers({}), Code.Unauthenticated);
  await expectCode(auth.logout({}), Code.Unauthenticated);
  await expectCode(
    auth.changePassword({ oldPassword: PASSWORD, newPassword: "x".repeat(9) }),
    Code.Unauthenticated,
  );
  // A made-up cookie is no session either.
  const forged = await rawCall(h, "GetMe", {}, { cookie: `${SESSION_COOKIE}=${"A".repeat(43)}` });
  expect(forged.status).toBe(401);
  // The open ones answer.
  expect((await auth.getSetupState({})).needsSetup).toBe(false);
});

test("devices: the list marks the current one; revoking ends its cookie and live socket", async () => {
  const { h, laptop, auth, device: laptopDevice } = await hubWithOwner();
  const phone = browser(h.url);
  const phoneAuth = phone.client(AuthService);
  const signIn = await phoneAuth.login(
    { name: "Ana", password: PASSWORD },
    { headers: { "user-agent": IPHONE_SAFARI } },
  );
  const phoneDevice = signIn.device!;
  expect(phoneDevice.name).toBe("Safari on iPhone");
  const socket = await liveSocket(h.url, phone.jar);
  cleanups.add(() => socket.close());

  const list = (await auth.listDevices({})).devices;
  expect(list.map((d) => d.id).sort()).toEqual([laptopDevice.id, phoneDevice.id].sort());
  expect(list.find((d) => d.id === laptopDevice.id)?.current).toBe(true);
  expect(list.find((d) => d.id === phoneDevice.id)).toMatchObject({
    current: false,
    name: "Safari on iPhone",
    userAgent: IPHONE_SAFARI,
  });
  const fromPhone = (await phoneAuth.listDevices({})).devices;
  expect(fromPhone.find((d) => d.current)?.id).toBe(phoneDevice.id);

  await expectCode(
    auth.revokeDevice({ deviceId: "0190d7a0-0000-7000-8000-000000000000" }),
    Code.NotFound,
  );
  await auth.revokeDevice({ deviceId: phoneDevice.id });
  await expectCode(phoneAuth.getMe({}), Code.Unauthenticated);
  const closed = (await until(() => socket.closed(), 5_000, "the phone's live socket to close"))!;
  expect(closed.code).toBe(4001);
  expect(closed.reason).toBe("this device was signed out");
  expect(socket.frames.some((f) => f.frame.case === "closing")).toBe(true);
  // The laptop is untouched and the list is down to it.
  const left = (await laptop.client(AuthService).listDevices({})).devices;
  expect(left.map((d) => d.id)).toEqual([laptopDevice.id]);
  // A new socket with the revoked cookie is refused.
  await expect(liveSocket(h.url, phone.jar)).rejects.toThrow();
});

describe("pairing", () => {
  test("a pairing link signs one more device in, once", async () => {
    const { h, auth, owner } = await hubWithOwner();
    const before = Date.now();
    const pairing = await auth.createPairing({});
    expect(pairing.path).toBe(`/pair#${pairing.token}`);
    expect(pairing.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    // Good for five minutes.
    expect(pairing.expiresAtMs).toBeGreaterThanOrEqual(before + 5 * 60_000 - 1_000);
    expect(pairing.expiresAtMs).toBeLessThanOrEqual(Date.now() + 5 * 60_000);

    const phone = browser(h.url);
    const res = await phone
      .client(AuthService)
      .redeemPairing(
        { token: pairing.token, deviceName: "" },
        { headers: { "user-agent": ANDROID_CHROME } },
      );
    expect(res.user?.id).toBe(owner.id);
    expect(res.device).toMatchObject({ name: "Chrome on Android", current: true });
    expect((await phone.client(AuthService).getMe({})).user?.name).toBe("Ana");
    expect((await auth.listDevices({})).devices).toHaveLength(2);

    const other = browser(h.url);
    const again = await expectCode(
      other.client(AuthService).redeemPairing({ token: pairing.token }),
      Code.Unauthenticated,
    );
    expect(again.rawMessage).toBe("this pairing link is unknown, used or expired");
    expect(other.jar.cookies.size).toBe(0);

    const db = openDb(h);
    try {
      const row = db
        .query("SELECT user_id AS userId, used_at AS usedAt FROM tickets WHERE token_hash = ?")
        .get(hashSecret(pairing.token)) as { userId: string; usedAt: number | null } | null;
      expect(row?.userId).toBe(owner.id);
      expect(row?.usedAt).toBeNumber();
    } finally {
      db.close();
    }
  });

  test("an expired pairing link is refused", async () => {
    const { h, auth } = await hubWithOwner();
    const pairing = await auth.createPairing({});
    const db = openDb(h, false);
    try {
      const r = db
        .query("UPDATE tickets SET expires_at = ? WHERE token_hash = ?")
        .run(Date.now() - 1, hashSecret(pairing.token));
      expect(r.changes).toBe(1);
    } finally {
      db.close();
    }
    const phone = browser(h.url);
    await expectCode(
      phone.client(AuthService).redeemPairing({ token: pairing.token }),
      Code.Unauthenticated,
    );
    expect(phone.jar.cookies.size).toBe(0);
    expect((await auth.listDevices({})).devices).toHaveLength(1);
  });
});

describe("invitations", () => {
  test("only the owner invites; the invited user picks a free name and can log in", async () => {
    const { h, auth, owner, device: ownerDevice } = await hubWithOwner();
    const invite = await auth.createInvite({});
    expect(invite.path).toBe(`/invite#${invite.token}`);
    expect(invite.expiresAtMs).toBeGreaterThan(Date.now() + 6 * 24 * 3600_000);

    const ben = browser(h.url);
    const benAuth = ben.client(AuthService);
    // A taken name (in any case) is refused and the invitation stays good.
    const taken = await expectCode(
      benAuth.acceptInvite({ token: invite.token, name: "ANA", password: PASSWORD }),
      Code.AlreadyExists,
    );
    expect(taken.rawMessage).toContain("taken");
    // A wrong token does not learn whether a name is taken.
    await expectCode(
      benAuth.acceptInvite({ token: "B".repeat(43), name: "Ana", password: PASSWORD }),
      Code.Unauthenticated,
    );
    const res = await benAuth.acceptInvite({
      token: invite.token,
      name: "Ben",
      password: "bens own password",
      deviceName: "Ben's phone",
    });
    expect(res.user).toMatchObject({ name: "Ben", isOwner: false });
    expect(res.device).toMatchObject({ name: "Ben's phone", current: true });
    expect((await benAuth.getMe({})).user?.id).toBe(res.user!.id);

    // Used once only.
    await expectCode(
      browser(h.url)
        .client(AuthService)
        .acceptInvite({ token: invite.token, name: "Cy", password: PASSWORD }),
      Code.Unauthenticated,
    );
    // A member may not invite, nor touch the owner's devices.
    await expectCode(benAuth.createInvite({}), Code.PermissionDenied);
    await expectCode(benAuth.revokeDevice({ deviceId: ownerDevice.id }), Code.NotFound);
    expect((await auth.getMe({})).device?.id).toBe(ownerDevice.id);
    // But may list users (to share with them): ids and names.
    const users = (await benAuth.listUsers({})).users;
    expect(users.map((u) => [u.id, u.name])).toEqual([
      [owner.id, "Ana"],
      [res.user!.id, "Ben"],
    ]);

    // Ben logs in elsewhere with the password he chose.
    const again = await browser(h.url)
      .client(AuthService)
      .login({ name: "ben", password: "bens own password" });
    expect(again.user?.id).toBe(res.user!.id);

    const db = openDb(h);
    try {
      const row = db
        .query("SELECT password_hash AS hash, is_owner AS owner FROM users WHERE name = 'Ben'")
        .get() as {
        hash: string;
        owner: number;
      };
      expect(row.hash).toStartWith("$argon2id$");
      expect(row.owner).toBe(0);
    } finally {
      db.close();
    }
  });
});

test("change password: the old one must match; other devices are signed out", async () => {
  const { h, auth, laptop } = await hubWithOwner();
  const phone = browser(h.url);
  await phone.client(AuthService).login({ name: "Ana", password: PASSWORD });
  const socket = await liveSocket(h.url, phone.jar);
  cleanups.add(() => socket.close());
  const NEW = "a brand new passphrase";

  const wrong = await expectCode(
    auth.changePassword({ oldPassword: "not the password", newPassword: NEW }),
    Code.PermissionDenied,
  );
  expect(wrong.rawMessage).toBe("the current password is wrong");
  await expectCode(
    auth.changePassword({ oldPassword: PASSWORD, newPassword: "short" }),
    Code.InvalidArgument,
  );
  // Nothing changed so far.
  expect((await phone.client(AuthService).getMe({})).user?.name).toBe("Ana");

  await auth.changePassword({ oldPassword: PASSWORD, newPassword: NEW });
  // This device stays in; the phone is out, socket and all.
  expect((await laptop.client(AuthService).getMe({})).user?.name).toBe("Ana");
  await expectCode(phone.client(AuthService).getMe({}), Code.Unauthenticated);
  const closed = (await until(() => socket.closed(), 5_000, "the phone's live socket to close"))!;
  expect(closed.code).toBe(4001);
  expect((await auth.listDevices({})).devices).toHaveLength(1);

  const other = browser(h.url).client(AuthService);
  await expectCode(other.login({ name: "Ana", password: PASSWORD }), Code.Unauthenticated);
  expect((await other.login({ name: "Ana", password: NEW })).user?.name).toBe("Ana");
});

test("names, passwords and device names are checked with clear errors", async () => {
  const h = await hub();
  const auth = browser(h.url).client(AuthService);
  const setup = (name: string, password: string, deviceName = "") =>
    auth.setup({ token: h.setupToken!, name, password, deviceName });
  const cases: [Promise<unknown>, string][] = [
    [setup("   ", PASSWORD), "name is empty"],
    [setup("x".repeat(65), PASSWORD), "name is longer than 64 characters"],
    [setup("An\na", PASSWORD), "name has control characters"],
    [setup("Ana\u202e", PASSWORD), "name has invisible or direction-changing characters"],
    [setup("Ana", "1234567"), "password is shorter than 8 characters"],
    [setup("Ana", "x".repeat(1025)), "password is longer than 1024 characters"],
    [setup("Ana", PASSWORD, "d".repeat(101)), "device name is longer than 100 characters"],
    [setup("Ana", PASSWORD, "tab\there"), "device name has control characters"],
    [
      auth.login({ name: "Ana", password: "x".repeat(5000) }),
      "password is longer than 1024 characters",
    ],
  ];
  for (const [call, message] of cases) {
    const err = await expectCode(call, Code.InvalidArgument);
    expect(err.rawMessage).toBe(message);
  }
  // The limits themselves pass: a 64-character name, an 8- and a 1024-character password.
  const res = await setup("n".repeat(64), "x".repeat(1024), "d".repeat(100));
  expect(res.user?.name).toBe("n".repeat(64));
  expect(res.device?.name).toBe("d".repeat(100));
  expect(
    (
      await browser(h.url)
        .client(AuthService)
        .login({ name: "n".repeat(64), password: "x".repeat(1024) })
    ).user?.id,
  ).toBe(res.user!.id);
});

test("cross-site calls are refused before any handler runs", async () => {
  const h = await hub();
  const evil = browser(h.url, { origin: "https://evil.example" }).client(AuthService);
  await expectCode(evil.getSetupState({}), Code.PermissionDenied);
  await expectCode(
    evil.setup({ token: h.setupToken!, name: "Mallory", password: PASSWORD }),
    Code.PermissionDenied,
  );
  // The link was not spent by the refused call.
  const res = await browser(h.url)
    .client(AuthService)
    .setup({ token: h.setupToken!, name: "Ana", password: PASSWORD });
  expect(res.user?.name).toBe("Ana");
  await expectCode(evil.login({ name: "Ana", password: PASSWORD }), Code.PermissionDenied);
});

test("requests a plain HTML form could send are not Connect calls", async () => {
  const { h } = await hubWithOwner();
  const res = await fetch(`${h.url}/api/switchboard.v1.AuthService/Login`, {
    method: "POST",
    headers: { "content-type": "text/plain" },
    body: JSON.stringify({ name: "Ana", password: PASSWORD }),
  });
  expect(res.status).toBe(415);
  expect(res.headers.getSetCookie()).toEqual([]);
  const form = await fetch(`${h.url}/api/switchboard.v1.AuthService/Login`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: `name=Ana&password=${encodeURIComponent(PASSWORD)}`,
  });
  expect(form.status).toBe(415);
});

test("a browser that signs in again ends its previous device session", async () => {
  const { h, auth, device } = await hubWithOwner();
  const invite = await auth.createInvite({});
  const shared = browser(h.url);
  const sharedAuth = shared.client(AuthService);
  await sharedAuth.login({ name: "Ana", password: PASSWORD, deviceName: "shared pc" });
  const before = shared.jar.cookies.get(SESSION_COOKIE)!;
  await sharedAuth.acceptInvite({ token: invite.token, name: "Ben", password: PASSWORD });
  expect((await sharedAuth.getMe({})).user?.name).toBe("Ben");
  // Ana's "shared pc" session is gone, not left behind in her list.
  expect((await auth.listDevices({})).devices.map((d) => d.id)).toEqual([device.id]);
  expect((await rawCall(h, "GetMe", {}, { cookie: `${SESSION_COOKIE}=${before}` })).status).toBe(
    401,
  );
});

describe("deviceNameFrom", () => {
  test.each([
    ["Chrome on Android", ANDROID_CHROME],
    ["Safari on iPhone", IPHONE_SAFARI],
    [
      "Edge on Windows",
      "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0",
    ],
    ["Firefox on Linux", "Mozilla/5.0 (X11; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0"],
    [
      "Safari on macOS",
      "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15",
    ],
    [
      "Chrome on iPhone",
      "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/126.0 Mobile/15E148 Safari/604.1",
    ],
    ["curl", "curl/8.5.0"],
    ["Unknown device", ""],
  ])("%s", (name, ua) => {
    expect(deviceNameFrom(ua)).toBe(name);
  });
});
