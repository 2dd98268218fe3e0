/**
 * The caller's side of the kernel's thread pool: N workers that each instantiate the kernel over
 * one shared WebAssembly.Memory and split every job's row blocks between them. The pool does not
 * know how workers are made: browser-pool.ts and node-pool.ts adapt Worker / worker_threads to
 * `PoolPort`, so this file runs anywhere.
 */
import type { FromWorker, InitMessage, RunMessage, ToWorker } from './protocol.ts';
import type { WasmMemory, WasmModule } from './wasm-api.ts';

/** One worker as the pool sees it. */
export interface PoolPort {
  postMessage(msg: ToWorker): void;
  /** Registers the handlers for the worker's replies and for its crash. */
  listen(onMessage: (msg: FromWorker) => void, onError: (err: Error) => void): void;
  terminate(): void;
  /** Whether a request is in flight (Node: ref the worker then, so the process stays alive). */
  busy?(busy: boolean): void;
}

interface Waiter {
  resolve(): void;
  reject(err: Error): void;
}

export type PoolJob = Omit<RunMessage, 'type' | 'id'>;

export class KernelPool {
  readonly #ports: readonly PoolPort[];
  /** what each worker is doing now (one request at a time per worker) */
  readonly #waiting: (Waiter | undefined)[];
  #broken: Error | undefined;
  #nextId = 1;

  constructor(ports: readonly PoolPort[]) {
    if (ports.length === 0) throw new RangeError('a kernel pool needs at least one worker');
    this.#ports = ports;
    this.#waiting = ports.map(() => undefined);
    ports.forEach((port, i) =>
      port.listen(
        (msg) => {
          const waiter = this.#waiting[i];
          this.#waiting[i] = undefined;
          port.busy?.(false);
          if (msg.type === 'error')
            waiter?.reject(new Error(`k-means worker ${i}: ${msg.message}`));
          else waiter?.resolve();
        },
        (err) => this.#fail(new Error(`k-means worker ${i} crashed: ${err.message}`)),
      ),
    );
  }

  get size(): number {
    return this.#ports.length;
  }

  /** Instantiates `module` over `memory` in every worker. */
  init(module: WasmModule, memory: WasmMemory): Promise<void> {
    const msg: InitMessage = { type: 'init', module, memory };
    return this.#broadcast(() => msg);
  }

  /** Runs one job on every worker (they share its row blocks) and resolves when all are done. */
  run(job: PoolJob): Promise<void> {
    const id = this.#nextId++;
    return this.#broadcast(() => ({ type: 'run', id, ...job }));
  }

  terminate(): void {
    this.#fail(new Error('the k-means thread pool was disposed'));
    for (const port of this.#ports) port.terminate();
  }

  #broadcast(make: () => ToWorker): Promise<void> {
    if (this.#broken) return Promise.reject(this.#broken);
    const all = this.#ports.map((port, i) => {
      if (this.#waiting[i]) throw new Error('k-means pool: a job is already running');
      return new Promise<void>((resolve, reject) => {
        this.#waiting[i] = { resolve, reject };
        port.busy?.(true);
        port.postMessage(make());
      });
    });
    return Promise.all(all).then(() => undefined);
  }

  #fail(err: Error): void {
    this.#broken ??= err;
    this.#waiting.forEach((w, i) => {
      this.#waiting[i] = undefined;
      this.#ports[i].busy?.(false);
      w?.reject(err);
    });
  }
}
