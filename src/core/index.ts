/** The public API of the curation core. */
export * from './types.ts';
export * from './errors.ts';
export * from './rng.ts';
export * from './matrix.ts';
export * from './cpu-kernel-js.ts';
export * from './kmeans.ts';
export * from './seeding.ts';
export * from './hierarchy.ts';
export * from './sampling.ts';
export * from './metrics.ts';
export * from './toy.ts';
export * from './defaults.ts';
export * from './kmeans-throughput.ts';
export * from './plan.ts';
export * from './npy.ts';
export * from './dedup.ts';
export * from './dedup-pool.ts';
