/**
 * The ingest worker: hashes files, makes thumbnails and parses precomputed-embedding files off
 * the main thread. Comlink API: `digest(files)` -> one Digest per file, in order;
 * `precomputed(npy, ids?)` -> the matrix (transferred) with its ids and warnings.
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

const api = {
  digest(files: Blob[]): Promise<Digest[]> {
    return digestBatch(files);
  },
  async precomputed(npy: Blob, ids?: Blob): Promise<ParsedPrecomputed> {
    const p = await loadPrecomputed(npy, ids);
    const out: ParsedPrecomputed = {
      data: p.matrix.data,
      rows: p.matrix.rows,
      cols: p.matrix.cols,
      ids: p.ids,
      warnings: p.warnings,
    };
    return Comlink.transfer(out, [out.data.buffer]);
  },
};

export type IngestWorkerApi = typeof api;
Comlink.expose(api);
