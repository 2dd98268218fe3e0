/**
 * The matrices a backend has uploaded, kept for reuse: the hierarchy reassigns the same input
 * after every resampling step and alternates it with refit subsets, so re-uploading (and
 * recomputing |x|^2) each time would dominate small steps. Entries are keyed by the identity of
 * the matrix's Float32Array (and its shape): a matrix's data must not change while it is cached.
 */
import type { Matrix } from '../core/types.ts';
import type { GpuRows } from './buffers.ts';
import type { CallScope } from './call-scope.ts';

/** Uploaded matrices kept for reuse (the hierarchy alternates refit subsets and its input). */
const UPLOAD_CACHE_ENTRIES = 2;

export interface Uploaded {
  readonly data: Float32Array;
  readonly rows: GpuRows;
  /** |x|^2 per row (global) */
  readonly xnorm: GPUBuffer;
  /** owns rows, xnorm and the uniforms of the norms pass; destroyed on eviction */
  readonly scope: CallScope;
  lastUse: number;
}

export class UploadCache {
  private readonly entries: Uploaded[] = [];
  private useClock = 0;

  /** The cached upload of x's data with x's shape, marked as just used; else undefined. */
  find(x: Matrix): Uploaded | undefined {
    for (const u of this.entries) {
      if (u.data === x.data && u.rows.rows === x.rows && u.rows.cols === x.cols) {
        u.lastUse = ++this.useClock;
        return u;
      }
    }
    return undefined;
  }

  /** Adds a new upload, first evicting (and destroying) the least recently used if full. */
  add(u: Omit<Uploaded, 'lastUse'>): Uploaded {
    const entry: Uploaded = { ...u, lastUse: ++this.useClock };
    if (this.entries.length >= UPLOAD_CACHE_ENTRIES) {
      let old = 0;
      for (let i = 1; i < this.entries.length; i++) {
        if (this.entries[i].lastUse < this.entries[old].lastUse) old = i;
      }
      this.entries[old].scope.destroy();
      this.entries.splice(old, 1);
    }
    this.entries.push(entry);
    return entry;
  }

  /** Destroys every entry. */
  clear(): void {
    for (const u of this.entries.splice(0)) u.scope.destroy();
  }
}
