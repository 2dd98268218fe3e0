/**
 * The scale bench's image folder: `count` distinct images made from the 64 px PNGs of the npm
 * package emoji-datasource-google, written once under .cache/scale/images-<count>/ and reused.
 *
 * Every emoji of the Google set (skin-tone variants included, 3,781 files) is used in turn,
 * each time with its own random crop (zoom 0.7-1.5: shrunk into the background or cropped, centre moved up to
 * 15%), turn (+-35 degrees),
 * mirror, hue/saturation/brightness, background (a colour or a two-colour gradient), side
 * (64-160 px) and format (PNG, or JPEG at quality 0.7-0.95), so no two files are copies and they
 * decode and embed as distinct images. Sub-folders are the emoji categories (folder labels).
 *
 * Deterministic: the recipes come from Rng(IMAGES_SEED) and the browser's own encoders draw
 * them (headless Chromium, images-page.ts); a stamp next to the folder records the recipes'
 * hash, and a folder whose stamp matches is used as it is.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { dirname, join, resolve } from 'node:path';
import { chromium } from 'playwright-core';
import { createServer, type Plugin } from 'vite';
import { Rng } from '../../src/core/rng.ts';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../../test/chromium.ts';
import type { ImageRecipe } from './recipe.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const EMOJI_PACKAGE = join(ROOT, 'node_modules/emoji-datasource-google');
const EMOJI_IMAGES = join(EMOJI_PACKAGE, 'img/google/64');
export const SCALE_CACHE = join(ROOT, '.cache', 'scale');
/** Seed of every draw of the recipes. */
const IMAGES_SEED = 20_240_612;
/** Bump when images-page.ts changes the pixels it draws. */
const PAGE_VERSION = 1;

interface EmojiRecord {
  readonly image: string;
  readonly category: string;
  readonly sort_order: number;
  readonly has_img_google: boolean;
  readonly skin_variations?: Record<string, { image: string; has_img_google: boolean }>;
}

/** Every Google emoji file with its category as a folder label, in the package's order. */
function emojiFiles(): { image: string; label: string }[] {
  const all = JSON.parse(readFileSync(join(EMOJI_PACKAGE, 'emoji.json'), 'utf8')) as EmojiRecord[];
  const out: { image: string; label: string }[] = [];
  for (const e of [...all].sort((a, b) => a.sort_order - b.sort_order)) {
    // 'Component' holds bare skin-tone swatches and hair parts, not pictures.
    if (e.category === 'Component') continue;
    const label = e.category.toLowerCase().replace(/[^a-z]+/g, '-');
    if (e.has_img_google) out.push({ image: e.image, label });
    for (const v of Object.values(e.skin_variations ?? {})) {
      if (v.has_img_google) out.push({ image: v.image, label });
    }
  }
  return out;
}

function hsl(rng: Rng): string {
  return `hsl(${Math.round(rng.next() * 360)} ${Math.round(20 + rng.next() * 70)}% ${Math.round(15 + rng.next() * 75)}%)`;
}

export function imageRecipes(count: number): ImageRecipe[] {
  const files = emojiFiles();
  const rng = new Rng(IMAGES_SEED);
  // The emoji order is shuffled once so a small folder still spans every category.
  const order = files.map((_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  const u = (a: number, b: number): number => a + (b - a) * rng.next();
  const out: ImageRecipe[] = [];
  for (let i = 0; i < count; i++) {
    const f = files[order[i % files.length]];
    const jpeg = rng.next() < 0.5;
    out.push({
      path: `${f.label}/${String(i).padStart(6, '0')}-${f.image.replace(/\.png$/, '')}.${jpeg ? 'jpg' : 'png'}`,
      emoji: f.image,
      side: Math.round(u(64, 160)),
      zoom: u(0.7, 1.5),
      dx: u(-0.15, 0.15),
      dy: u(-0.15, 0.15),
      rotate: u(-35, 35),
      mirror: rng.next() < 0.5,
      hue: rng.next() < 0.5 ? 0 : u(-180, 180),
      saturate: u(0.6, 1.4),
      brightness: u(0.8, 1.2),
      background: [hsl(rng), hsl(rng)],
      gradientAngle: rng.next() < 0.5 ? null : u(0, 360),
      type: jpeg ? 'image/jpeg' : 'image/png',
      quality: u(0.7, 0.95),
    });
  }
  return out;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((ok, fail) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => ok(Buffer.concat(parts)));
    req.on('error', fail);
  });
}

export interface ImageFolder {
  readonly root: string;
  readonly count: number;
  readonly bytes: number;
  readonly labels: Record<string, number>;
  /** seconds spent writing it now (0: reused) */
  readonly seconds: number;
}

/** The folder of `count` images, built now unless a matching one is already there. */
export async function imageFolder(count: number, log: (s: string) => void): Promise<ImageFolder> {
  const recipes = imageRecipes(count);
  const stamp = createHash('sha256')
    .update(JSON.stringify(recipes))
    .update(String(PAGE_VERSION))
    .digest('hex')
    .slice(0, 16);
  const root = join(SCALE_CACHE, `images-${count}`);
  const stampFile = `${root}.json`;
  const labels: Record<string, number> = {};
  for (const r of recipes) labels[r.path.split('/')[0]] = (labels[r.path.split('/')[0]] ?? 0) + 1;
  if (existsSync(stampFile) && existsSync(root)) {
    const m = JSON.parse(readFileSync(stampFile, 'utf8')) as { stamp: string; bytes: number };
    if (m.stamp === stamp) return { root, count, bytes: m.bytes, labels, seconds: 0 };
  }
  const t0 = performance.now();
  const part = `${root}.part`;
  rmSync(part, { recursive: true, force: true });
  rmSync(root, { recursive: true, force: true });
  let bytes = 0;
  const plugin: Plugin = {
    name: 'scale-images',
    configureServer(server) {
      server.middlewares.use((req: IncomingMessage, res: ServerResponse, next: () => void) => {
        const url = new URL(req.url ?? '/', 'http://x');
        const emoji = /^\/__scale\/emoji\/([0-9a-f-]+\.png)$/.exec(url.pathname);
        if (emoji) {
          res.setHeader('content-type', 'image/png');
          res.end(readFileSync(join(EMOJI_IMAGES, emoji[1])));
          return;
        }
        if (url.pathname !== '/__scale/file' || req.method !== 'POST') return next();
        const path = url.searchParams.get('path') ?? '';
        // Only the recipes' own shape of path: "<label>/<digits>-<hex>.<ext>".
        if (!/^[a-z-]+\/\d+-[0-9a-f-]+\.(png|jpg)$/.test(path)) {
          res.statusCode = 400;
          res.end('bad path');
          return;
        }
        void readBody(req).then((body) => {
          const file = join(part, path);
          mkdirSync(dirname(file), { recursive: true });
          writeFileSync(file, body);
          bytes += body.length;
          res.end('ok');
        });
      });
    },
  };
  const server = await createServer({
    root: ROOT,
    configFile: false,
    logLevel: 'error',
    plugins: [plugin],
    server: { port: 0, host: '127.0.0.1', strictPort: false, hmr: false, watch: null },
  });
  await server.listen();
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
  try {
    const page = await browser.newPage();
    page.on('pageerror', (e) => log(`image builder page error: ${e.message}`));
    await page.exposeFunction('scaleJob', () => ({ items: recipes, parallel: 16 }));
    const base = server.resolvedUrls?.local[0];
    if (!base) throw new Error('vite has no local URL');
    log(`writing ${count} images into ${root}`);
    await page.goto(new URL('bench/scale/images-page.html', base).href);
    await page.waitForFunction('typeof window.scaleRun === "function"', undefined, {
      timeout: 120_000,
    });
    const written = (await page.evaluate('window.scaleRun()')) as number;
    if (written !== count) throw new Error(`image builder wrote ${written} of ${count} images`);
  } finally {
    await browser.close();
    await server.close();
  }
  renameSync(part, root);
  writeFileSync(stampFile, JSON.stringify({ stamp, count, bytes }) + '\n');
  return { root, count, bytes, labels, seconds: (performance.now() - t0) / 1000 };
}
