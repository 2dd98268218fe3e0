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

/** How a near-copy differs from its original (page.ts applies it on a canvas). */
export interface Jitter {
  /** shift of the content, as a fraction of the side */
  readonly dx: number;
  readonly dy: number;
  /** scale of the content around the centre */
  readonly scale: number;
  /** small rotation, degrees */
  readonly rotate: number;
  /** CSS filter amounts: hue rotation (degrees), brightness, saturation, contrast */
  readonly hue: number;
  readonly brightness: number;
  readonly saturate: number;
  readonly contrast: number;
  /** side of the copy in pixels (web copies come at many sizes) */
  readonly side: number;
  /** JPEG quality of the copy's encoding, 0..1 */
  readonly quality: number;
}

/** A digit glyph drawn with a system font (the digits pool's originals). */
export interface Glyph {
  readonly text: string;
  readonly family: string;
  readonly weight: 'normal' | 'bold';
  readonly style: 'normal' | 'italic';
  /** rotation of the glyph, degrees */
  readonly rotate: number;
  /** glyph height as a fraction of the side */
  readonly size: number;
  /** offset of the glyph's centre, as a fraction of the side */
  readonly dx: number;
  readonly dy: number;
  /** stroke added around the glyph, pixels at 64 px (thicker pen) */
  readonly stroke: number;
}

export interface Recipe {
  /** stable id inside the pool */
  readonly id: string;
  /** the class whose balance is measured */
  readonly label: string;
  /** the original this item is a version of (near-copies share it with their original) */
  readonly concept: string;
  /** how the item came to be */
  readonly kind: 'original' | 'variant' | 'copy';
  /** emoji: file name under the package's img/google/64 */
  readonly emoji?: string;
  readonly glyph?: Glyph;
  readonly jitter?: Jitter;
}

export interface Pool {
  readonly name: string;
  readonly description: string;
  readonly items: readonly Recipe[];
}

/** Seed of every draw the pool builders make. */
export const POOL_SEED = 20240523;

/** A jittered web-style copy: mild enough that a person sees the same image. */
function drawJitter(rng: Rng, baseSide: number): Jitter {
  const u = (a: number, b: number): number => a + (b - a) * rng.next();
  return {
    dx: u(-0.06, 0.06),
    dy: u(-0.06, 0.06),
    scale: u(0.88, 1.1),
    rotate: u(-6, 6),
    hue: u(-12, 12),
    brightness: u(0.9, 1.1),
    saturate: u(0.8, 1.2),
    contrast: u(0.9, 1.1),
    side: Math.round(baseSide * u(0.75, 1.5)),
    quality: u(0.55, 0.9),
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
