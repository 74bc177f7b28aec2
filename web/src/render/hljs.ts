/**
 * The lazy chunk behind highlight.ts: highlight.js's core with the languages agents and
 * workspaces show most, and the colours (hljs.css). Imported only by highlight.ts.
 */
import hljs from "highlight.js/lib/core";
import bash from "highlight.js/lib/languages/bash";
import css from "highlight.js/lib/languages/css";
import diff from "highlight.js/lib/languages/diff";
import go from "highlight.js/lib/languages/go";
import ini from "highlight.js/lib/languages/ini";
import javascript from "highlight.js/lib/languages/javascript";
import json from "highlight.js/lib/languages/json";
import markdown from "highlight.js/lib/languages/markdown";
import python from "highlight.js/lib/languages/python";
import rust from "highlight.js/lib/languages/rust";
import sql from "highlight.js/lib/languages/sql";
import typescript from "highlight.js/lib/languages/typescript";
import xml from "highlight.js/lib/languages/xml";
import yaml from "highlight.js/lib/languages/yaml";
import { MAX_HIGHLIGHT_CHARS, type Highlighter } from "./highlight.ts";
import "./hljs.css";

const languages = { bash, css, diff, go, ini, javascript, json, markdown, python, rust, sql };
for (const [name, lang] of Object.entries(languages)) hljs.registerLanguage(name, lang);
hljs.registerLanguage("typescript", typescript);
hljs.registerLanguage("xml", xml);
hljs.registerLanguage("yaml", yaml);
// Fence names people write that the languages above do not already answer to.
hljs.registerAliases(["shell", "console"], { languageName: "bash" });
hljs.registerAliases(["vue"], { languageName: "xml" });

export const highlighter: Highlighter = {
  highlight(code, language) {
    if (!language || code.length > MAX_HIGHLIGHT_CHARS || !hljs.getLanguage(language)) return null;
    return hljs.highlight(code, { language, ignoreIllegals: true }).value;
  },
};
