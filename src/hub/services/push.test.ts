import { expect, test } from "bun:test";
import { Code, ConnectError } from "@connectrpc/connect";
import { checkEndpoint, isPrivateHost } from "./push.ts";

const refused = (raw: string, loopbackHttp = false): Code | null => {
  try {
    checkEndpoint(raw, loopbackHttp);
    return null;
  } catch (e) {
    return (e as ConnectError).code;
  }
};

test("push endpoints: public https names pass; local and private addresses are refused", () => {
  expect(refused("https://fcm.example.com/send/abc")).toBeNull();
  expect(refused("https://93.184.216.34/push")).toBeNull();
  expect(refused("https://[2606:4700::1111]/push")).toBeNull();
  for (const raw of [
    "https://localhost/push",
    "https://api.localhost/push",
    "https://127.0.0.1/push",
    "https://0x7f.1/push", // the URL parser makes this 127.0.0.1
    "https://2130706433/push", // and this
    "https://10.1.2.3/push",
    "https://172.20.0.1/push",
    "https://192.168.1.1/push",
    "https://169.254.169.254/latest/meta-data",
    "https://100.64.0.1/push",
    "https://0.0.0.0/push",
    "https://198.18.0.1/push",
    "https://224.0.0.251/push", // multicast
    "https://255.255.255.255/push",
    "https://[ff02::1]/push",
    "https://[::1]/push",
    "https://[::]/push",
    "https://[fd00::1]/push",
    "https://[fe80::1]/push",
    "https://[::ffff:127.0.0.1]/push",
    "https://[::ffff:10.0.0.1]/push",
    "http://fcm.example.com/push",
    "http://127.0.0.1:9/push", // plain http needs the test switch
    "https://user:pw@fcm.example.com/push",
    "ftp://fcm.example.com/push",
  ]) {
    expect({ raw, code: refused(raw) }).toEqual({ raw, code: Code.InvalidArgument });
  }
  // The tests' fake push service: plain http on loopback, only with the switch.
  expect(refused("http://127.0.0.1:9/push", true)).toBeNull();
  expect(refused("http://10.0.0.1/push", true)).toBe(Code.InvalidArgument);
});

test("isPrivateHost leaves public names and addresses alone", () => {
  for (const h of [
    "updates.push.services.mozilla.com",
    "8.8.8.8",
    "172.32.0.1",
    "198.20.0.1",
    "223.255.255.1",
    "[2001:db8::1]",
  ])
    expect({ h, private: isPrivateHost(h) }).toEqual({ h, private: false });
});
