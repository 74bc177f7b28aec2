/**
 * Hostile markdown comes out inert: no script, frame, form, handler, style, script URL or
 * remote image survives, whether it came as raw HTML, a markdown link or an image.
 */
import { expect, test } from "bun:test";
import { mount } from "@vue/test-utils";
import { nextTick } from "vue";
import { useDom } from "../testing/dom.ts";
import Markdown from "./Markdown.vue";
import { loadMarkdown, markdownRenderer } from "./markdown-loader.ts";
import { isSafeImageSource, renderMarkdown } from "./markdown.ts";

useDom();

/** The rendered HTML as a DOM to inspect. */
function dom(text: string): HTMLElement {
  const div = document.createElement("div");
  div.innerHTML = renderMarkdown(text);
  return div;
}

/** Everything that could run code or reach out in a rendered fragment. */
function assertInert(root: HTMLElement): void {
  for (const tag of ["script", "iframe", "object", "embed", "form", "style", "svg", "math"])
    expect(root.querySelector(tag)).toBeNull();
  for (const el of Array.from(root.querySelectorAll("*"))) {
    for (const attr of Array.from(el.attributes)) {
      expect(attr.name.startsWith("on")).toBe(false);
      expect(attr.name).not.toBe("style");
      expect(attr.value.trim().toLowerCase()).not.toMatch(/^(javascript|vbscript|data:text)/);
    }
  }
  for (const a of Array.from(root.querySelectorAll("a")))
    expect(a.getAttribute("href")).toMatch(/^(https?:|mailto:)/);
  for (const img of Array.from(root.querySelectorAll("img")))
    expect(isSafeImageSource(img.getAttribute("src") ?? "")).toBe(true);
}

test("ordinary markdown keeps its structure", () => {
  const root = dom("Some **bold** and `code`.\n\n- one\n- two\n\n```ts\nconst a = 1;\n```\n");
  expect(root.querySelector("strong")?.textContent).toBe("bold");
  expect(root.querySelectorAll("li")).toHaveLength(2);
  expect(root.querySelector("pre code")?.textContent).toBe("const a = 1;\n");
  expect(root.querySelector("pre code")?.getAttribute("class")).toBe("language-ts");
  assertInert(root);
});

test("raw HTML in markdown stays text: script, iframe, handlers, forms, styles", () => {
  const hostile = [
    "<script>alert(1)</script>",
    '<iframe src="https://evil.example/"></iframe>',
    '<img src=x onerror="alert(1)">',
    '<form action="https://evil.example/"><input name="q"></form>',
    '<div style="position:fixed" onclick="alert(1)">click</div>',
    "<object data='x.swf'></object><embed src='x'>",
    "<svg onload=alert(1)></svg>",
  ].join("\n\n");
  const root = dom(hostile);
  assertInert(root);
  // It is shown for what it is, as text.
  expect(root.textContent).toContain("<script>alert(1)</script>");
  expect(root.querySelector("img")).toBeNull();
  expect(root.querySelector("div")).toBeNull();
});

test("script links lose their target and keep their text", () => {
  const root = dom(
    [
      "[a](javascript:alert(1))",
      "[b](JaVaScRiPt:alert(1))",
      "[c](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
      "[d](vbscript:msgbox)",
      "[e](file:///etc/passwd)",
      "[f](/relative/path)",
      "<javascript:alert(1)>",
    ].join(" "),
  );
  assertInert(root);
  expect(root.querySelectorAll("a")).toHaveLength(0);
  expect(root.textContent).toContain("a");
  expect(root.textContent).toContain("f");
});

test("links open outside the app without an opener or referrer", () => {
  const root = dom(
    "[docs](https://example.com/docs) and https://example.org and [m](mailto:a@b.c)",
  );
  const links = Array.from(root.querySelectorAll("a"));
  expect(links.map((a) => a.getAttribute("href"))).toEqual([
    "https://example.com/docs",
    "https://example.org",
    "mailto:a@b.c",
  ]);
  for (const a of links) {
    expect(a.getAttribute("target")).toBe("_blank");
    expect(a.getAttribute("rel")).toBe("noopener noreferrer nofollow");
  }
});

test("remote images become links; inline and same-origin images stay", () => {
  const pixel =
    "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==";
  const root = dom(
    `![tracker](https://evil.example/pixel.png) ![inline](${pixel}) ![own](/icon.png) ![svg](data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=)`,
  );
  assertInert(root);
  const imgs = Array.from(root.querySelectorAll("img")).map((i) => i.getAttribute("alt"));
  expect(imgs).toEqual(["inline", "own"]);
  const link = root.querySelector("a");
  expect(link?.getAttribute("href")).toBe("https://evil.example/pixel.png");
  expect(link?.textContent).toBe("tracker");
  expect(root.textContent).toContain("svg");
});

test("headings do not break the page's outline; unknown classes are dropped", () => {
  const root = dom("# Title\n\n### Sub\n\n```evil onmouseover=x\ncode\n```");
  expect(root.querySelector("h1, h2, h3, h4, h5, h6")).toBeNull();
  expect(root.querySelector("p.md-heading.md-h1")?.textContent).toBe("Title");
  expect(root.querySelector("code")?.getAttribute("class")).toBe("language-evil");
  expect(root.querySelector("[onmouseover]")).toBeNull();
  assertInert(root);
});

test("a highlighter's output is used for fenced code, and still sanitised", () => {
  const highlighter = {
    highlight: (code: string, lang: string) =>
      lang === "ts"
        ? `<span class="hljs-keyword" onclick="x()">${code.trim()}</span><script>1</script>`
        : null,
  };
  const div = document.createElement("div");
  div.innerHTML = renderMarkdown("```ts\nconst\n```\n\n```zzz\nplain\n```", highlighter);
  expect(div.querySelector("span.hljs-keyword")?.textContent).toBe("const");
  expect(div.querySelectorAll("pre")).toHaveLength(2);
  assertInert(div);
});

test("the same text is rendered once", () => {
  const text = `memo ${Math.random()}`;
  expect(renderMarkdown(text)).toBe(renderMarkdown(text));
});

test("only this origin's paths and inline images count as safe image sources", () => {
  expect(isSafeImageSource("/api/x.png")).toBe(true);
  expect(isSafeImageSource(`${location.origin}/x.png`)).toBe(true);
  expect(isSafeImageSource("//evil.example/x.png")).toBe(false);
  expect(isSafeImageSource("/\\evil.example/x.png")).toBe(false);
  expect(isSafeImageSource("https://evil.example/x.png")).toBe(false);
  expect(isSafeImageSource("data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=")).toBe(false);
  expect(isSafeImageSource("data:text/html;base64,PHNjcmlwdD4=")).toBe(false);
  expect(isSafeImageSource("x.png")).toBe(false);
});

test("plain text until the renderer arrives, escaped as text; then markdown", async () => {
  // Test files share one process: another file may have loaded the renderer already, and then
  // there is no "before" to see (run this file alone to see it).
  const loadedBefore = markdownRenderer.value !== null;
  const text = "**bold** <img src=x onerror=alert(1)> <b>raw</b>\n\nnext";
  const w = mount(Markdown, { props: { text } });
  if (!loadedBefore) {
    expect(w.find(".markdown.plain").exists()).toBe(true);
    expect(w.find(".markdown").element.textContent).toBe(text);
    expect(w.find("img").exists()).toBe(false);
    expect(w.find("b").exists()).toBe(false);
    expect(w.find("strong").exists()).toBe(false);
  }
  await loadMarkdown();
  await nextTick();
  expect(w.find(".markdown.plain").exists()).toBe(false);
  expect(w.find("strong").text()).toBe("bold");
  expect(w.findAll("p").map((p) => p.text())).toEqual([
    "bold <img src=x onerror=alert(1)> <b>raw</b>",
    "next",
  ]);
  expect(w.find("img").exists()).toBe(false);
  expect(w.find("b").exists()).toBe(false);
  w.unmount();
});

test("a streaming message shows its latest text, rendered a few times a second", async () => {
  await loadMarkdown();
  const w = mount(Markdown, { props: { text: "one" } });
  expect(w.text()).toBe("one");
  await w.setProps({ text: "one **two**" });
  await w.setProps({ text: "one **two** three" });
  await new Promise((r) => setTimeout(r, 120));
  await w.vm.$nextTick();
  expect(w.find("strong").text()).toBe("two");
  expect(w.text()).toBe("one two three");
  w.unmount();
});
