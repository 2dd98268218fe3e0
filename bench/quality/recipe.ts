/**
 * The shape of a pool recipe (pools.ts makes them, page.ts renders them): types only, with no
 * imports, so the page (DOM types) and the Node driver (Node types) share them.
 */

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
