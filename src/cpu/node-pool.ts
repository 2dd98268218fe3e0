/// <reference types="node" />
/**
 * Kernel threads in Node (the CLI, unit tests, benches): worker_threads running
 * src/workers/kernel-thread-node.worker.ts.
 * Node-only: the browser entry (browser.ts) never imports this file.
 */
import { Worker } from 'node:worker_threads';
import { KernelPool, type PoolPort } from './pool.ts';
import type { FromWorker } from './protocol.ts';

function workerPort(worker: Worker): PoolPort {
  // An idle pool must not keep a finished CLI alive; a worker is ref'd only while it works.
  worker.unref();
  return {
    busy: (busy) => (busy ? worker.ref() : worker.unref()),
    postMessage: (msg) => worker.postMessage(msg),
    listen(onMessage, onError) {
      worker.on('message', (msg: FromWorker) => onMessage(msg));
      worker.on('error', onError);
      worker.on('exit', (code) => {
        if (code !== 0) onError(new Error(`exited with code ${code}`));
      });
    },
    terminate: () => void worker.terminate(),
  };
}

export function createNodePool(size: number): KernelPool {
  // The .mjs entry loads the TypeScript body (kernel-thread-node.worker.ts) through tsx.
  const url = new URL('../workers/kernel-thread-node.worker.mjs', import.meta.url);
  return new KernelPool(Array.from({ length: size }, () => workerPort(new Worker(url))));
}
