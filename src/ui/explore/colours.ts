/**
 * Point colours of the map: by curated state (set-aside near-duplicates apart), by cluster at a
 * chosen level, or by folder label;
 * rows outside the active filter fade, rows of the open cluster or selection stand out. Pure
 * functions from per-row facts to one RGBA byte quadruple per point (the renderer's buffer).
 */
import type { RowFacts } from '../../pipeline/contract';

export type ColourBy = 'curated' | 'cluster' | 'label';

/** Twelve categorical colours readable on light and dark backgrounds (Tableau-like hues). */
export const PALETTE: readonly (readonly [number, number, number])[] = [
  [78, 121, 167],
  [242, 142, 43],
  [225, 87, 89],
  [118, 183, 178],
  [89, 161, 79],
  [237, 201, 72],
  [176, 122, 161],
  [255, 157, 167],
  [156, 117, 95],
  [186, 176, 172],
  [31, 119, 180],
  [148, 103, 189],
];

export const POOL: readonly [number, number, number] = [138, 144, 153];
export const CURATED: readonly [number, number, number] = [194, 106, 0];
export const EXCLUDED: readonly [number, number, number] = [200, 40, 60];
export const INCLUDED: readonly [number, number, number] = [40, 150, 80];
/** set aside as a near-duplicate (violet: apart from the pool's grey and the curated amber) */
export const SET_ASIDE: readonly [number, number, number] = [124, 92, 196];

export function hex(c: readonly [number, number, number]): string {
  return `rgb(${c[0]} ${c[1]} ${c[2]})`;
}

export interface ColourInput {
  readonly facts: RowFacts;
  readonly by: ColourBy;
  /** level (1-based) whose clusters colour the points */
  readonly level: number;
  /** 1 = passes the filters; absent = every row does */
  readonly visible?: Uint8Array | null;
  /** 1 = emphasised (the open cluster, the lassoed rows) */
  readonly focus?: Uint8Array | null;
}

export function pointColours(input: ColourInput): Uint8Array {
  const { facts, by, level, visible, focus } = input;
  const n = facts.selected.length;
  const out = new Uint8Array(4 * n);
  const clusters = facts.clusters[Math.max(0, Math.min(facts.clusters.length - 1, level - 1))];
  for (let i = 0; i < n; i++) {
    let c: readonly [number, number, number];
    if (by === 'cluster' && clusters) c = PALETTE[clusters[i] % PALETTE.length];
    else if (by === 'label') {
      const l = facts.labelOfRow[i];
      c = l < 0 ? POOL : PALETTE[l % PALETTE.length];
    } else if (facts.selected[i] && !facts.sampled[i]) c = INCLUDED;
    else if (!facts.selected[i] && facts.sampled[i]) c = EXCLUDED;
    else if (!facts.selected[i] && facts.setAside[i]) c = SET_ASIDE;
    else c = facts.selected[i] ? CURATED : POOL;
    let a = by === 'curated' && !facts.selected[i] ? 150 : 210;
    if (visible && !visible[i]) a = 28;
    if (focus && focus[i]) a = 255;
    out[4 * i] = c[0];
    out[4 * i + 1] = c[1];
    out[4 * i + 2] = c[2];
    out[4 * i + 3] = a;
  }
  return out;
}
