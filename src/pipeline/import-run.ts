/**
 * "Import a cluster run": the reference pipeline's output folder (picked as a folder, a folder
 * handle or a zip) parsed and checked in the interop worker, then stored as a finished run that
 * the explorer, the sampler and every export treat like one of the app's own.
 *
 * Whose rows: when ids.txt next to the run names the items of a stored dataset (every id one of
 * its items, and its stored embeddings of the same dimension), the run is on that dataset; else a
 * dataset is made from the embeddings.npy next to the run ("embeddings only"). The reference's
 * own curated subset (curated_datasets/) becomes the run's subset when there is one.
 */
import { DEFAULT_ITERS } from '../core/defaults';
import { defaultTarget, DEFAULT_LEAF_STRATEGY } from '../core/plan';
import { sampleHierarchy } from '../core/sampling';
import type { Db } from '../store/db';
import { embeddingModels, gatherMatrix, putPrecomputedChunk } from '../store/embeddings';
import { embeddingChunks } from '../store/embeddings';
import { putImportedRun } from '../store/imports';
import type { LevelData } from '../store/levels';
import { getDataset, itemPages, listDatasets, putDataset } from '../store/records';
import type { DatasetRecord, ItemRecord, Notice, RunRecord } from '../store/schema';
import { zeroCounters } from '../store/schema';
import { fromReferenceConfig } from '../interop/config';
import type { ParsedReference, ReferenceInput } from '../interop/service';
import { labelOf, nameOf } from '../ingest/paths';
import type {
  Normalisation,
  ReferenceImportReport,
  ReferenceImportSource,
  RunSettings,
  WorkspaceEvent,
} from './contract';
import { STAGES } from './contract';
import { toDatasetInfo, toRunInfo } from './convert';
import { UserInputError } from './errors';
import { normaliseRows } from './normalise';
import { toCoreLevel } from './run-data';
import { DEFAULT_BATCH_SIZE, embeddingKey, PRECOMPUTED_MODEL } from './settings';
import type { WorkerPool } from './workers';

export interface ImportServices {
  readonly db: Db;
  readonly pool: WorkerPool;
  readonly emit: (e: WorkspaceEvent) => void;
}

/** Rows per stored chunk of an imported matrix: the precomputed ingest's 256. */
const CHUNK_ROWS = 256;

function toInput(source: ReferenceImportSource): ReferenceInput {
  switch (source.kind) {
    case 'fileList':
      return {
        kind: 'files',
        files: Array.from(source.files, (f) => ({
          path: f.webkitRelativePath || f.name,
          blob: f,
        })),
      };
    case 'zip':
      return { kind: 'zip', blob: source.file, name: source.file.name };
    case 'directoryHandle':
      return { kind: 'directoryHandle', handle: source.handle };
  }
}

/** The normalisation the bundle applied to the rows it wrote (strata.json's flags). */
function bundleNormalisation(p: ParsedReference): Normalisation {
  if (!p.bundle?.normalized) return 'none';
  return p.bundle.centered ? 'center-l2' : 'l2';
}

interface Match {
  readonly dataset: DatasetRecord;
  readonly rowItems: Int32Array;
  readonly model: string;
}

/** A stored dataset whose items are the ids, one to one, with stored rows of the right width. */
async function findDataset(db: Db, p: ParsedReference): Promise<Match | null> {
  if (!p.ids) return null;
  for (const d of await listDatasets(db)) {
    if (d.itemCount < p.rows || d.complete === false) continue;
    const byPath = new Map<string, number>();
    for await (const page of itemPages(db, d.id)) {
      for (const it of page)
        if (!it.removed) byPath.set(it.path.replace(/[\r\n]+/g, ' '), it.index);
    }
    const rowItems = new Int32Array(p.rows);
    const used = new Set<number>();
    const all = p.ids.every((id, r) => {
      const index = byPath.get(id);
      if (index === undefined || used.has(index)) return false;
      used.add(index);
      rowItems[r] = index;
      return true;
    });
    if (!all) continue;
    for (const key of await embeddingModels(db, d.id)) {
      const model = key.split('|')[0];
      const settingsKey = d.source === 'precomputed' ? PRECOMPUTED_MODEL : model;
      if (embeddingKey({ model: settingsKey } as RunSettings) !== key) continue;
      const first = await embeddingChunks(db, d.id, key).next();
      if (!first.done && first.value.dim === p.dim)
        return { dataset: d, rowItems, model: settingsKey };
    }
  }
  return null;
}

/** A precomputed dataset holding the rows next to the run, stored chunk by chunk. */
async function storeEmbeddings(
  db: Db,
  p: ParsedReference,
  x: Float32Array,
): Promise<DatasetRecord> {
  const now = Date.now();
  const d: DatasetRecord = {
    id: crypto.randomUUID(),
    name: `${p.bundle?.name ?? p.folder} (cluster run)`,
    source: 'precomputed',
    storage: 'none',
    createdAt: now,
    updatedAt: now,
    itemCount: 0,
    bytes: 0,
    labels: [],
    dim: p.dim,
    include: [],
    exclude: [],
    nextIndex: 0,
    complete: false,
  };
  const labels = new Set<string>();
  for (let r0 = 0, chunk = 0; r0 < p.rows; r0 += CHUNK_ROWS, chunk++) {
    const r1 = Math.min(p.rows, r0 + CHUNK_ROWS);
    const items: ItemRecord[] = [];
    for (let r = r0; r < r1; r++) {
      const path = p.ids?.[r] ?? `row ${r}`;
      const label = p.ids ? labelOf(path) : null;
      if (label !== null) labels.add(label);
      items.push({
        datasetId: d.id,
        index: r,
        path,
        name: nameOf(path),
        size: 0,
        type: '',
        lastModified: 0,
        hash: '',
        label,
        hasThumb: false,
      });
    }
    d.nextIndex = d.itemCount = r1;
    d.labels = [...labels].sort();
    d.updatedAt = Date.now();
    await putPrecomputedChunk(db, d, items, {
      datasetId: d.id,
      model: PRECOMPUTED_MODEL,
      chunk,
      dim: p.dim,
      indices: Int32Array.from({ length: r1 - r0 }, (_, i) => r0 + i),
      data: x.slice(r0 * p.dim, r1 * p.dim),
    });
  }
  d.complete = true;
  await putDataset(db, d);
  return d;
}

/** The run's settings: the reference's config (or the bundle's, or the levels themselves). */
function settingsOf(p: ParsedReference, model: string, normalisation: Normalisation): RunSettings {
  const fromConfig = p.config ? fromReferenceConfig(p.config, p.bundle?.hierarchy.seed ?? 0) : null;
  const h = fromConfig?.config ?? p.bundle?.hierarchy;
  const curated = p.curated[0]?.indices.length;
  return {
    model,
    provider: 'auto',
    batchSize: DEFAULT_BATCH_SIZE,
    normalisation,
    // the levels as stored: a config asking for other k is a warning, the files win
    k: p.levels.map((l) => l.k),
    r: p.levels.map((_, t) => h?.levels[t]?.sampleSize ?? 1),
    resamplingSteps: h?.resamplingSteps ?? 0,
    resampleStrategy: h?.strategy ?? 'closest',
    iterations: h?.nIters ?? DEFAULT_ITERS,
    target: curated ?? p.bundle?.target ?? defaultTarget(p.rows),
    leafStrategy: DEFAULT_LEAF_STRATEGY,
    seed: h?.seed ?? 0,
    backend: 'auto',
    // the cluster run clustered every row it was given: nothing was set aside here
    dedup: null,
  };
}

export async function importReferenceRun(
  s: ImportServices,
  source: ReferenceImportSource,
): Promise<ReferenceImportReport> {
  const { db, pool } = s;
  const p = await pool.guard(pool.interop().read(toInput(source)), 'interop');
  const warnings = [...p.warnings];
  const match = await findDataset(db, p);
  let dataset: DatasetRecord;
  let rowItems: Int32Array;
  let settings: RunSettings;
  if (match) {
    dataset = match.dataset;
    rowItems = match.rowItems;
    settings = settingsOf(p, match.model, bundleNormalisation(p));
  } else {
    if (!p.embeddings) {
      throw new UserInputError(
        `"${p.folder}" has no embeddings.npy next to its levels, and no ids.txt that matches a stored dataset: pick the job folder that holds the run folder, embeddings.npy and ids.txt (a Strata job bundle has them), or add embeddings.npy to it.`,
      );
    }
    if (p.ids)
      warnings.push('Its ids match no stored dataset: the run is stored on its embeddings only.');
    dataset = await storeEmbeddings(db, p, p.embeddings);
    rowItems = Int32Array.from({ length: p.rows }, (_, i) => i);
    // the rows are stored as the reference clustered them: nothing to normalise again
    settings = settingsOf(p, PRECOMPUTED_MODEL, 'none');
  }

  const levels: LevelData[] = p.levels.map((l, t) => ({ ...l, level: t + 1 }));
  if (!p.distancesKnown && match) {
    // Level-1 distances from the stored rows, normalised as the bundle wrote them.
    const { data, dim } = await gatherMatrix(db, dataset.id, embeddingKey(settings), rowItems);
    await normaliseRows(data, p.rows, dim, settings.normalisation);
    const l1 = levels[0];
    levels[0] = {
      ...l1,
      dist2: await pool.guard(
        pool.interop().level1Distances(data, dim, l1.centroids, l1.labels),
        'interop',
      ),
    };
  } else if (!p.distancesKnown) {
    warnings.push('Level-1 distances are unknown: the map and the closest-first order still work.');
  }

  const now = Date.now();
  const curated = p.curated[0];
  const rows = curated
    ? Int32Array.from(new Set(curated.indices)).sort()
    : sampleHierarchy({ levels: levels.map(toCoreLevel) }, settings.target, {
        leafStrategy: settings.leafStrategy,
        seed: settings.seed,
      });
  const notices: Notice[] = [
    {
      at: now,
      stage: 'cluster',
      level: 'info',
      message: `Clusters imported from the cluster run in "${p.folder}": ${p.levels.length} levels, ${p.levels.map((l) => l.k).join(' → ')} clusters.`,
    },
    ...warnings.map((m): Notice => ({ at: now, stage: 'cluster', level: 'warning', message: m })),
  ];
  if (curated) {
    notices.push({
      at: now,
      stage: 'sample',
      level: 'info',
      message: `The curated subset is the cluster run's own ${curated.name} (${rows.length} items); "Sample again" draws a new one with Strata's sampler.`,
    });
  }
  const run: RunRecord = {
    id: crypto.randomUUID(),
    datasetId: dataset.id,
    datasetName: dataset.name,
    settings,
    status: 'done',
    stages: Object.fromEntries(
      STAGES.map((st) => [st, { status: 'done' as const, startedAt: now, finishedAt: now }]),
    ) as RunRecord['stages'],
    createdAt: now,
    updatedAt: now,
    finishedAt: now,
    rows: p.rows,
    dim: p.dim,
    backendUsed: 'the reference pipeline, elsewhere (imported)',
    notices,
    skipped: [],
    counters: zeroCounters(),
    selected: rows.length,
  };
  await putImportedRun(db, run, rowItems, levels, {
    runId: run.id,
    rows,
    target: rows.length,
    leafStrategy: curated ? 'reference' : settings.leafStrategy,
    seed: settings.seed,
    createdAt: now,
  });
  const fresh = (await getDataset(db, dataset.id)) ?? dataset;
  s.emit({ type: 'datasets' });
  s.emit({ type: 'run', run: toRunInfo(run) });
  return {
    run: toRunInfo(run),
    dataset: toDatasetInfo(fresh),
    matched: !!match,
    warnings,
  };
}
