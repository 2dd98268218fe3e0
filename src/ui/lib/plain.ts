/**
 * Internal names of where work ran, turned into words a person reads: "cpu-wasm-relaxed-simd-x2"
 * becomes "this device's processor, 2 threads". The internal name stays available behind a fold.
 */
import type { DatasetStorage } from '../../pipeline/contract';

/** Where clustering ran, from a run's `backendUsed`. */
export function plainBackend(backend: string | undefined): string {
  if (!backend) return '';
  const b = backend.toLowerCase();
  if (b.startsWith('webgpu')) {
    return b.includes('fallback') || b.includes('swiftshader')
      ? 'a software stand-in for a graphics card'
      : "this device's graphics card";
  }
  if (b.startsWith('cpu')) {
    const threads = /-x(\d+)$/.exec(b);
    const n = threads ? Number(threads[1]) : 1;
    return `this device's processor, ${n} ${n === 1 ? 'thread' : 'threads'}`;
  }
  return backend;
}

/** Where the embedding model ran, from a run's `providerUsed`. */
export function plainProvider(provider: string | undefined): string {
  if (!provider) return '';
  const p = provider.toLowerCase();
  if (p.includes('precomputed')) return 'embeddings given with the data';
  if (p.startsWith('webgpu')) {
    return p.includes('fallback') || p.includes('swiftshader')
      ? 'a software stand-in for a graphics card'
      : "this device's graphics card";
  }
  if (p.includes('wasm') || p.includes('cpu')) return "this device's processor";
  return provider;
}

/**
 * A notice's message without the internal backend name the cluster worker puts in front
 * ("Clustering on cpu-wasm-relaxed-simd-x2: ..."); the sentence after it says it plainly.
 */
export function plainMessage(message: string): string {
  return message.replace(/^Clustering on [^:]*: /, '');
}

/** Notices with the same message told once: one notice per cause. */
export function uniqueNotices<T extends { readonly message: string; readonly level: string }>(
  notices: readonly T[],
): T[] {
  const seen = new Set<string>();
  return notices.filter((n) => {
    const key = `${n.level}:${n.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** Where a dataset's pictures are kept, for the dataset list and the ingest report. */
export function plainStorage(storage: DatasetStorage): string {
  switch (storage) {
    case 'folder':
      return 'reads the pictures from the folder on this device; stores only thumbnails and embeddings';
    case 'copies':
      return 'keeps a copy of every picture in this browser';
    case 'none':
      return 'stores the embeddings only (there are no pictures)';
  }
}
