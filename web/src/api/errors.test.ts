/** What a person is told when a call fails. */
import { expect, test } from "bun:test";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import { AuthService } from "@gen/switchboard/v1/auth_pb.ts";
import { errorMessage, isNetworkError, isSignedOut } from "./errors.ts";

test("the hub's own message, without the code prefix or a stack", () => {
  const e = new ConnectError(
    "your role in this workspace does not let you prompt",
    Code.PermissionDenied,
  );
  expect(e.message).toStartWith("[permission_denied]");
  expect(errorMessage(e)).toBe("your role in this workspace does not let you prompt");
  expect(errorMessage(new ConnectError("", Code.ResourceExhausted))).toBe(
    "Too many attempts; wait a little and retry.",
  );
  expect(errorMessage("?")).toBe("Something went wrong.");
  expect(isSignedOut(new ConnectError("sign in first", Code.Unauthenticated))).toBe(true);
});

test("a fetch that never reached the hub reads as a connection problem", async () => {
  const client = createClient(
    AuthService,
    createConnectTransport({
      baseUrl: "http://127.0.0.1:9/api",
      fetch: (async () => {
        throw new TypeError("Failed to fetch");
      }) as unknown as typeof fetch,
    }),
  );
  const err = await client.getMe({}).catch((e: unknown) => e);
  expect(isNetworkError(err)).toBe(true);
  expect(errorMessage(err)).toBe("The hub cannot be reached. Check the connection and retry.");
});
