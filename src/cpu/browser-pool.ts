/** Kernel threads in the browser: module Workers running src/workers/kernel-thread.worker.ts. */
import { KernelPool, type PoolPort } from './pool.ts';
import type { FromWorker } from './protocol.ts';

function workerPort(worker: Worker): PoolPort {
  return {
    postMessage: (msg) => worker.postMessage(msg),
    listen(onMessage, onError) {
      worker.addEventListener('message', (e: MessageEvent<FromWorker>) => onMessage(e.data));
      worker.addEventListener('error', (e) => onError(new Error(e.message || 'worker error')));
      worker.addEventListener('messageerror', () =>
        onError(new Error('a message could not be deserialised')),
      );
    },
    terminate: () => worker.terminate(),
  };
}

export function createBrowserPool(size: number): KernelPool {
  const ports = Array.from({ length: size }, (_, i) =>
    workerPort(
      new Worker(new URL('../workers/kernel-thread.worker.ts', import.meta.url), {
        type: 'module',
        name: `strata-kmeans-${i}`,
      }),
    ),
  );
  return new KernelPool(ports);
}
