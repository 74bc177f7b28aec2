/**
 * `npm run build`: builds the web app (web/ → web/dist) with Vite, prints each emitted JS and
 * CSS file's size (raw and gzip), and fails when the initial load is over budget. The initial
 * load is what the browser fetches before the app can show anything: the entry chunk, the
 * chunks it imports statically (transitively) and their CSS; lazy chunks (views loaded on
 * navigation) are listed but not counted. The service worker (sw.js) is printed apart: the
 * browser fetches it after the page is up, so it is not initial load.
 *
 * Text files (JS, CSS, HTML, the manifest, the service worker) are also written gzipped beside
 * themselves (`<file>.gz`), which the hub sends to browsers that accept gzip (src/hub/web.ts).
 */
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { build } from "vite";

/** The initial JS+CSS, gzipped, may not pass this (issue 6: phones on slow networks). */
export const INITIAL_BUDGET_GZIP = 150 * 1024;

const root = join(import.meta.dir, "..");
const web = join(root, "web");
const dist = join(web, "dist");

interface ManifestChunk {
  file: string;
  isEntry?: boolean;
  imports?: string[];
  css?: string[];
}

await build({ configFile: join(web, "vite.config.ts"), logLevel: "warn" });

const manifest = JSON.parse(readFileSync(join(dist, ".vite", "manifest.json"), "utf8")) as Record<
  string,
  ManifestChunk
>;

const initial = new Set<string>();
const visit = (key: string) => {
  const chunk = manifest[key];
  if (!chunk || initial.has(chunk.file)) return;
  initial.add(chunk.file);
  for (const css of chunk.css ?? []) initial.add(css);
  for (const imp of chunk.imports ?? []) visit(imp);
};
for (const [key, chunk] of Object.entries(manifest)) if (chunk.isEntry) visit(key);

const files = new Set<string>();
for (const chunk of Object.values(manifest)) {
  files.add(chunk.file);
  for (const css of chunk.css ?? []) files.add(css);
}

const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;
let rawTotal = 0;
let gzipTotal = 0;
const rows = [...files]
  .filter((f) => /\.(js|css)$/.test(f))
  .sort()
  .map((file) => {
    const bytes = readFileSync(join(dist, file));
    const gz = Bun.gzipSync(bytes).length;
    const isInitial = initial.has(file);
    if (isInitial) ((rawTotal += bytes.length), (gzipTotal += gz));
    return { file, raw: bytes.length, gz, isInitial };
  });

const width = Math.max(...rows.map((r) => r.file.length), 10);
console.log(`${"file".padEnd(width)}  ${"raw".padStart(10)}  ${"gzip".padStart(10)}`);
for (const r of rows) {
  console.log(
    `${r.file.padEnd(width)}  ${kb(r.raw).padStart(10)}  ${kb(r.gz).padStart(10)}${r.isInitial ? "  initial" : ""}`,
  );
}
console.log(
  `initial JS+CSS: ${kb(rawTotal)} raw, ${kb(gzipTotal)} gzip (budget ${kb(INITIAL_BUDGET_GZIP)} gzip)`,
);
for (const entry of readdirSync(dist, { recursive: true, withFileTypes: true })) {
  if (!entry.isFile() || !/\.(js|css|html|webmanifest)$/.test(entry.name)) continue;
  const path = join(entry.parentPath, entry.name);
  writeFileSync(`${path}.gz`, Bun.gzipSync(readFileSync(path), { level: 9 }));
}

const sw = readFileSync(join(dist, "sw.js"));
console.log(
  `service worker sw.js: ${kb(sw.length)} raw, ${kb(Bun.gzipSync(sw).length)} gzip (not initial)`,
);
if (gzipTotal > INITIAL_BUDGET_GZIP) {
  console.error(`over budget by ${kb(gzipTotal - INITIAL_BUDGET_GZIP)} gzip`);
  process.exit(1);
}
