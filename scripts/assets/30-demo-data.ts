/**
 * Builds the built-in demo dataset into public/demo/ (generated, gitignored):
 *
 *   public/demo/manifest.json           what the app's "try with demo data" loads (paths, labels, sizes)
 *   public/demo/emoji/<category>/*.png   64-px emoji images, the category as the folder label
 *   public/demo/LICENSE.txt             where the images come from and under which licence
 *
 * Source: the npm package emoji-datasource-google (images: Google's Noto Emoji, Apache-2.0;
 * package data: MIT). The subset is long-tailed on purpose, like a real scraped pool: one
 * category is inflated by near-duplicates (skin-tone variants of the same people emoji), then
 * a tail of ever smaller categories. That is the shape the curation method is meant to flatten.
 *
 * 200 images keep the demo quick end to end: the bundled model embeds ~10 images/s on one CPU
 * thread here (platform notes), so a first run is ~20 s and a cached one is instant.
 *
 * Idempotent: the manifest records a stamp of this plan and the package version; when it
 * matches and every file is present with its recorded size, nothing is written.
 */
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

interface EmojiRecord {
  readonly short_name: string;
  readonly image: string;
  readonly category: string;
  readonly sort_order: number;
  readonly has_img_google: boolean;
  readonly skin_variations?: Record<string, { image: string; has_img_google: boolean }>;
}

/** One file of the demo set; the loader in src/demo/demo-data.ts reads the same shape. */
interface ManifestFile {
  readonly path: string;
  readonly label: string;
  readonly bytes: number;
  readonly sha256: string;
}

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const PKG = join(ROOT, 'node_modules/emoji-datasource-google');
const OUT = join(ROOT, 'public/demo');
const IMAGES = join(PKG, 'img/google/64');

/**
 * Long tail, 200 images: 90/45/24/14/10/7/5/3/2. `people-body` is 15 people emoji, each with
 * its 5 skin tones (6 near-copies per concept); every other category has distinct emoji spread
 * evenly over the category's sort order, so several subcategories show up.
 */
const PLAN: readonly { label: string; category: string; count: number; tones: boolean }[] = [
  { label: 'people-body', category: 'People & Body', count: 90, tones: true },
  { label: 'smileys-emotion', category: 'Smileys & Emotion', count: 45, tones: false },
  { label: 'animals-nature', category: 'Animals & Nature', count: 24, tones: false },
  { label: 'food-drink', category: 'Food & Drink', count: 14, tones: false },
  { label: 'travel-places', category: 'Travel & Places', count: 10, tones: false },
  { label: 'activities', category: 'Activities', count: 7, tones: false },
  { label: 'objects', category: 'Objects', count: 5, tones: false },
  { label: 'symbols', category: 'Symbols', count: 3, tones: false },
  { label: 'flags', category: 'Flags', count: 2, tones: false },
];
const TONES = ['1F3FB', '1F3FC', '1F3FD', '1F3FE', '1F3FF'];
const TONE_NAMES = ['light', 'medium-light', 'medium', 'medium-dark', 'dark'];

/** Evenly spaced picks over a sorted pool, deterministic. */
function spread<T>(pool: readonly T[], count: number): T[] {
  if (pool.length < count) throw new Error(`demo data: need ${count}, pool has ${pool.length}`);
  return Array.from({ length: count }, (_, i) => pool[Math.floor((i * pool.length) / count)]);
}

function fileName(shortName: string, tone?: string): string {
  const base = shortName.replace(/[^a-z0-9]+/gi, '-').replace(/^-|-$/g, '');
  return tone ? `${base}-${tone}.png` : `${base}.png`;
}

interface Planned {
  readonly source: string;
  readonly path: string;
  readonly label: string;
}

function plan(emoji: readonly EmojiRecord[]): Planned[] {
  const out: Planned[] = [];
  for (const { label, category, count, tones } of PLAN) {
    const pool = emoji
      .filter((e) => e.category === category && e.has_img_google)
      .filter((e) => existsSync(join(IMAGES, e.image)))
      .sort((a, b) => a.sort_order - b.sort_order);
    if (!tones) {
      for (const e of spread(pool, count)) {
        out.push({ source: e.image, path: `emoji/${label}/${fileName(e.short_name)}`, label });
      }
      continue;
    }
    const withTones = pool.filter((e) =>
      TONES.every((t) => {
        const v = e.skin_variations?.[t];
        return v?.has_img_google === true && existsSync(join(IMAGES, v.image));
      }),
    );
    for (const e of spread(withTones, count / (TONES.length + 1))) {
      out.push({ source: e.image, path: `emoji/${label}/${fileName(e.short_name)}`, label });
      TONES.forEach((t, i) => {
        const image = e.skin_variations![t].image;
        out.push({
          source: image,
          path: `emoji/${label}/${fileName(e.short_name, TONE_NAMES[i])}`,
          label,
        });
      });
    }
  }
  const seen = new Set<string>();
  for (const p of out) {
    if (seen.has(p.path)) throw new Error(`demo data: duplicate path ${p.path}`);
    seen.add(p.path);
  }
  return out;
}

function upToDate(stamp: string): boolean {
  const manifestPath = join(OUT, 'manifest.json');
  if (!existsSync(manifestPath)) return false;
  try {
    const m = JSON.parse(readFileSync(manifestPath, 'utf8')) as {
      stamp?: string;
      files?: ManifestFile[];
    };
    if (m.stamp !== stamp || !Array.isArray(m.files)) return false;
    return m.files.every((f) => {
      const p = join(OUT, f.path);
      return existsSync(p) && statSync(p).size === f.bytes;
    });
  } catch {
    return false;
  }
}

function main(): void {
  if (!existsSync(join(PKG, 'emoji.json'))) {
    throw new Error('demo data: emoji-datasource-google is not installed (run npm install)');
  }
  const version = (
    JSON.parse(readFileSync(join(PKG, 'package.json'), 'utf8')) as { version: string }
  ).version;
  const stamp = createHash('sha256')
    .update(JSON.stringify({ PLAN, TONES, version, layout: 2 }))
    .digest('hex')
    .slice(0, 16);
  if (upToDate(stamp)) {
    console.log('demo data: up to date');
    return;
  }
  const emoji = JSON.parse(readFileSync(join(PKG, 'emoji.json'), 'utf8')) as EmojiRecord[];
  const planned = plan(emoji);
  rmSync(OUT, { recursive: true, force: true });
  const files: ManifestFile[] = [];
  for (const p of planned) {
    const dest = join(OUT, p.path);
    mkdirSync(dirname(dest), { recursive: true });
    copyFileSync(join(IMAGES, p.source), dest);
    const bytes = readFileSync(dest);
    files.push({
      path: p.path,
      label: p.label,
      bytes: bytes.length,
      sha256: createHash('sha256').update(bytes).digest('hex'),
    });
  }
  const counts: Record<string, number> = {};
  for (const f of files) counts[f.label] = (counts[f.label] ?? 0) + 1;
  const manifest = {
    version: 1,
    stamp,
    name: 'Emoji, long-tailed (200 images)',
    description:
      'A long-tailed pool of 200 emoji images in 9 categories (folder = label). People emoji come ' +
      'with all five skin tones: near-duplicates that balanced curation should shrink.',
    source: `npm emoji-datasource-google@${version} (Google Noto Emoji images)`,
    license: 'Apache-2.0 (images), MIT (emoji-datasource package)',
    counts,
    files,
  };
  writeFileSync(join(OUT, 'manifest.json'), JSON.stringify(manifest, null, 1) + '\n');
  writeFileSync(
    join(OUT, 'LICENSE.txt'),
    [
      'The images under emoji/ are from Noto Emoji by Google, licensed under the Apache License,',
      'Version 2.0 (https://www.apache.org/licenses/LICENSE-2.0), as redistributed in the npm',
      `package emoji-datasource-google ${version} (MIT, https://github.com/iamcal/emoji-data).`,
      'Files were copied unmodified and renamed after their short names.',
      '',
    ].join('\n'),
  );
  console.log(`demo data: wrote ${files.length} images to public/demo (${JSON.stringify(counts)})`);
}

main();
