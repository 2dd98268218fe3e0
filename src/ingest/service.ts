/**
 * The ingest service: what the ingest worker (src/workers/ingest.worker.ts) exposes over Comlink,
 * so hashing files, making thumbnails and parsing precomputed-embedding files stay off the main
 * thread. Callers type the worker as `Comlink.Remote<IngestService>`.
 *
 * `digest(files)` -> one Digest per file, in order; `precomputed(npy, ids?)` -> the matrix
 * (transferred) with its ids and warnings.
 */
import * as Comlink from 'comlink';
import { loadPrecomputed } from '../embed/precomputed';
import { digestBatch, type Digest } from './digest';

export interface ParsedPrecomputed {
  data: Float32Array;
  rows: number;
  cols: number;
  ids: string[];
  warnings: string[];
}

export class IngestService {
  digest(files: Blob[]): Promise<Digest[]> {
    return digestBatch(files);
  }

  async precomputed(npy: Blob, ids?: Blob): Promise<ParsedPrecomputed> {
    const p = await loadPrecomputed(npy, ids);
    const out: ParsedPrecomputed = {
      data: p.matrix.data,
      rows: p.matrix.rows,
      cols: p.matrix.cols,
      ids: p.ids,
      warnings: p.warnings,
    };
    // The matrix moves to the caller instead of being copied; a direct call ignores the mark.
    return Comlink.transfer(out, [out.data.buffer]);
  }
}
