/**
 * Hierarchy levels and resampling steps of a run. Each level (or step) is written in one
 * transaction together with its chunks, so after a crash a level is either whole or absent.
 */
import { readF32, readI32, write, type Db, type Writer } from './db';
import type { LevelRecord, StepRecord } from './schema';

/** A level as the pipeline hands it over and reads it back. */
export interface LevelData {
  level: number;
  k: number;
  cols: number;
  /** rows clustered at this level */
  n: number;
  /** k x cols */
  centroids: Float32Array;
  /** n labels and squared distances */
  labels: Int32Array;
  dist2: Float32Array;
  /** members per cluster (closest first), concatenated, with k + 1 offsets */
  members: Int32Array;
  offsets: Int32Array;
}

export interface StepData {
  level: number;
  step: number;
  k: number;
  cols: number;
  centroids: Float32Array;
}

/** Flatten per-cluster member lists into members + offsets. */
export function packClusters(clusters: readonly Int32Array[]): {
  members: Int32Array;
  offsets: Int32Array;
} {
  const offsets = new Int32Array(clusters.length + 1);
  for (let j = 0; j < clusters.length; j++) offsets[j + 1] = offsets[j] + clusters[j].length;
  const members = new Int32Array(offsets[clusters.length]);
  for (let j = 0; j < clusters.length; j++) members.set(clusters[j], offsets[j]);
  return { members, offsets };
}

/** Views (no copies) of each cluster's members. */
export function unpackClusters(members: Int32Array, offsets: Int32Array): Int32Array[] {
  const out: Int32Array[] = [];
  for (let j = 0; j + 1 < offsets.length; j++)
    out.push(members.subarray(offsets[j], offsets[j + 1]));
  return out;
}

/**
 * Store a level. `also` adds more writes to the same transaction (the run record with its
 * counters), so what the run says it computed and what is stored never disagree.
 */
export async function putLevel(
  db: Db,
  runId: string,
  l: LevelData,
  also?: (w: Writer) => void,
): Promise<void> {
  const base = `${runId}/L${l.level}/`;
  await write(db, ['levels', 'chunks', 'runs'], `level ${l.level} of the run`, (w) => {
    also?.(w);
    const rec: LevelRecord = {
      runId,
      level: l.level,
      k: l.k,
      cols: l.cols,
      n: l.n,
      centroids: w.putBig(base + 'centroids', l.centroids),
      labels: w.putBig(base + 'labels', l.labels),
      dist2: w.putBig(base + 'dist2', l.dist2),
      members: w.putBig(base + 'members', l.members),
      offsets: w.putBig(base + 'offsets', l.offsets),
    };
    return w.put('levels', rec);
  });
}

/**
 * One level, read back whole. `centroids: false` skips the centroids (the biggest part: k x d
 * floats), which exploring and sampling never need.
 */
export async function getLevel(
  db: Db,
  runId: string,
  level: number,
  opts: { centroids?: boolean } = {},
): Promise<LevelData | undefined> {
  const rec = await db.get('levels', [runId, level]);
  if (!rec) return undefined;
  return {
    level: rec.level,
    k: rec.k,
    cols: rec.cols,
    n: rec.n,
    centroids: opts.centroids === false ? new Float32Array(0) : await readF32(db, rec.centroids),
    labels: await readI32(db, rec.labels),
    dist2: await readF32(db, rec.dist2),
    members: await readI32(db, rec.members),
    offsets: await readI32(db, rec.offsets),
  };
}

/** Level records (without their arrays) of a run, level 1 first. */
export async function levelRecords(db: Db, runId: string): Promise<LevelRecord[]> {
  return db.getAll('levels', IDBKeyRange.bound([runId], [runId, []]));
}

/** Every stored level of a run, in order; stops at the first gap. */
export async function getLevels(
  db: Db,
  runId: string,
  opts: { centroids?: boolean } = {},
): Promise<LevelData[]> {
  const out: LevelData[] = [];
  for (const rec of await levelRecords(db, runId)) {
    if (rec.level !== out.length + 1) break;
    const l = await getLevel(db, runId, rec.level, opts);
    if (!l) break;
    out.push(l);
  }
  return out;
}

export async function putStep(
  db: Db,
  runId: string,
  s: StepData,
  also?: (w: Writer) => void,
): Promise<void> {
  await write(db, ['steps', 'chunks', 'runs'], `step ${s.step} of level ${s.level}`, (w) => {
    also?.(w);
    const rec: StepRecord = {
      runId,
      level: s.level,
      step: s.step,
      k: s.k,
      cols: s.cols,
      centroids: w.putBig(`${runId}/L${s.level}/S${s.step}/centroids`, s.centroids),
    };
    return w.put('steps', rec);
  });
}

/** The last stored resampling step of a level, if any. */
export async function lastStep(
  db: Db,
  runId: string,
  level: number,
): Promise<StepData | undefined> {
  const range = IDBKeyRange.bound([runId, level], [runId, level, []]);
  const cursor = await db.transaction('steps').store.openCursor(range, 'prev');
  if (!cursor) return undefined;
  const rec = cursor.value;
  return {
    level: rec.level,
    step: rec.step,
    k: rec.k,
    cols: rec.cols,
    centroids: await readF32(db, rec.centroids),
  };
}

/** k of every stored level of a run, level 1 first (reads no arrays). */
export async function levelKs(db: Db, runId: string): Promise<number[]> {
  return (await levelRecords(db, runId)).map((r) => r.k);
}
