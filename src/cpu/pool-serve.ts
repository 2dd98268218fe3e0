/**
 * The worker side of the kernel pool, shared by the browser thread
 * (src/workers/kernel-thread.worker.ts) and the Node one (kernel-thread-node.worker.ts):
 * instantiate the module over the shared memory, then run jobs.
 */
import type { FromWorker, RunMessage, ToWorker } from './protocol.ts';
import { instantiateKernel, type KernelExports, type WasmMemory } from './wasm-api.ts';

function runJob(kernel: KernelExports, memory: WasmMemory, job: RunMessage): void {
  // A fresh view each job: the memory may have grown (a new, longer SharedArrayBuffer).
  const counter = new Int32Array(memory.buffer, job.counter, 1);
  const t = job.tail;
  for (;;) {
    const start = Atomics.add(counter, 0, job.grain);
    if (start >= job.blocks) return;
    const end = Math.min(start + job.grain, job.blocks);
    if (job.fn === 'assign') {
      kernel.assign(job.xp, job.d4, start, end, t[0], t[1], t[2], t[3], t[4], t[5], t[6]);
    } else {
      kernel.distTo(job.xp, job.d4, start, end, t[0], t[1], t[2], t[3], t[4]);
    }
  }
}

/** Returns the message handler of one worker; `post` sends its replies. */
export function createKernelServer(post: (msg: FromWorker) => void): (msg: ToWorker) => void {
  let kernel: KernelExports | undefined;
  let memory: WasmMemory | undefined;
  return (msg) => {
    try {
      if (msg.type === 'init') {
        memory = msg.memory;
        kernel = instantiateKernel(msg.module, msg.memory);
        post({ type: 'ready' });
      } else {
        if (!kernel || !memory) throw new Error('k-means worker got a job before its module');
        runJob(kernel, memory, msg);
        post({ type: 'done', id: msg.id });
      }
    } catch (err) {
      post({ type: 'error', message: err instanceof Error ? err.message : String(err) });
    }
  };
}
