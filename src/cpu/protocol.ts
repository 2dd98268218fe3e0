/** Messages between the kernel's thread pool (pool.ts) and each worker (pool-serve.ts). */
import type { WasmMemory, WasmModule } from './wasm-api.ts';

/** Which kernel export a job runs. */
export type KernelFn = 'assign' | 'distTo';

export interface InitMessage {
  readonly type: 'init';
  readonly module: WasmModule;
  /** the shared memory every thread of the pool (and the caller) uses */
  readonly memory: WasmMemory;
}

/**
 * Run `fn(xp, d4, rb0, rb1, ...tail)` over row blocks [0, blocks): every worker takes `grain`
 * blocks at a time from the i32 counter at byte `counter` (Atomics.add), so a thread that the
 * OS slows down takes fewer blocks instead of holding everyone up.
 */
export interface RunMessage {
  readonly type: 'run';
  readonly id: number;
  readonly fn: KernelFn;
  readonly xp: number;
  readonly d4: number;
  readonly tail: readonly number[];
  readonly blocks: number;
  readonly grain: number;
  readonly counter: number;
}

export type ToWorker = InitMessage | RunMessage;

export type FromWorker =
  | { readonly type: 'ready' }
  | { readonly type: 'done'; readonly id: number }
  | { readonly type: 'error'; readonly message: string };
