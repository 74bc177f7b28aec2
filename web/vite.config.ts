/**
 * The web app's build: web/ is the root, web/dist the output the hub serves. `@gen` is the
 * generated protobuf code the hub uses too (src/gen). `npm run build` runs this through
 * scripts/web-build.ts, which also checks the size budget.
 *
 * `vite` (the dev server) proxies /api and /live to a hub on SWITCHBOARD_HUB
 * (default http://127.0.0.1:4800), presenting the hub's own origin, which it checks.
 */
import { fileURLToPath } from "node:url";
import vue from "@vitejs/plugin-vue";
import { defineConfig } from "vite";

const hub = process.env.SWITCHBOARD_HUB ?? "http://127.0.0.1:4800";
const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

export default defineConfig({
  root: here("."),
  base: "/",
  plugins: [vue()],
  resolve: {
    alias: { "@gen": here("../src/gen") },
  },
  build: {
    outDir: here("dist"),
    emptyOutDir: true,
    // Modern phones and desktops only: no legacy transforms, smaller output.
    target: "es2022",
    manifest: true,
    rolldownOptions: {
      output: {
        // Named, stable vendor chunks: they change less often than the app, so stay cached.
        codeSplitting: {
          groups: [
            { name: "vue", test: /node_modules[\\/](@vue|vue|vue-router|pinia)[\\/]/ },
            { name: "rpc", test: /node_modules[\\/](@bufbuild|@connectrpc)[\\/]/ },
          ],
        },
      },
    },
  },
  server: {
    proxy: {
      "/api": { target: hub, changeOrigin: true, headers: { origin: hub } },
      "/live": { target: hub, changeOrigin: true, ws: true, headers: { origin: hub } },
    },
  },
});
