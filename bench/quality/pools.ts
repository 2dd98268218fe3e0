/**
 * The two long-tailed pools with near-duplicates that `npm run bench:quality` measures on, as
 * recipes: every item says what image to make (an emoji file of the npm package
 * emoji-datasource-google, or a digit glyph drawn with a font installed on this machine) and,
 * for a near-copy, the jitter that turns its original into a web-style copy (shift, scale,
 * colour, re-encoded as a lossy JPEG). The page (page.ts) renders them; embed.ts embeds them.
 *
 * Both pools have the shape the method is meant for (algorithm.md section 6): a long tail of
 * distinct concepts per label, and the head labels further inflated by near-copies, so that
 * "balanced over regions of embedding space" shows up as "balanced over labels".
 *
 * Everything is deterministic: the plans are constants and every draw comes from Rng(POOL_SEED).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Rng } from '../../src/core/rng.ts';
import type { Glyph, Jitter, Pool, Recipe } from './recipe.ts';

export type { Glyph, Jitter, Pool, Recipe } from './recipe.ts';

/** Seed of every draw the pool builders make. */
export const POOL_SEED = 20240523;

/**
 * A web-style copy: every copy is re-saved as a JPEG at another size (64-128 px, quality
 * 0.75-0.95), and half of them are also lightly edited (shifted <= 2%, scaled +-3%, turned
 * <= 1.5 degrees, colour moved a few percent). Measured on 25 emoji and 20 digits (median cosine
 * to the original after centring and L2, bundled model): a 0.95 re-save 0.94 / 0.996, upsized to
 * 128 px 0.98 / 0.995, this light edit 0.87 / 0.95; the stronger edits first tried here (6% shift,
 * 6 degrees, 48 px at quality 0.55) fell to 0.73 / 0.70, which the model no longer sees as copies.
 */
function drawJitter(rng: Rng, baseSide: number): Jitter {
  const u = (a: number, b: number): number => a + (b - a) * rng.next();
  const side = Math.round(baseSide * u(1, 2));
  const quality = u(0.75, 0.95);
  if (rng.next() < 0.5) {
    return {
      dx: 0,
      dy: 0,
      scale: 1,
      rotate: 0,
      hue: 0,
      brightness: 1,
      saturate: 1,
      contrast: 1,
      side,
      quality,
    };
  }
  return {
    dx: u(-0.02, 0.02),
    dy: u(-0.02, 0.02),
    scale: u(0.97, 1.03),
    rotate: u(-1.5, 1.5),
    hue: u(-3, 3),
    brightness: u(0.96, 1.04),
    saturate: u(0.95, 1.05),
    contrast: u(0.96, 1.04),
    side,
    quality,
  };
}

/** Copies per original for a fractional rate: floor(rate), plus one more with p = frac(rate). */
function copiesOf(rate: number, rng: Rng): number {
  const whole = Math.floor(rate);
  return whole + (rng.next() < rate - whole ? 1 : 0);
}

/** Evenly spaced picks over a sorted list, deterministic. */
function spread<T>(list: readonly T[], count: number): T[] {
  if (list.length < count) throw new Error(`pool: need ${count}, have ${list.length}`);
  return Array.from({ length: count }, (_, i) => list[Math.floor((i * list.length) / count)]);
}

interface EmojiRecord {
  readonly short_name: string;
  readonly image: string;
  readonly category: string;
  readonly sort_order: number;
  readonly has_img_google: boolean;
  readonly skin_variations?: Record<string, { image: string; has_img_google: boolean }>;
}

export const EMOJI_PACKAGE = 'node_modules/emoji-datasource-google';
export const EMOJI_IMAGES = `${EMOJI_PACKAGE}/img/google/64`;

/**
 * Emoji plan: distinct concepts per category fall off like a long tail (140 ... 12); near-copies
 * are heaviest in the head, as popular web content is copied most. People & Body concepts come
 * as gender groups (person / man / woman of the same action) with all five skin tones each: up
 * to 18 natural near-duplicates per concept, as in web data.
 */
const EMOJI_PLAN: readonly {
  label: string;
  category: string;
  concepts: number;
  copies: number;
}[] = [
  { label: 'people-body', category: 'People & Body', concepts: 60, copies: 0.5 },
  { label: 'smileys-emotion', category: 'Smileys & Emotion', concepts: 140, copies: 3 },
  { label: 'animals-nature', category: 'Animals & Nature', concepts: 100, copies: 2 },
  { label: 'food-drink', category: 'Food & Drink', concepts: 70, copies: 1.5 },
  { label: 'travel-places', category: 'Travel & Places', concepts: 50, copies: 1 },
  { label: 'activities', category: 'Activities', concepts: 35, copies: 0.5 },
  { label: 'objects', category: 'Objects', concepts: 25, copies: 0.5 },
  { label: 'symbols', category: 'Symbols', concepts: 16, copies: 0.25 },
  { label: 'flags', category: 'Flags', concepts: 12, copies: 0.25 },
];
const TONES = ['1F3FB', '1F3FC', '1F3FD', '1F3FE', '1F3FF'];

/** "man-surfing", "woman-surfing", "surfer" share nothing; "man-x" / "woman-x" / "x" do. */
function genderBase(shortName: string): string {
  return shortName
    .replace(/^(man|woman|person)[-_]/, '')
    .replace(/[-_](man|woman|person)$/, '')
    .replace(/_/g, '-');
}

export function emojiPool(root: string): Pool {
  const all = JSON.parse(
    readFileSync(join(root, EMOJI_PACKAGE, 'emoji.json'), 'utf8'),
  ) as EmojiRecord[];
  const rng = new Rng(Rng.derive(POOL_SEED, 1));
  const items: Recipe[] = [];
  const add = (r: Omit<Recipe, 'id'>): void => {
    items.push({ id: `e${items.length}`, ...r });
  };
  const withCopies = (label: string, concept: string, image: string, rate: number): void => {
    for (let c = copiesOf(rate, rng); c > 0; c--) {
      add({ label, concept, kind: 'copy', emoji: image, jitter: drawJitter(rng, 64) });
    }
  };
  for (const { label, category, concepts, copies } of EMOJI_PLAN) {
    const pool = all
      .filter((e) => e.category === category && e.has_img_google)
      .sort((a, b) => a.sort_order - b.sort_order);
    if (label !== 'people-body') {
      for (const e of spread(pool, concepts)) {
        add({ label, concept: e.short_name, kind: 'original', emoji: e.image });
        withCopies(label, e.short_name, e.image, copies);
      }
      continue;
    }
    // Gender groups whose every member has all five skin tones in the Google set.
    const toned = pool.filter((e) =>
      TONES.every((t) => e.skin_variations?.[t]?.has_img_google === true),
    );
    const groups = new Map<string, EmojiRecord[]>();
    for (const e of toned) {
      const key = genderBase(e.short_name);
      groups.set(key, [...(groups.get(key) ?? []), e]);
    }
    for (const [base, members] of spread([...groups.entries()], concepts)) {
      members.forEach((e, g) => {
        const images = [e.image, ...TONES.map((t) => e.skin_variations![t].image)];
        images.forEach((image, v) => {
          add({
            label,
            concept: base,
            kind: g === 0 && v === 0 ? 'original' : 'variant',
            emoji: image,
          });
          withCopies(label, base, image, copies);
        });
      });
    }
  }
  return {
    name: 'emoji',
    description:
      'Noto emoji (npm emoji-datasource-google), category as label; People & Body as gender ' +
      'groups with all skin tones; jittered JPEG copies, most in the head categories',
    items,
  };
}

/** Font faces of the digits pool: families installed with Debian's fonts-dejavu and fonts-liberation. */
const FAMILIES = [
  'DejaVu Sans',
  'DejaVu Sans Mono',
  'DejaVu Serif',
  'DejaVu Sans Condensed',
  'DejaVu Serif Condensed',
  'Liberation Sans',
  'Liberation Serif',
  'Liberation Mono',
  'Liberation Sans Narrow',
];

/**
 * Digits plan: distinct renderings per digit (font face, weight, slant, rotation, position, pen
 * width) fall off like a long tail; copies per rendering are heaviest in the head. The order of
 * the digits in the tail is shuffled so no digit's own shape decides its place.
 */
const DIGIT_DISTINCT = [150, 110, 80, 60, 45, 34, 26, 20, 15, 12];
const DIGIT_COPIES = [3, 2.5, 2, 1.5, 1, 1, 0.5, 0.5, 0.25, 0.25];
const DIGIT_ORDER = ['1', '7', '3', '0', '8', '2', '5', '9', '4', '6'];

export function digitsPool(): Pool {
  const rng = new Rng(Rng.derive(POOL_SEED, 2));
  const u = (a: number, b: number): number => a + (b - a) * rng.next();
  const items: Recipe[] = [];
  DIGIT_ORDER.forEach((digit, rank) => {
    for (let i = 0; i < DIGIT_DISTINCT[rank]; i++) {
      const glyph: Glyph = {
        text: digit,
        family: FAMILIES[rng.int(FAMILIES.length)],
        weight: rng.next() < 0.35 ? 'bold' : 'normal',
        style: rng.next() < 0.3 ? 'italic' : 'normal',
        rotate: u(-15, 15),
        size: u(0.55, 0.8),
        dx: u(-0.08, 0.08),
        dy: u(-0.06, 0.06),
        stroke: rng.next() < 0.5 ? 0 : u(0.5, 3),
      };
      const concept = `${digit}-${i}`;
      const label = `digit-${digit}`;
      items.push({ id: `d${items.length}`, label, concept, kind: 'original', glyph });
      for (let c = copiesOf(DIGIT_COPIES[rank], rng); c > 0; c--) {
        const jitter = drawJitter(rng, 64);
        items.push({ id: `d${items.length}`, label, concept, kind: 'copy', glyph, jitter });
      }
    }
  });
  return {
    name: 'digits',
    description:
      'digits 0-9 drawn white on black (MNIST-style) with 9 system font families, random ' +
      'weight, slant, rotation, position and pen width; jittered JPEG copies, most in the head digits',
    items,
  };
}

/** Item counts per label, largest first. */
export function labelCounts(items: readonly { label: string }[]): Record<string, number> {
  const counts = new Map<string, number>();
  for (const it of items) counts.set(it.label, (counts.get(it.label) ?? 0) + 1);
  return Object.fromEntries([...counts.entries()].sort((a, b) => b[1] - a[1]));
}
