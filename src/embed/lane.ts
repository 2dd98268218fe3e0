/**
 * One inference lane: an onnxruntime-web wasm session in a worker of its own
 * (src/workers/embed-lane.worker.ts), so several sessions run side by side on several cores and
 * the embed worker's own thread stays free to read, decode and pack the next batches while they
 * run. A lane only runs tensors: files, cache and batching stay in the embed service.
 */
import * as Comlink from 'comlink';
import type { ModelSpec } from './models';
import { configureOrt, createSession, type EmbedSession, type SessionTuning } from './session';

export class EmbedLane {
  private session?: EmbedSession;

  /** Load the model; `threads` fixes this lane's wasm thread count (ORT reads it once). */
  async open(
    bytes: Uint8Array,
    spec: ModelSpec,
    threads: number,
    tuning: SessionTuning = {},
  ): Promise<{ inputName: string; threads: number }> {
    const t = configureOrt(threads);
    await this.session?.release();
    this.session = await createSession(bytes, spec, 'wasm', tuning);
    return { inputName: this.session.inputName, threads: t };
  }

  async run(input: Float32Array, n: number): Promise<{ rows: Float32Array; dim: number }> {
    if (!this.session) throw new Error('the model is not loaded in this embedding worker');
    const out = await this.session.run(input, n);
    return Comlink.transfer(out, [out.rows.buffer]);
  }

  async release(): Promise<void> {
    await this.session?.release();
    this.session = undefined;
  }
}
