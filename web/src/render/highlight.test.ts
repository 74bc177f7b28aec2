/** Code shows plain at once and highlighted once the lazy chunk is in; languages by name. */
import { expect, test } from "bun:test";
import { mount } from "@vue/test-utils";
import { nextTick } from "vue";
import { useDom } from "../testing/dom.ts";
import Code from "./Code.vue";
import { highlighter, languageOf, loadHighlighter, MAX_HIGHLIGHT_CHARS } from "./highlight.ts";

useDom();

test("languages come from file names; unknown ones are none", () => {
  expect(languageOf("src/a.ts")).toBe("typescript");
  expect(languageOf("x/App.vue")).toBe("xml");
  expect(languageOf("Cargo.toml")).toBe("ini");
  expect(languageOf("README")).toBe("");
  expect(languageOf("data.bin")).toBe("");
});

test("plain first, highlighted when the highlighter arrives; escaped either way", async () => {
  // Test files share one process: another file's code may have loaded the chunk already, and
  // then there is no "before" to see (run this file alone to see it).
  const loadedBefore = highlighter.value !== null;
  const code = 'const a = "<b>";\n';
  const w = mount(Code, { props: { code, path: "a.ts", numbered: true } });
  if (!loadedBefore) {
    expect(w.find(".body span").exists()).toBe(false);
    expect(w.find(".body").text()).toBe(code.trimEnd());
  }
  await loadHighlighter();
  await nextTick();
  expect(w.find(".body .hljs-keyword").text()).toBe("const");
  expect(w.find(".body .hljs-string").text()).toBe('"<b>"');
  expect(w.find(".body b").exists()).toBe(false);
  expect(w.find(".gutter").text()).toBe("1");
});

test("unknown languages and very long code stay plain", async () => {
  const h = await loadHighlighter();
  expect(h.highlight("x", "no-such-language")).toBeNull();
  expect(h.highlight("x".repeat(MAX_HIGHLIGHT_CHARS + 1), "typescript")).toBeNull();
  expect(h.highlight("let x = 1", "ts")).toContain("hljs-keyword");
});
