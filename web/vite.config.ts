/**
 * The web app's build: web/ is the root, web/dist the output the hub serves. `@gen` is the
 * generated protobuf code the hub uses too (src/gen). `npm run build` runs this through
 * scripts/web-build.ts, which also checks the size budget.
 *
 * The PWA: vite-plugin-pwa builds web/src/sw.ts into /sw.js (injectManifest: our own worker,
 * with the build's file list injected for precaching) and writes the web app manifest. The
 * page registers the worker itself (src/pwa/register.ts, workbox-window), so nothing is
 * injected into index.html but the manifest link.
 *
 * `vite` (the dev server) proxies /api and /live to a hub on SWITCHBOARD_HUB
 * (default http://127.0.0.1:4800), presenting the hub's own origin, which it checks.
 */
import { fileURLToPath } from "node:url";
import vue from "@vitejs/plugin-vue";
import { defineConfig } from "vite";
import { VitePWA } from "vite-plugin-pwa";

const hub = process.env.SWITCHBOARD_HUB ?? "http://127.0.0.1:4800";
const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

export default defineConfig({
  root: here("."),
  base: "/",
  plugins: [
    vue(),
    VitePWA({
      strategies: "injectManifest",
      srcDir: "src",
      filename: "sw.ts",
      registerType: "prompt",
      injectRegister: false,
      manifestFilename: "manifest.webmanifest",
      // globPatterns below already takes the icons.
      includeManifestIcons: false,
      injectManifest: {
        // The shell and its lazy views, the icons and the favicon (the plugin adds the manifest).
        globPatterns: ["**/*.{js,css,html,png}"],
        // The built worker is never precached by itself; keep the .vite manifest out too.
        globIgnores: ["**/.vite/**", "sw.js"],
      },
      manifest: {
        name: "Switchboard",
        short_name: "Switchboard",
        description:
          "Run, watch and steer AI coding agents from a phone, a browser and your editor.",
        id: "/",
        start_url: "/",
        scope: "/",
        display: "standalone",
        // styles.css: --accent for the bar, --bg (light) behind the splash screen.
        theme_color: "#1f5fbf",
        background_color: "#f5f6f8",
        icons: [
          { src: "/icons/icon-192.png", sizes: "192x192", type: "image/png", purpose: "any" },
          { src: "/icons/icon-512.png", sizes: "512x512", type: "image/png", purpose: "any" },
          {
            src: "/icons/maskable-512.png",
            sizes: "512x512",
            type: "image/png",
            purpose: "maskable",
          },
        ],
      },
    }),
  ],
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
          includeDependenciesRecursively: false,
          groups: [
            { name: "vue", test: /node_modules[\\/](@vue|vue|vue-router|pinia)[\\/]/ },
            { name: "rpc", test: /node_modules[\\/](@bufbuild|@connectrpc)[\\/]/ },
            {
              name: "shared",
              test: (id) =>
                /web[\\/]src[\\/](components|composables|layout|render)[\\/]/.test(id) &&
                !/render[\\/](Diff\.vue|diff\.ts)/.test(id),
              minShareCount: 2,
            },
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
