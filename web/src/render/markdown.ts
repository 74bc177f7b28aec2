/**
 * Markdown from agents (and prompts) as HTML that is safe to put in the page.
 *
 * Three lines of defence: markdown-it with raw HTML off (a `<script>` in the text stays text);
 * DOMPurify with an allow-list of the tags markdown-it makes; then our own walk, which applies
 * the allow-lists once more (test DOMs such as happy-dom cannot run DOMPurify's iterator, and
 * a highlighter's output passes here too) and the policy:
 * - links keep only http(s) and mailto targets and open outside the app (another tab, no
 *   opener, no referrer); any other link becomes its text;
 * - images load only from this origin or a data: image; a remote image would tell a third
 *   party that someone read the conversation, so it becomes a link to it (or its alt text);
 * - headings become styled paragraphs, so an agent's `###` cannot break the page's outline;
 * - classes survive only as highlight.js's (`hljs…`) and code fences' (`language-…`).
 * The DOM needs a window: it is looked up when first used, and without one rendering throws
 * (fail closed) instead of passing the text through unsanitised.
 */
import DOMPurify, { type DOMPurify as Purifier } from "dompurify";
import MarkdownIt from "markdown-it";
import type { Highlighter } from "./highlight.ts";

/** The tags markdown-it produces (with our heading rule) and highlight.js's spans. */
const ALLOWED_TAGS = [
  "a",
  "p",
  "br",
  "hr",
  "ul",
  "ol",
  "li",
  "blockquote",
  "pre",
  "code",
  "em",
  "strong",
  "s",
  "del",
  "table",
  "thead",
  "tbody",
  "tr",
  "th",
  "td",
  "img",
  "span",
];
const ALLOWED_ATTR = ["href", "title", "alt", "src", "class", "start"];
const LINK_OUT = /^(https?:|mailto:)/i;
const DATA_IMAGE = /^data:image\/(png|jpe?g|gif|webp|avif);base64,[a-z0-9+/=\s]*$/i;
const SAFE_CLASS = /^(hljs[\w-]*|language-[\w+#.-]+|md-[\w-]+)$/;
/** Rendered messages kept for re-use (a re-mounted list, the same text twice)… */
const CACHE_SIZE = 300;
/** …within this many characters of text and HTML: a streamed message leaves every prefix. */
const CACHE_CHARS = 2_000_000;

const md = new MarkdownIt({ html: false, linkify: true, breaks: false });
// An agent's headings are emphasis inside one message, not sections of the page.
md.renderer.rules.heading_open = (tokens, i) => `<p class="md-heading md-${tokens[i]!.tag}">`;
md.renderer.rules.heading_close = () => "</p>\n";

/**
 * What DOMPurify must make of PROBE in a DOM where it works. (No event handler in it: under
 * the page's Content-Security-Policy, parsing one is reported as a blocked inline script.)
 */
const PROBE = "<p>a</p><p>b<iframe></iframe></p>";
const PROBE_CLEAN = "<p>a</p><p>b</p>";

let purifier: Purifier | null | undefined;
/**
 * DOMPurify for this window, or null where it cannot work: it walks with a NodeIterator, and
 * some DOMs (happy-dom, which the tests use) lose the iterator's place when it removes a node.
 * That is checked once with a probe; our own walk (enforce) runs either way.
 */
function purify(): Purifier | null {
  if (purifier !== undefined) return purifier;
  if (typeof window === "undefined") throw new Error("markdown needs a DOM to sanitise in");
  const p = DOMPurify(window);
  purifier = p.isSupported && p.sanitize(PROBE) === PROBE_CLEAN ? p : null;
  return purifier;
}

/** An image source the page may load: this origin's own, or an inline image. */
export function isSafeImageSource(src: string): boolean {
  const s = src.trim();
  if (DATA_IMAGE.test(s)) return true;
  if (s.startsWith("/") && !s.startsWith("//") && !s.startsWith("/\\")) return true;
  try {
    const url = new URL(s);
    return (
      (url.protocol === "https:" || url.protocol === "http:") && url.origin === location.origin
    );
  } catch {
    return false; // not an absolute URL and not a path: nothing we load
  }
}

function linkOut(doc: Document, href: string, text: string): HTMLAnchorElement {
  const a = doc.createElement("a");
  a.setAttribute("href", href);
  a.setAttribute("target", "_blank");
  a.setAttribute("rel", "noopener noreferrer nofollow");
  a.textContent = text;
  return a;
}

/** Elements whose content goes with them: code, styles, frames and foreign markup. */
const DROP_WITH_CONTENT = new Set([
  "script",
  "style",
  "iframe",
  "frame",
  "object",
  "embed",
  "template",
  "noscript",
  "textarea",
  "select",
  "svg",
  "math",
  "head",
  "title",
]);
const ALLOWED = new Set(ALLOWED_TAGS);
/** Which attribute each element may keep; any other is removed. */
const ATTRIBUTE_OF: Record<string, (tag: string) => boolean> = {
  href: (tag) => tag === "a",
  src: (tag) => tag === "img",
  alt: (tag) => tag === "img",
  title: (tag) => tag === "a" || tag === "img",
  start: (tag) => tag === "ol",
  class: () => true,
};

/**
 * The last word on what stays, whatever the sanitiser before it did: the allow-lists again,
 * and the link, image and class policy. A plain recursive walk over copies of the child
 * lists, so removing a node never loses the walker's place.
 */
function enforce(parent: Element): void {
  const doc = parent.ownerDocument;
  for (const node of Array.from(parent.childNodes)) {
    if (node.nodeType === 3) continue; // text
    if (node.nodeType !== 1) {
      node.remove(); // comments, processing instructions
      continue;
    }
    const el = node as Element;
    const tag = el.tagName.toLowerCase();
    if (!ALLOWED.has(tag)) {
      if (DROP_WITH_CONTENT.has(tag)) el.remove();
      else {
        enforce(el);
        el.replaceWith(...Array.from(el.childNodes));
      }
      continue;
    }
    for (const { name } of Array.from(el.attributes)) {
      if (!ATTRIBUTE_OF[name]?.(tag)) el.removeAttribute(name);
    }
    const classes = (el.getAttribute("class") ?? "").split(/\s+/).filter((c) => SAFE_CLASS.test(c));
    if (classes.length > 0) el.setAttribute("class", classes.join(" "));
    else el.removeAttribute("class");
    if (tag === "img") {
      const src = (el.getAttribute("src") ?? "").trim();
      if (isSafeImageSource(src)) continue;
      const alt = el.getAttribute("alt") ?? "";
      el.replaceWith(
        LINK_OUT.test(src) ? linkOut(doc, src, alt || "image") : doc.createTextNode(alt),
      );
      continue;
    }
    enforce(el);
    if (tag === "a") {
      const href = (el.getAttribute("href") ?? "").trim();
      if (!LINK_OUT.test(href)) el.replaceWith(...Array.from(el.childNodes));
      else {
        el.setAttribute("target", "_blank");
        el.setAttribute("rel", "noopener noreferrer nofollow");
      }
    }
  }
}

const cache = new Map<string, string>();
let cached = 0;

/**
 * Markdown as sanitised HTML. Fenced code is highlighted when a highlighter is given (it is
 * loaded lazily; until then code shows plain). Results are memoised by text.
 */
export function renderMarkdown(text: string, highlighter: Highlighter | null = null): string {
  const key = `${highlighter ? 1 : 0}${text}`;
  const hit = cache.get(key);
  if (hit !== undefined) {
    // Most recently used last, so the oldest entry is the first one dropped.
    cache.delete(key);
    cache.set(key, hit);
    return hit;
  }
  md.options.highlight = highlighter
    ? (code, lang) => highlighter.highlight(code, lang.trim().split(/\s+/)[0] ?? "") ?? ""
    : null;
  const raw = md.render(text);
  const p = purify();
  // RETURN_DOM hands back the body it parsed into (typed as a Node).
  const body = p
    ? (p.sanitize(raw, {
        ALLOWED_TAGS,
        ALLOWED_ATTR,
        ALLOW_DATA_ATTR: false,
        ALLOW_ARIA_ATTR: false,
        RETURN_DOM: true,
      }) as HTMLElement)
    : new DOMParser().parseFromString(raw, "text/html").body;
  enforce(body);
  const html = body.innerHTML;
  cache.set(key, html);
  cached += key.length + html.length;
  // The least recently used go first (a Map iterates in insertion order).
  for (const [k, v] of cache) {
    if (cache.size <= CACHE_SIZE && cached <= CACHE_CHARS) break;
    cache.delete(k);
    cached -= k.length + v.length;
  }
  return html;
}
