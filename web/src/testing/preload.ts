/**
 * `bun test`'s preload (bunfig.toml), for the web app's tests:
 * - .vue files can be imported: each single-file component is compiled with Vue's own
 *   compiler, template inlined, styles left out (tests check markup and behaviour);
 * - Vue's DOM renderer gets a happy-dom document. It reads `document` once, when it loads, so
 *   it is loaded here with this window's document in place, which is then taken away again:
 *   the hub's and worker's tests run with Bun's own globals (fetch, WebSocket…). A component
 *   test puts the same window's globals in place for its own tests with useDom() (dom.ts).
 */
import { plugin } from "bun";
import { GlobalWindow } from "happy-dom";

plugin({
  name: "vue-sfc",
  setup(build) {
    build.onLoad({ filter: /\.vue$/ }, async ({ path }) => {
      const { parse, compileScript } = await import("vue/compiler-sfc");
      const { descriptor, errors } = parse(await Bun.file(path).text(), { filename: path });
      if (errors.length > 0) throw new Error(`${path}: ${errors[0]!.message}`);
      const id = Bun.hash(path).toString(16).slice(0, 8);
      const script = compileScript(descriptor, { id, inlineTemplate: true });
      return { contents: script.content, loader: "ts" };
    });
  },
});

/** Where dom.ts finds the window (a symbol on the global: one per test process). */
export const TEST_WINDOW = Symbol.for("switchboard.testWindow");

const window = new GlobalWindow({ url: "https://hub.example/" });
const g = globalThis as Record<PropertyKey, unknown>;
g[TEST_WINDOW] = window;
g.document = window.document;
await import("vue");
delete g.document;
