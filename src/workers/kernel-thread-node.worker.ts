/// <reference types="node" />
/**
 * Node entry of one thread of the WebAssembly k-means kernel (a worker_threads Worker started by
 * src/cpu/node-pool.ts, through kernel-thread-node.worker.mjs). Same protocol and server as the
 * browser entry, kernel-thread.worker.ts.
 */
import { parentPort } from 'node:worker_threads';
import type { FromWorker, ToWorker } from '../cpu/protocol.ts';
import { createKernelServer } from '../cpu/pool-serve.ts';

if (!parentPort) throw new Error('kernel-thread-node.worker.ts must run as a worker thread');
const port = parentPort;
const serve = createKernelServer((msg: FromWorker) => port.postMessage(msg));
port.on('message', (msg: ToWorker) => serve(msg));
