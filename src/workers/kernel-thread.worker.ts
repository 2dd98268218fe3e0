/**
 * Browser entry of one thread of the WebAssembly k-means kernel (a module Worker started by
 * src/cpu/browser-pool.ts). Not Comlink: the pool and its threads share the kernel's memory and
 * split each pass through an atomic counter, and speak the small message protocol of
 * src/cpu/protocol.ts (the Node threads speak it too); the server is src/cpu/pool-serve.ts.
 */
import type { FromWorker, ToWorker } from '../cpu/protocol.ts';
import { createKernelServer } from '../cpu/pool-serve.ts';

const scope = self as unknown as DedicatedWorkerGlobalScope;
const serve = createKernelServer((msg: FromWorker) => scope.postMessage(msg));
scope.addEventListener('message', (event: MessageEvent<ToWorker>) => serve(event.data));
