/**
 * What the main thread was doing during its long tasks: a sampling CPU profile of the page
 * (CDP Profiler, main thread only) cut to each long task's window, with every frame of the
 * built app mapped back to its source function through the build's source maps. Gives the
 * names to fix when a task runs over 200 ms, without a full trace (which at 20k images runs to
 * gigabytes).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface CpuProfile {
  readonly nodes: readonly {
    readonly id: number;
    readonly callFrame: {
      readonly functionName: string;
      readonly url: string;
      readonly lineNumber: number;
      readonly columnNumber: number;
    };
    readonly children?: readonly number[];
  }[];
  /** microseconds, the profiler's clock */
  readonly startTime: number;
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64_INDEX = new Map([...B64].map((c, i) => [c, i]));

/** One decoded mapping: generated column, then source index, line, column, name index. */
type Segment = readonly [number, number, number, number, number];

/** Decodes a source map's `mappings` (base64 VLQ) into segments per generated line. */
function decodeMappings(mappings: string): Segment[][] {
  const lines: Segment[][] = [];
  let src = 0;
  let srcLine = 0;
  let srcCol = 0;
  let name = 0;
  for (const line of mappings.split(';')) {
    const out: Segment[] = [];
    let col = 0;
    for (const seg of line.split(',')) {
      if (!seg) continue;
      const v: number[] = [];
      let shift = 0;
      let value = 0;
      for (const c of seg) {
        const d = B64_INDEX.get(c) ?? 0;
        value += (d & 31) << shift;
        if (d & 32) shift += 5;
        else {
          v.push(value & 1 ? -(value >>> 1) : value >>> 1);
          value = 0;
          shift = 0;
        }
      }
      col += v[0];
      if (v.length >= 4) {
        src += v[1];
        srcLine += v[2];
        srcCol += v[3];
        if (v.length >= 5) name += v[4];
        out.push([col, src, srcLine, srcCol, v.length >= 5 ? name : -1]);
      }
    }
    lines.push(out);
  }
  return lines;
}

interface SourceMap {
  readonly sources: readonly string[];
  readonly names: readonly string[];
  readonly lines: Segment[][];
}

/** Maps frames of the built app's files (under `dist`) to "function (src/file.ts:line)". */
export class FrameNamer {
  private readonly maps = new Map<string, SourceMap | null>();
  constructor(private readonly dist: string) {}

  private mapOf(url: string): SourceMap | null {
    const file = new URL(url).pathname.replace(/^\//, '');
    if (!this.maps.has(file)) {
      let map: SourceMap | null;
      try {
        const raw = JSON.parse(readFileSync(join(this.dist, `${file}.map`), 'utf8')) as {
          sources: string[];
          names: string[];
          mappings: string;
        };
        map = { sources: raw.sources, names: raw.names, lines: decodeMappings(raw.mappings) };
      } catch {
        map = null;
      }
      this.maps.set(file, map);
    }
    return this.maps.get(file) ?? null;
  }

  name(frame: CpuProfile['nodes'][number]['callFrame']): string {
    const { functionName, url, lineNumber, columnNumber } = frame;
    const fn = functionName || '(anonymous)';
    if (!url) return fn;
    const map = url.startsWith('http') ? this.mapOf(url) : null;
    const segs = map?.lines[lineNumber];
    if (!map || !segs?.length) return `${fn} (${url.split('/').pop()}:${lineNumber + 1})`;
    let best = segs[0];
    for (const s of segs) if (s[0] <= columnNumber) best = s;
    // Sources are relative to the build folder; a package's path is kept from node_modules/ on.
    const source = map.sources[best[1]]
      .replace(/^.*?node_modules\//, 'node_modules/')
      .replace(/^(\.\.\/)+/, '');
    // The name the source map records at the function's start is its name before minifying.
    const original = best[4] >= 0 ? map.names[best[4]] : fn;
    return `${original} (${source}:${best[2] + 1})`;
  }
}

export interface TaskProfile {
  /** samples inside the task's window */
  readonly samples: number;
  /** where the time went: functions on the stack, by share of samples (inclusive), app code only */
  readonly inclusive: readonly { readonly fn: string; readonly share: number }[];
  /** the innermost frames, by share of samples */
  readonly self: readonly { readonly fn: string; readonly share: number }[];
}

/**
 * Cuts the profile to windows given in the page's performance.now() milliseconds; `offsetMs` is
 * performance.now() when the profile started.
 */
export function profileWindows(
  profile: CpuProfile,
  offsetMs: number,
  windows: readonly { readonly start: number; readonly duration: number }[],
  namer: FrameNamer,
  top = 6,
): TaskProfile[] {
  const parent = new Map<number, number>();
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const names = new Map<number, string>();
  const nameOf = (id: number): string => {
    let s = names.get(id);
    if (s === undefined) {
      s = namer.name(byId.get(id)!.callFrame);
      names.set(id, s);
    }
    return s;
  };
  // Sample times in the page's milliseconds.
  const times: number[] = [];
  let t = profile.startTime;
  for (const d of profile.timeDeltas) {
    t += d;
    times.push(offsetMs + (t - profile.startTime) / 1000);
  }
  return windows.map((w) => {
    const self = new Map<string, number>();
    const inclusive = new Map<string, number>();
    let count = 0;
    for (let i = 0; i < times.length; i++) {
      if (times[i] < w.start || times[i] > w.start + w.duration) continue;
      count++;
      const leaf = profile.samples[i];
      const leafName = nameOf(leaf);
      self.set(leafName, (self.get(leafName) ?? 0) + 1);
      const seen = new Set<string>();
      for (let id: number | undefined = leaf; id !== undefined; id = parent.get(id)) {
        const url = byId.get(id)!.callFrame.url;
        if (!url.startsWith('http')) continue;
        const s = nameOf(id);
        if (seen.has(s)) continue;
        seen.add(s);
        inclusive.set(s, (inclusive.get(s) ?? 0) + 1);
      }
    }
    const rank = (m: Map<string, number>) =>
      [...m.entries()]
        .sort((a, b) => b[1] - a[1])
        .slice(0, top)
        .map(([fn, c]) => ({ fn, share: Number((c / Math.max(1, count)).toFixed(2)) }));
    return { samples: count, inclusive: rank(inclusive), self: rank(self) };
  });
}
