/** usePageVisible: follows visibilitychange while its scope lives, and stops listening after. */
import { expect, test } from "bun:test";
import { effectScope } from "vue";
import { useDom } from "../testing/dom.ts";
import { usePageVisible } from "./visible.ts";

useDom();

test("hidden and shown again are followed; a disposed scope no longer listens", () => {
  let state = "visible";
  Object.defineProperty(document, "visibilityState", { configurable: true, get: () => state });
  const scope = effectScope();
  const visible = scope.run(() => usePageVisible())!;
  expect(visible.value).toBe(true);
  state = "hidden";
  document.dispatchEvent(new Event("visibilitychange"));
  expect(visible.value).toBe(false);
  scope.stop();
  state = "visible";
  document.dispatchEvent(new Event("visibilitychange"));
  expect(visible.value).toBe(false);
  delete (document as { visibilityState?: string }).visibilityState;
});
