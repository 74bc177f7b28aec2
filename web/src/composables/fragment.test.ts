/** takeFragmentToken: the token read from the fragment and taken off the address bar. */
import { afterEach, expect, test } from "bun:test";
import { useDom } from "../testing/dom.ts";
import { takeFragmentToken } from "./fragment.ts";

useDom();
// The window is shared by every test file: leave it at the root it started on.
afterEach(() => history.replaceState(null, "", "/"));

test("the token is read, decoded, and gone from the address", () => {
  history.replaceState(null, "", "/invite?x=1#a%2Bb");
  expect(takeFragmentToken()).toBe("a+b");
  expect(location.pathname + location.search + location.hash).toBe("/invite?x=1");
  expect(takeFragmentToken()).toBe("");
});

test("a mangled escape is no token rather than an exception, and is taken off too", () => {
  history.replaceState(null, "", "/pair#abc%E0");
  expect(takeFragmentToken()).toBe("");
  expect(location.hash).toBe("");
});
