/**
 * The embed stage: every item of the dataset not yet embedded with the run's model goes to the
 * embed worker; rows are stored as they stream in, so a cancel or a closed tab keeps them and a
 * resume embeds only the rest. Precomputed datasets only check that every row is stored.
 */
import * as Comlink from 'comlink';
import { write } from '../../store/db';
import { cacheNameFor } from '../../store/embed-cache';
import { embeddedIndices, putEmbeddingRows } from '../../store/embeddings';
import { itemPages } from '../../store/records';
import type { ItemRecord } from '../../store/schema';
import type { EmbedItem, EmbedProgress, EmbedRows, EmbedSkip } from '../../embed/service';
import { CancelledError, UserInputError, WorkerStoppedError } from '../errors';
import { openItemFiles } from '../item-files';
import type { StageContext } from './context';
import { embeddingKey, modelOf } from '../settings';
import { Throughput } from '../throughput';

export async function embedStage(ctx: StageContext): Promise<void> {
  const { db } = ctx;
  const ds = ctx.dataset;
  const key = embeddingKey(ctx.run.settings);
  const skippedPaths = new Set(ctx.run.skipped.map((s) => s.path));
  const { have, dim: storedDim } = await embeddedIndices(db, ds.id, key);
  // Items a page at a time, keeping only their numbers and the records still to embed: a
  // million precomputed rows pass without a million records held or read in one task.
  const candidates: number[] = [];
  const missing: ItemRecord[] = [];
  for await (const page of itemPages(db, ds.id)) {
    for (const i of page) {
      if (i.removed || skippedPaths.has(i.path)) continue;
      candidates.push(i.index);
      if (!have.has(i.index)) missing.push(i);
    }
  }
  ctx.count('embedReused', candidates.length - missing.length);
  const total = candidates.length;
  const got = new Set<number>();
  let dim = storedDim;

  if (missing.length > 0) {
    if (ds.source === 'precomputed') {
      throw new Error(`${missing.length} precomputed rows are missing from the database`);
    }
    dim = await embedMissing(ctx, missing, key, total - missing.length, total, got);
    if (storedDim && dim && storedDim !== dim) {
      throw new Error(`stored embeddings have ${storedDim} dims, the model gives ${dim}`);
    }
    dim ||= storedDim;
  }

  // Only items that were to be embedded now can have been skipped now.
  const skippedNow = new Set(ctx.run.skipped.map((s) => s.path));
  const lost = new Set(missing.filter((i) => skippedNow.has(i.path)).map((i) => i.index));
  const rowItems = Int32Array.from(
    candidates.filter((i) => (have.has(i) || got.has(i)) && !lost.has(i)),
  );
  if (rowItems.length === 0) {
    throw new UserInputError('No image could be embedded, so there is nothing to cluster.');
  }
  ctx.run.rows = rowItems.length;
  ctx.run.dim = dim;
  ctx.run.stages.embed = { ...ctx.run.stages.embed, done: total, total };
  await write(db, ['runs', 'chunks'], 'the list of embedded items', (w) => {
    ctx.run.rowItems = w.putBig(`${ctx.run.id}/rowItems`, rowItems);
    return w.put('runs', ctx.run);
  });
}

/** Embed `missing` in the embed worker, storing rows as they stream in; returns the dim. */
async function embedMissing(
  ctx: StageContext,
  missing: ItemRecord[],
  key: string,
  already: number,
  total: number,
  got: Set<number>,
): Promise<number> {
  const { db, pool } = ctx;
  const ds = ctx.dataset;
  const spec = modelOf(ctx.run.settings);
  if (!spec) throw new UserInputError(`Unknown model "${ctx.run.settings.model}".`);

  const items: EmbedItem[] = [];
  // A folder that cannot be read at all (permission, moved) stops here with its own message;
  // single files gone or changed are skipped with theirs and the run goes on with the rest.
  const reader = await openItemFiles(db, ds);
  const files = await reader.read(missing, (done) => {
    ctx.checkCancel();
    if (ds.storage !== 'folder') return;
    ctx.emit({
      type: 'progress',
      runId: ctx.run.id,
      datasetId: ds.id,
      stage: 'embed',
      done: already,
      total,
      itemsPerSecond: 0,
      etaSeconds: null,
      message: `finding the pictures in the folder: ${done} of ${missing.length}`,
    });
  });
  missing.forEach((item, i) => {
    const f = files[i];
    if ('file' in f) items.push({ key: String(item.index), file: f.file });
    else ctx.skip(item.path, f.problem);
  });

  // Chunk numbers from the clock (ms x 1024, +1 per batch): a batch takes far longer than
  // 1/1024 ms, so the counter never passes the clock and a later session or another tab
  // embedding the same dataset never reuses a number. The order of chunks does not matter.
  let nextChunk = Date.now() * 1024;
  let dim = 0;
  let writes = Promise.resolve();
  let writeError: unknown = null;
  let storedNow = 0;
  const embed = pool.embed();
  const rate = new Throughput();
  const byKey = new Map(missing.map((m) => [String(m.index), m]));

  const onRows = (rows: EmbedRows): void => {
    dim = rows.dim;
    const indices = Int32Array.from(rows.keys, Number);
    const chunk = nextChunk++;
    writes = writes
      .then(() =>
        putEmbeddingRows(db, ds.id, key, chunk, indices, rows.data, rows.dim, ds.halfEmbeddings),
      )
      .then(
        () => {
          indices.forEach((i) => got.add(i));
          storedNow += indices.length;
        },
        (e: unknown) => {
          writeError ??= e;
          void embed.cancel();
        },
      );
  };
  const onProgress = (p: EmbedProgress): void => {
    if (p.provider) ctx.run.providerUsed = p.provider;
    if (p.device) ctx.run.embeddedOn = p.device;
    rate.set(p.itemsPerSecond);
    const what = p.download
      ? `downloading the model: ${Math.round(p.download.loaded / 1e6)} MB`
      : p.device
        ? `embedding on ${p.device}: ${already + p.done} of ${total}`
        : `embedding: ${already + p.done} of ${total}`;
    ctx.run.stages.embed = { ...ctx.run.stages.embed, done: already + p.done, total };
    ctx.emit({
      type: 'progress',
      runId: ctx.run.id,
      datasetId: ds.id,
      stage: 'embed',
      done: already + p.done,
      total,
      itemsPerSecond: p.itemsPerSecond,
      etaSeconds: Number.isFinite(p.etaSeconds) ? p.etaSeconds : null,
      message: what,
    });
  };
  const onSkip = (s: EmbedSkip): void => {
    const item = byKey.get(s.key);
    ctx.skip(item?.path ?? s.key, s.reason);
  };
  const stop = (): void => void embed.cancel();
  ctx.cancel.addEventListener('abort', stop);
  try {
    // A cancel that came while the files were read fired no `stop`: honour it here.
    ctx.checkCancel();
    const summary = await pool
      .guard(
        embed.embedFiles(
          items,
          {
            model: spec,
            provider: ctx.run.settings.provider,
            batchSize: ctx.run.settings.batchSize,
            cacheName: cacheNameFor(db.name),
          },
          Comlink.proxy(onRows),
          Comlink.proxy(onProgress),
          Comlink.proxy(onSkip),
        ),
        'embed',
      )
      .catch(async (e: unknown) => {
        if (!(e instanceof WorkerStoppedError)) throw e;
        await writes;
        const kept = already + storedNow;
        throw new WorkerStoppedError(
          `${e.message} The ${kept} of ${total} rows embedded so far are stored; resume the run to embed the rest.`,
          { cause: e },
        );
      });
    await writes;
    if (writeError) throw writeError;
    ctx.count('embedded', summary.computed);
    ctx.count('embedReused', summary.cached);
    if (summary.provider) ctx.run.providerUsed = summary.provider;
    if (summary.device) ctx.run.embeddedOn = summary.device;
    for (const w of summary.warnings) ctx.notice('embed', 'warning', w);
    if (summary.cancelled) throw new CancelledError();
    return dim;
  } finally {
    ctx.cancel.removeEventListener('abort', stop);
    await writes;
  }
}
