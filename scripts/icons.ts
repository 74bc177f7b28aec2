/**
 * Draws the app's icons (web/public/icons/*.png and web/public/favicon.png): a switchboard of
 * three rows of jacks, two of them patched by a cord, on the accent colour. Run it after a
 * change to the design (`bun scripts/icons.ts`); the PNGs are committed.
 *
 * The maskable icon keeps everything inside the safe zone (a centred circle of 80% of the
 * width, per the Web App Manifest's maskable purpose), so any platform mask leaves it whole.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { PNG } from "pngjs";

/** styles.css: --accent (light) and a near-white for the drawing. */
const BG = [0x1f, 0x5f, 0xbf] as const;
const FG = [0xf5, 0xf6, 0xf8] as const;
const CORD = [0xf2, 0xc2, 0x6b] as const;

const out = join(import.meta.dir, "..", "web", "public");
const icons = join(out, "icons");

type Rgb = readonly [number, number, number];

/**
 * One icon of `size` px. `scale` is the drawing's share of the width; `rounded` gives the
 * square rounded corners (the "any" icons), else the background fills it to the edges.
 */
function draw(size: number, scale: number, rounded: boolean): Buffer {
  const png = new PNG({ width: size, height: size });
  // Sampled 4×4 per pixel for smooth edges.
  const S = 4;
  const radius = rounded ? 0.2 : 0;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      let r = 0,
        g = 0,
        b = 0,
        a = 0;
      for (let sy = 0; sy < S; sy++) {
        for (let sx = 0; sx < S; sx++) {
          const u = (x + (sx + 0.5) / S) / size;
          const v = (y + (sy + 0.5) / S) / size;
          if (!insideRounded(u, v, radius)) continue;
          const c = colourAt((u - 0.5) / scale + 0.5, (v - 0.5) / scale + 0.5);
          r += c[0];
          g += c[1];
          b += c[2];
          a += 1;
        }
      }
      const i = (y * size + x) * 4;
      const n = S * S;
      png.data[i] = a ? Math.round(r / a) : 0;
      png.data[i + 1] = a ? Math.round(g / a) : 0;
      png.data[i + 2] = a ? Math.round(b / a) : 0;
      png.data[i + 3] = Math.round((a / n) * 255);
    }
  }
  return PNG.sync.write(png);
}

function insideRounded(u: number, v: number, r: number): boolean {
  if (r === 0) return true;
  const cx = Math.min(Math.max(u, r), 1 - r);
  const cy = Math.min(Math.max(v, r), 1 - r);
  return (u - cx) ** 2 + (v - cy) ** 2 <= r * r;
}

/** The design in a unit square: jacks on a 3×3 grid, a cord from top left to bottom right. */
function colourAt(u: number, v: number): Rgb {
  const grid = [0.25, 0.5, 0.75];
  // The cord: a thick line between two jacks, drawn over the board.
  if (distToSegment(u, v, 0.25, 0.25, 0.75, 0.75) < 0.045) return CORD;
  if (distToSegment(u, v, 0.75, 0.25, 0.5, 0.5) < 0.045) return CORD;
  for (const gx of grid) {
    for (const gy of grid) {
      const d = Math.hypot(u - gx, v - gy);
      if (d < 0.075) return d < 0.035 ? BG : FG;
    }
  }
  return BG;
}

function distToSegment(px: number, py: number, ax: number, ay: number, bx: number, by: number) {
  const dx = bx - ax;
  const dy = by - ay;
  const t = Math.max(0, Math.min(1, ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy)));
  return Math.hypot(px - (ax + t * dx), py - (ay + t * dy));
}

mkdirSync(icons, { recursive: true });
const files: [string, Buffer][] = [
  [join(icons, "icon-192.png"), draw(192, 1, true)],
  [join(icons, "icon-512.png"), draw(512, 1, true)],
  // The drawing (jacks reach 0.175..0.825 of the width) shrunk to stay inside the safe circle.
  [join(icons, "maskable-512.png"), draw(512, 0.8, false)],
  // iOS rounds the corners itself and shows transparency as black: a full square.
  [join(icons, "apple-touch-icon-180.png"), draw(180, 0.9, false)],
  [join(out, "favicon.png"), draw(48, 1, true)],
];
for (const [path, bytes] of files) {
  writeFileSync(path, bytes);
  console.log(`${path} ${bytes.length} bytes`);
}
