/**
 * The built-in demo dataset: 200 long-tailed emoji images that scripts/assets/30-demo-data.ts
 * puts under demo/ next to index.html. "Try with demo data" turns them into File objects that
 * look exactly like a folder the person dropped: each File's `webkitRelativePath` is
 * `emoji/<category>/<name>.png`, so the ingest takes the category as the folder label.
 *
 * Everything is fetched relative to the page, so it works from any sub-path, and the service
 * worker keeps it for offline use.
 */
import * as v from 'valibot';

const RelativePath = v.pipe(
  v.string(),
  v.maxLength(200),
  // Only plain relative paths under demo/: no scheme, no absolute path, no "..", no odd chars.
  v.regex(
    /^(?:[a-z0-9][a-z0-9._-]*\/)*[a-z0-9][a-z0-9._-]*\.png$/,
    'not a plain relative .png path',
  ),
  v.check((p) => !p.split('/').includes('..'), 'path must not climb out of demo/'),
);

const ManifestSchema = v.object({
  version: v.literal(1),
  name: v.string(),
  description: v.string(),
  source: v.string(),
  license: v.string(),
  counts: v.record(v.string(), v.number()),
  files: v.pipe(
    v.array(
      v.object({
        path: RelativePath,
        label: v.pipe(v.string(), v.regex(/^[a-z0-9-]{1,64}$/)),
        bytes: v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(10_000_000)),
        sha256: v.pipe(v.string(), v.regex(/^[0-9a-f]{64}$/)),
      }),
    ),
    v.minLength(1),
    v.maxLength(10_000),
  ),
});

export type DemoManifest = v.InferOutput<typeof ManifestSchema>;

export interface DemoDataset {
  readonly manifest: DemoManifest;
  /** File objects in manifest order; `webkitRelativePath` holds `emoji/<label>/<name>.png` */
  readonly files: File[];
  /** the same relative paths as an explicit list (index-aligned with files) */
  readonly paths: string[];
  /** folder label of each file (index-aligned with files) */
  readonly labels: string[];
}

export interface DemoLoadOptions {
  /** where demo/ lives; default: the folder of the current page + "demo/" */
  readonly baseUrl?: string | URL;
  readonly signal?: AbortSignal;
  readonly onProgress?: (done: number, total: number) => void;
}

/** A problem with the demo data itself (missing from the build, damaged); message is for people. */
export class DemoDataError extends Error {
  override readonly name = 'DemoDataError';
}

// Enough requests in flight to hide latency on a remote host without flooding it: HTTP/1.1
// browsers open 6 connections per origin, so 6 keeps every connection busy.
const CONCURRENCY = 6;
// Demo files are stamped with a fixed date so identical bytes give identical File metadata
// (content hashes and caches downstream stay stable between loads).
const LAST_MODIFIED = Date.UTC(2024, 9, 1);

function defaultBase(): URL {
  const here = typeof document !== 'undefined' ? document.baseURI : self.location.href;
  return new URL('demo/', here);
}

function baseOf(options: DemoLoadOptions): URL {
  const base = options.baseUrl === undefined ? defaultBase() : new URL(String(options.baseUrl));
  if (!base.pathname.endsWith('/')) base.pathname += '/';
  return base;
}

async function get(url: URL, signal: AbortSignal | undefined): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(url, signal ? { signal } : {});
  } catch (e) {
    if (signal?.aborted) throw e;
    throw new DemoDataError(`Could not fetch the demo data (${url.pathname}): network error.`);
  }
  // Hosts with a single-page-app fallback (and Vite's dev server) answer a missing file with
  // index.html and status 200: an HTML page where data was asked for means "missing" too.
  const html = (res.headers.get('content-type') ?? '').startsWith('text/html');
  if (!res.ok || html) {
    throw new DemoDataError(
      res.status === 404 || html
        ? `The demo data is not part of this build (${url.pathname} is missing): run \`npm run assets\` before \`vite build\`.`
        : `Could not fetch the demo data (${url.pathname}): HTTP ${res.status}.`,
    );
  }
  return res;
}

/** Reads and validates demo/manifest.json. */
export async function loadDemoManifest(options: DemoLoadOptions = {}): Promise<DemoManifest> {
  const url = new URL('manifest.json', baseOf(options));
  const res = await get(url, options.signal);
  let json: unknown;
  try {
    json = await res.json();
  } catch {
    throw new DemoDataError('The demo data manifest is not valid JSON.');
  }
  const parsed = v.safeParse(ManifestSchema, json);
  if (!parsed.success) {
    const issue = parsed.issues[0];
    const where = v.getDotPath(issue) ?? 'manifest';
    throw new DemoDataError(`The demo data manifest is damaged: ${where}: ${issue.message}`);
  }
  return parsed.output;
}

/** Fetches the whole demo set as File objects, with paths and labels. */
export async function loadDemoDataset(options: DemoLoadOptions = {}): Promise<DemoDataset> {
  const manifest = await loadDemoManifest(options);
  const base = baseOf(options);
  const total = manifest.files.length;
  const files = new Array<File>(total);
  let next = 0;
  let done = 0;
  options.onProgress?.(0, total);
  const worker = async (): Promise<void> => {
    while (next < total) {
      const i = next++;
      const entry = manifest.files[i];
      const res = await get(new URL(entry.path, base), options.signal);
      const blob = await res.blob();
      if (blob.size !== entry.bytes) {
        throw new DemoDataError(
          `The demo file ${entry.path} is damaged: ${blob.size} bytes, expected ${entry.bytes}.`,
        );
      }
      const name = entry.path.slice(entry.path.lastIndexOf('/') + 1);
      const file = new File([blob], name, { type: 'image/png', lastModified: LAST_MODIFIED });
      // A File from a folder pick carries its path here; the ingest reads it the same way.
      Object.defineProperty(file, 'webkitRelativePath', { value: entry.path });
      files[i] = file;
      options.onProgress?.(++done, total);
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, total) }, worker));
  return {
    manifest,
    files,
    paths: manifest.files.map((f) => f.path),
    labels: manifest.files.map((f) => f.label),
  };
}

/** The demo set as dropped files (what "try with demo data" ingests). */
export async function loadDemoFiles(options: DemoLoadOptions = {}): Promise<File[]> {
  return (await loadDemoDataset(options)).files;
}
