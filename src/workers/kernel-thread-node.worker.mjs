// Entry of one kernel thread in Node (started by src/cpu/node-pool.ts). The thread's code is
// TypeScript (kernel-thread-node.worker.ts); Node 20 does not apply a loader given in a worker's
// execArgv to its entry file, so this plain-JS entry registers tsx (the CLI and the tests run
// under it too) first.
const { register } = await import('tsx/esm/api');
register();
await import('./kernel-thread-node.worker.ts');
