/**
 * Who is signed in on this device, and the account's devices, pairing links and invitations.
 * The session itself is the hub's HttpOnly cookie; this store only knows what GetMe says, and
 * keeps the last answer so a cold start without network still opens on the user's data.
 */
import { defineStore } from "pinia";
import { computed, ref, shallowRef } from "vue";
import type { Device, SignInResponse, User } from "@gen/switchboard/v1/auth_pb.ts";
import { isNetworkError, isSignedOut } from "../api/errors.ts";
import { useServices } from "../services.ts";

/** unknown: not asked yet (or no network and nothing cached). */
export type AuthStatus = "unknown" | "signed-in" | "signed-out";

const ME_KEY = "me";

interface CachedMe {
  user: User;
  device: Device | null;
}

/** A link the hub made, with this page's origin in front. */
export interface OneTimeLink {
  url: string;
  token: string;
  expiresAtMs: number;
}

export const useAuthStore = defineStore("auth", () => {
  const { api, cache, live, origin } = useServices();
  const me = shallowRef<User | null>(null);
  const device = shallowRef<Device | null>(null);
  const status = ref<AuthStatus>("unknown");
  /** True when the last word came from the cache, not the hub (no network). */
  const offline = ref(false);
  const needsSetup = ref<boolean | null>(null);
  const devices = shallowRef<Device[]>([]);
  const users = shallowRef<User[]>([]);
  const isOwner = computed(() => me.value?.isOwner ?? false);
  let ready: Promise<void> | null = null;
  let checked: Promise<void> = Promise.resolve();

  /**
   * Once per page. With a cached user the app opens at once on the cached data (offline
   * first) while the hub is asked in the background (`checked`); without one, it waits for it.
   */
  function init(): Promise<void> {
    return (ready ??= (async () => {
      const cached = await cache.get<CachedMe>(ME_KEY);
      if (!cached?.user) return void (await (checked = refresh()));
      me.value = cached.user;
      device.value = cached.device;
      status.value = "signed-in";
      offline.value = true;
      live.start();
      // A failure other than "no network" or "signed out" leaves the cached state as it is.
      checked = refresh().catch(() => {});
    })());
  }

  /** Resolves once the hub's answer to init() is in (tests; whoever needs it first hand). */
  async function verified(): Promise<void> {
    await init();
    await checked;
  }

  /** Asks the hub who this device is. No network keeps what is known. */
  async function refresh(): Promise<void> {
    try {
      const r = await api.auth.getMe({});
      await signedIn(r);
    } catch (err) {
      if (isSignedOut(err)) return signedOut();
      if (!isNetworkError(err)) throw err;
      offline.value = true;
      if (me.value) live.start();
    }
  }

  async function checkSetup(): Promise<boolean> {
    needsSetup.value = (await api.auth.getSetupState({})).needsSetup;
    return needsSetup.value;
  }

  async function signedIn(r: Pick<SignInResponse, "user" | "device">): Promise<void> {
    if (!r.user) return signedOut();
    const cached = await cache.get<CachedMe>(ME_KEY);
    // Another user's data never shows to this one.
    if (cached?.user && cached.user.id !== r.user.id) await cache.clear();
    me.value = r.user;
    device.value = r.device ?? null;
    status.value = "signed-in";
    offline.value = false;
    needsSetup.value = false;
    await cache.set(ME_KEY, { user: r.user, device: r.device ?? null } satisfies CachedMe);
    live.start();
  }

  /** The session ended (here or elsewhere): forget the user's data on this device. */
  async function signedOut(): Promise<void> {
    live.stop();
    me.value = null;
    device.value = null;
    devices.value = [];
    users.value = [];
    status.value = "signed-out";
    offline.value = false;
    await cache.clear();
  }

  async function setup(token: string, name: string, password: string): Promise<void> {
    await signedIn(await api.auth.setup({ token, name, password }));
  }

  async function login(name: string, password: string): Promise<void> {
    await signedIn(await api.auth.login({ name, password }));
  }

  async function redeemPairing(token: string): Promise<void> {
    await signedIn(await api.auth.redeemPairing({ token }));
  }

  async function acceptInvite(token: string, name: string, password: string): Promise<void> {
    await signedIn(await api.auth.acceptInvite({ token, name, password }));
  }

  async function logout(): Promise<void> {
    await api.auth.logout({});
    await signedOut();
  }

  async function changePassword(oldPassword: string, newPassword: string): Promise<void> {
    await api.auth.changePassword({ oldPassword, newPassword });
  }

  async function loadDevices(): Promise<void> {
    devices.value = (await api.auth.listDevices({})).devices;
  }

  async function revokeDevice(deviceId: string): Promise<void> {
    await api.auth.revokeDevice({ deviceId });
    if (deviceId === device.value?.id) return signedOut();
    await loadDevices();
  }

  /** A one-time link (5 minutes) that signs another device in as this user. */
  async function createPairing(): Promise<OneTimeLink> {
    const r = await api.auth.createPairing({});
    return { url: origin + r.path, token: r.token, expiresAtMs: r.expiresAtMs };
  }

  /** The owner: a one-time link where someone chooses a name and password. */
  async function createInvite(): Promise<OneTimeLink> {
    const r = await api.auth.createInvite({});
    return { url: origin + r.path, token: r.token, expiresAtMs: r.expiresAtMs };
  }

  async function loadUsers(): Promise<void> {
    users.value = (await api.auth.listUsers({})).users;
  }

  return {
    me,
    device,
    status,
    offline,
    needsSetup,
    devices,
    users,
    isOwner,
    init,
    verified,
    refresh,
    checkSetup,
    setup,
    login,
    redeemPairing,
    acceptInvite,
    logout,
    signedOut,
    changePassword,
    loadDevices,
    revokeDevice,
    createPairing,
    createInvite,
    loadUsers,
  };
});
