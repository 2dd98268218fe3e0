/**
 * Getting a model's .onnx bytes: a file the person picked, the bundled model next to the app, or
 * a remote file downloaded once (with progress) into the Cache API and checked by size and
 * sha-256 where the spec knows them. Nothing is fetched unless a person chose that model.
 */
import type { ModelSpec } from './models';
import { sha256Hex } from './sha256';

/** Cache API bucket; bump the suffix if the stored layout ever changes. */
export const MODEL_CACHE = 'strata-models-v1';

export interface ModelBytes {
  bytes: Uint8Array;
  sha256: string;
  /** where the bytes came from this time */
  source: 'file' | 'app' | 'cache' | 'network';
  url?: string;
}

export interface DownloadProgress {
  loaded: number;
  /** total bytes when the server or the spec says, else undefined */
  total?: number;
}

export interface LoadModelOptions {
  /** absolute URL that relative model URLs are resolved against (the app's root) */
  baseUrl: string;
  onProgress?: (p: DownloadProgress) => void;
  signal?: AbortSignal;
}

/** A model could not be loaded; `message` says which model, where from, and why. */
export class ModelLoadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelLoadError';
  }
}

function checkBytes(spec: ModelSpec, bytes: Uint8Array, sha: string, where: string): void {
  if (spec.bytes !== undefined && bytes.length !== spec.bytes) {
    throw new ModelLoadError(
      `${spec.name}: ${where} is ${bytes.length} bytes, expected ${spec.bytes} (incomplete or a different file).`,
    );
  }
  if (spec.sha256 !== undefined && sha !== spec.sha256) {
    throw new ModelLoadError(
      `${spec.name}: ${where} has sha-256 ${sha}, expected ${spec.sha256} (a different or damaged file).`,
    );
  }
}

async function readWithProgress(
  res: Response,
  total: number | undefined,
  onProgress: ((p: DownloadProgress) => void) | undefined,
): Promise<Uint8Array> {
  if (!res.body) return new Uint8Array(await res.arrayBuffer());
  const reader = res.body.getReader();
  const parts: Uint8Array[] = [];
  let loaded = 0;
  onProgress?.({ loaded, total });
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    parts.push(value);
    loaded += value.length;
    onProgress?.({ loaded, total });
  }
  const out = new Uint8Array(loaded);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

async function openCache(): Promise<Cache | undefined> {
  // The Cache API exists only in secure contexts; elsewhere every load downloads again.
  if (typeof caches === 'undefined') return undefined;
  try {
    return await caches.open(MODEL_CACHE);
  } catch {
    return undefined;
  }
}

export function resolveModelUrl(spec: ModelSpec, baseUrl: string): string {
  if (!spec.url) throw new ModelLoadError(`${spec.name}: no file or URL given.`);
  try {
    return new URL(spec.url, baseUrl).href;
  } catch {
    throw new ModelLoadError(`${spec.name}: "${spec.url}" is not a valid URL.`);
  }
}

export async function loadModelBytes(spec: ModelSpec, opts: LoadModelOptions): Promise<ModelBytes> {
  if (spec.file) {
    const bytes = new Uint8Array(await spec.file.arrayBuffer());
    if (bytes.length === 0) throw new ModelLoadError(`${spec.name}: the model file is empty.`);
    const sha = await sha256Hex(bytes);
    checkBytes(spec, bytes, sha, 'the file');
    return { bytes, sha256: sha, source: 'file' };
  }
  const url = resolveModelUrl(spec, opts.baseUrl);
  // Files served with the app (the bundled model) are not copied into the Cache API: the HTTP
  // cache already keeps them and a new app version must not be shadowed by an old copy.
  const sameOrigin = new URL(url).origin === new URL(opts.baseUrl).origin;
  const cache = sameOrigin ? undefined : await openCache();
  const hit = await cache?.match(url);
  if (hit) {
    const bytes = new Uint8Array(await hit.arrayBuffer());
    const sha = await sha256Hex(bytes);
    try {
      checkBytes(spec, bytes, sha, 'the stored copy');
      return { bytes, sha256: sha, source: 'cache', url };
    } catch {
      // A stale or damaged copy: drop it and download again.
      await cache?.delete(url);
    }
  }

  let res: Response;
  try {
    res = await fetch(url, { signal: opts.signal, credentials: 'omit' });
  } catch (err) {
    if (opts.signal?.aborted) throw err;
    const host = new URL(url).host;
    throw new ModelLoadError(
      `${spec.name}: could not reach ${host} (offline, blocked, or the server does not allow ` +
        `cross-origin downloads): ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  if (!res.ok) {
    throw new ModelLoadError(
      `${spec.name}: downloading ${url} failed with HTTP ${res.status} ${res.statusText}`.trim() +
        '.',
    );
  }
  const header = Number(res.headers.get('content-length') ?? NaN);
  // Content-Length counts encoded bytes; only trust it when the body is not compressed.
  const encoded = (res.headers.get('content-encoding') ?? 'identity') !== 'identity';
  const total = spec.bytes ?? (Number.isFinite(header) && !encoded ? header : undefined);
  const bytes = await readWithProgress(res, total, opts.onProgress);
  if (!encoded && Number.isFinite(header) && bytes.length !== header) {
    throw new ModelLoadError(
      `${spec.name}: download stopped at ${bytes.length} of ${header} bytes; try again.`,
    );
  }
  const sha = await sha256Hex(bytes);
  checkBytes(spec, bytes, sha, 'the downloaded file');
  if (cache) {
    await cache.put(
      url,
      new Response(bytes as Uint8Array<ArrayBuffer>, {
        headers: { 'content-type': 'application/octet-stream', 'x-sha256': sha },
      }),
    );
  }
  return { bytes, sha256: sha, source: sameOrigin ? 'app' : 'network', url };
}

/** Drop downloaded models (the person can reclaim disk space from the UI). */
export async function clearModelCache(): Promise<void> {
  if (typeof caches !== 'undefined') await caches.delete(MODEL_CACHE);
}
