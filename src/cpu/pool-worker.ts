/** Browser entry of one kernel thread (a module Worker started by browser-pool.ts). */
import type { FromWorker, ToWorker } from './protocol.ts';
import { createKernelServer } from './pool-serve.ts';

const scope = self as unknown as DedicatedWorkerGlobalScope;
const serve = createKernelServer((msg: FromWorker) => scope.postMessage(msg));
scope.addEventListener('message', (event: MessageEvent<ToWorker>) => serve(event.data));
