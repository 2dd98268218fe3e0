/**
 * Hands-on curation: the person includes or excludes items (one, a cluster, a map selection) on
 * top of what the balanced sampling chose. The sampling's selection is never changed; edits are
 * stored beside it, in order, and replayed over it wherever the curated subset is read (the
 * explorer, the manifest, the zip), so undo is dropping the last edit and a new sample keeps the
 * person's edits. The run's `selected` count is stored with each change so every view agrees.
 */
import type { Db } from '../store/db';
import { getEdits, putEdits } from '../store/edits';
import { getRunRecord, getSelection } from '../store/records';
import type { EditRecord, EditsRecord, RunRecord } from '../store/schema';
import type { CurationEdit, CurationEdits, EditAction, RunInfo } from './contract';
import { toRunInfo } from './convert';
import { UserInputError } from './errors';

/** The sampling's rows with `edits` replayed in order; ascending. */
export function applyEdits(
  sampled: Int32Array,
  n: number,
  edits: readonly EditRecord[],
): Int32Array {
  if (edits.length === 0) return sampled;
  const on = new Uint8Array(n);
  for (const r of sampled) on[r] = 1;
  for (const e of edits) {
    const v = e.action === 'include' ? 1 : 0;
    for (const r of e.rows) if (r >= 0 && r < n) on[r] = v;
  }
  let count = 0;
  for (let i = 0; i < n; i++) count += on[i];
  const out = new Int32Array(count);
  for (let i = 0, k = 0; i < n; i++) if (on[i]) out[k++] = i;
  return out;
}

/** The curated subset as the person sees it: sampled rows plus their edits; undefined before sampling. */
export async function curatedRows(db: Db, run: RunRecord): Promise<Int32Array | undefined> {
  const sel = await getSelection(db, run.id);
  if (!sel) return undefined;
  const edits = await getEdits(db, run.id);
  return applyEdits(sel.rows, run.rows, edits?.applied ?? []);
}

function publicEdit(e: EditRecord): CurationEdit {
  return { at: e.at, action: e.action, rows: e.rows.length, what: e.what };
}

export async function listEdits(db: Db, runId: string): Promise<CurationEdits> {
  const rec = await getEdits(db, runId);
  return {
    applied: (rec?.applied ?? []).map(publicEdit),
    undone: (rec?.undone ?? []).map(publicEdit),
  };
}

/** Edit lines for the manifest's metadata (flat strings keep the CSV comments readable). */
export async function editsMeta(
  db: Db,
  run: RunRecord,
): Promise<{ sampled: number; edits: number; edit_log: string }> {
  const [sel, rec] = await Promise.all([getSelection(db, run.id), getEdits(db, run.id)]);
  const applied = rec?.applied ?? [];
  return {
    sampled: sel?.rows.length ?? 0,
    edits: applied.length,
    edit_log: applied
      .map((e) => `${new Date(e.at).toISOString()} ${e.action} ${e.rows.length}: ${e.what}`)
      .join('; '),
  };
}

/** Reads, changes and stores a run's edits, keeping its `selected` count in step. */
export class EditLog {
  readonly #db: Db;
  readonly #changed: (run: RunInfo) => void;

  /** `changed` hears the run after every stored change (the Workspace emits it and drops caches). */
  constructor(db: Db, changed: (run: RunInfo) => void) {
    this.#db = db;
    this.#changed = changed;
  }

  async #load(runId: string): Promise<{ run: RunRecord; rec: EditsRecord; sampled: Int32Array }> {
    const run = await getRunRecord(this.#db, runId);
    if (!run) throw new UserInputError('That run no longer exists.');
    const sel = await getSelection(this.#db, runId);
    if (!sel) throw new UserInputError('This run has no curated subset yet: let it finish first.');
    const rec = (await getEdits(this.#db, runId)) ?? { runId, applied: [], undone: [] };
    return { run, rec, sampled: sel.rows };
  }

  async #store(run: RunRecord, rec: EditsRecord, sampled: Int32Array): Promise<RunInfo> {
    run.selected = applyEdits(sampled, run.rows, rec.applied).length;
    run.updatedAt = Date.now();
    await putEdits(this.#db, rec, run);
    const info = toRunInfo(run);
    this.#changed(info);
    return info;
  }

  async edit(
    runId: string,
    action: EditAction,
    rows: ArrayLike<number>,
    what: string,
  ): Promise<RunInfo> {
    if (action !== 'include' && action !== 'exclude') {
      throw new UserInputError(`Unknown edit "${String(action)}": use include or exclude.`);
    }
    const { run, rec, sampled } = await this.#load(runId);
    const picked = Int32Array.from(rows);
    for (const r of picked) {
      if (!Number.isInteger(r) || r < 0 || r >= run.rows) {
        throw new UserInputError(`Row ${r} is not part of this run.`);
      }
    }
    if (picked.length === 0) throw new UserInputError('Nothing is selected to ' + action + '.');
    rec.applied.push({ at: Date.now(), action, rows: picked, what });
    rec.undone = [];
    return this.#store(run, rec, sampled);
  }

  async undo(runId: string): Promise<RunInfo> {
    const { run, rec, sampled } = await this.#load(runId);
    const last = rec.applied.pop();
    if (!last) throw new UserInputError('There is no edit to undo.');
    rec.undone.push(last);
    return this.#store(run, rec, sampled);
  }

  async redo(runId: string): Promise<RunInfo> {
    const { run, rec, sampled } = await this.#load(runId);
    const next = rec.undone.pop();
    if (!next) throw new UserInputError('There is no edit to redo.');
    rec.applied.push(next);
    return this.#store(run, rec, sampled);
  }

  /** After a new sample: the stored count again includes the person's edits. */
  async refresh(runId: string): Promise<RunInfo | undefined> {
    const rec = await getEdits(this.#db, runId);
    if (!rec || rec.applied.length === 0) return undefined;
    const { run, sampled } = await this.#load(runId);
    return this.#store(run, rec, sampled);
  }
}
