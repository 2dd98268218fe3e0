/**
 * Page code of the job-bundle benchmark (bench/job-bundle.html), driven by
 * bench/job-bundle-scale.mjs in headless Chromium. It stores a precomputed dataset of N x D
 * float32 rows in a fresh database, chunk by chunk as the app's ingest does (the matrix never
 * exists whole in the page), then writes the job bundle the page writes: prepareJobBundle and
 * zipJobBundle, the zip stream read to its end into a sink that only counts bytes. Variants run
 * interleaved, `repeats` times each; the heap (performance.memory, with
 * --enable-precise-memory-info) is sampled every 20 ms. Nothing here asserts: it measures.
 */
import { openStrataDb } from '../src/store/db.ts';
import { putPrecomputedChunk } from '../src/store/embeddings.ts';
import { putDataset } from '../src/store/records.ts';
import type { DatasetRecord, ItemRecord } from '../src/store/schema.ts';
import { prepareJobBundle, zipJobBundle } from '../src/pipeline/job-bundle.ts';
import type { Normalisation, RunSettings } from '../src/pipeline/contract.ts';

interface Spec {
  rows: number;
  cols: number;
  repeats: number;
  variants: Normalisation[];
}
declare function benchSpec(): Promise<Spec>;
declare function benchReport(line: string): Promise<void>;

const report = (o: object): Promise<void> => benchReport(JSON.stringify(o));
const heap = (): number =>
  (performance as unknown as { memory?: { usedJSHeapSize: number } }).memory?.usedJSHeapSize ?? 0;

/** The app's precomputed chunk: 256 rows a record. */
const CHUNK_ROWS = 256;

async function fill(spec: Spec): Promise<{ dbName: string; id: string; seconds: number }> {
  const dbName = `strata-bench-${Date.now()}`;
  const db = await openStrataDb(dbName);
  const t0 = performance.now();
  const d: DatasetRecord = {
    id: crypto.randomUUID(),
    name: 'bench',
    source: 'precomputed',
    storage: 'none',
    createdAt: Date.now(),
    updatedAt: Date.now(),
    itemCount: 0,
    bytes: 0,
    labels: [],
    dim: spec.cols,
    include: [],
    exclude: [],
    nextIndex: 0,
    complete: false,
  };
  let state = 1;
  for (let r0 = 0, chunk = 0; r0 < spec.rows; r0 += CHUNK_ROWS, chunk++) {
    const r1 = Math.min(spec.rows, r0 + CHUNK_ROWS);
    const items: ItemRecord[] = [];
    for (let r = r0; r < r1; r++) {
      items.push({
        datasetId: d.id,
        index: r,
        path: `row-${r}`,
        name: `row-${r}`,
        size: 0,
        type: '',
        lastModified: 0,
        hash: '',
        label: null,
        hasThumb: false,
      });
    }
    const data = new Float32Array((r1 - r0) * spec.cols);
    for (let i = 0; i < data.length; i++) {
      state = (state * 1103515245 + 12345) >>> 0; // any numbers will do; finite ones
      data[i] = state / 2 ** 32 - 0.5;
    }
    d.itemCount = d.nextIndex = r1;
    await putPrecomputedChunk(db, d, items, {
      datasetId: d.id,
      model: 'precomputed',
      chunk,
      dim: spec.cols,
      indices: Int32Array.from({ length: r1 - r0 }, (_, i) => r0 + i),
      data,
    });
    if (chunk % 400 === 0) await report({ log: `stored ${r1} of ${spec.rows} rows` });
  }
  d.complete = true;
  await putDataset(db, d);
  db.close();
  return { dbName, id: d.id, seconds: (performance.now() - t0) / 1000 };
}

async function once(dbName: string, id: string, spec: Spec, how: Normalisation): Promise<object> {
  const db = await openStrataDb(dbName);
  const settings: RunSettings = {
    model: 'precomputed',
    provider: 'auto',
    batchSize: 8,
    normalisation: how,
    k: [Math.round(spec.rows / 10)],
    r: [1],
    resamplingSteps: 0,
    resampleStrategy: 'closest',
    iterations: 50,
    target: Math.round(spec.rows / 5),
    leafStrategy: 'random',
    seed: 0,
    backend: 'auto',
  };
  const base = heap();
  let peak = base;
  const timer = setInterval(() => (peak = Math.max(peak, heap())), 20);
  const t0 = performance.now();
  const prepared = await prepareJobBundle(db, id, settings, 'cluster');
  const tPrepared = performance.now();
  const reader = (await zipJobBundle(prepared)).getReader();
  let bytes = 0;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    bytes += value.length;
    peak = Math.max(peak, heap());
  }
  const seconds = (performance.now() - t0) / 1000;
  clearInterval(timer);
  db.close();
  return {
    bench: 'job-bundle',
    normalisation: how,
    rows: spec.rows,
    cols: spec.cols,
    matrix_mb: +((spec.rows * spec.cols * 4) / 1e6).toFixed(1),
    zip_mb: +(bytes / 1e6).toFixed(1),
    prepare_seconds: +((tPrepared - t0) / 1000).toFixed(2),
    seconds: +seconds.toFixed(2),
    mb_per_second: +(bytes / 1e6 / seconds).toFixed(1),
    heap_base_mb: +(base / 1e6).toFixed(1),
    heap_peak_mb: +(peak / 1e6).toFixed(1),
    heap_peak_over_base_mb: +((peak - base) / 1e6).toFixed(1),
  };
}

async function main(): Promise<void> {
  const spec = await benchSpec();
  const filled = await fill(spec);
  await report({
    bench: 'job-bundle-fill',
    rows: spec.rows,
    cols: spec.cols,
    seconds: +filled.seconds.toFixed(1),
  });
  for (let rep = 0; rep < spec.repeats; rep++) {
    for (const how of spec.variants) {
      await report({ ...(await once(filled.dbName, filled.id, spec, how)), repeat: rep });
    }
  }
  indexedDB.deleteDatabase(filled.dbName);
}

main().then(
  () => report({ done: true }),
  (e: unknown) => report({ done: true, error: String((e as Error)?.stack ?? e) }),
);
