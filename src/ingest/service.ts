/**
 * The ingest service: what the ingest worker (src/workers/ingest.worker.ts) exposes over Comlink,
 * so hashing files, making thumbnails and reading precomputed-embedding files stay off the main
 * thread. Callers type the worker as `Comlink.Remote<IngestService>`.
 *
 * `digest(files)` -> one Digest per file, in order; `precomputed(npy, ids, onChunk)` -> the
 * matrix a slice of rows at a time (each transferred to `onChunk`, whose promise paces the
 * reading), then the row count and warnings.
 */
import * as Comlink from 'comlink';
import {
  streamPrecomputed,
  type PrecomputedChunk,
  type PrecomputedSummary,
} from '../embed/precomputed-stream';
import { digestBatch, type Digest } from './digest';

export type { PrecomputedChunk, PrecomputedSummary };

export class IngestService {
  digest(files: Blob[]): Promise<Digest[]> {
    return digestBatch(files);
  }

  precomputed(
    npy: Blob,
    ids: Blob | undefined,
    onChunk: (chunk: PrecomputedChunk) => Promise<void>,
  ): Promise<PrecomputedSummary> {
    // Each slice moves to the caller instead of being copied; a direct call ignores the mark.
    return streamPrecomputed(npy, ids, (chunk) =>
      onChunk(Comlink.transfer(chunk, [chunk.data.buffer])),
    );
  }
}
