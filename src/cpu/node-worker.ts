/// <reference types="node" />
/** Node entry of one kernel thread (a worker_threads Worker started by node-pool.ts). */
import { parentPort } from 'node:worker_threads';
import type { FromWorker, ToWorker } from './protocol.ts';
import { createKernelServer } from './pool-serve.ts';

if (!parentPort) throw new Error('node-worker.ts must run as a worker thread');
const port = parentPort;
const serve = createKernelServer((msg: FromWorker) => port.postMessage(msg));
port.on('message', (msg: ToWorker) => serve(msg));
