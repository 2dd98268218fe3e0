/**
 * Embeddings computed elsewhere (any model: text, audio, DINOv2 in Python): a float32/float64
 * .npy matrix, one row per item, plus an optional ids file (.txt one per line, .csv, .jsonl).
 * Every problem gets a message that names the file and says what to change.
 */
import { InputError } from '../core/errors';
import { NpyError, parseNpy, type NpyDtype } from '../core/npy';
import { droppedRowsMessage, dropNonFiniteRows, type FiniteRows } from '../core/matrix';
import type { Matrix } from '../core/types';

export class PrecomputedError extends InputError {
  constructor(message: string) {
    super(message);
    this.name = 'PrecomputedError';
  }
}

export interface Precomputed {
  matrix: Matrix;
  ids: string[];
  warnings: string[];
}

/** Columns/fields that hold an item's id, in order of preference. */
const ID_FIELDS = ['id', 'path', 'file', 'filename', 'file_name', 'key', 'name', 'url'];

export function fileName(b: Blob, fallback: string): string {
  return typeof File !== 'undefined' && b instanceof File && b.name ? b.name : fallback;
}

/** RFC 4180-style CSV (quotes, doubled quotes, commas/newlines inside quotes). */
export function parseCsv(text: string, sep = ','): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          cell += '"';
          i++;
        } else quoted = false;
      } else cell += c;
    } else if (c === '"' && cell === '') quoted = true;
    else if (c === sep) {
      row.push(cell);
      cell = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
    } else cell += c;
  }
  if (cell !== '' || row.length > 0) {
    row.push(cell);
    rows.push(row);
  }
  return rows;
}

type IdsFormat = 'txt' | 'csv' | 'tsv' | 'jsonl';

function idsFormat(name: string, text: string): IdsFormat {
  const ext = /\.([a-z0-9]+)$/i.exec(name)?.[1]?.toLowerCase();
  if (ext === 'csv') return 'csv';
  if (ext === 'tsv') return 'tsv';
  if (ext === 'jsonl' || ext === 'ndjson') return 'jsonl';
  if (ext === 'txt' || ext === 'lst' || ext === 'list') return 'txt';
  const first = text.trimStart()[0];
  return first === '{' || first === '"' ? 'jsonl' : 'txt';
}

/**
 * Ids from an ids file, one per embedding row. `rows` (the matrix's row count) settles whether a
 * CSV's first line is a header: with rows + 1 lines it is, and the id column is picked by name.
 */
export function parseIds(text: string, name: string, rows: number): string[] {
  const body = text.replace(/^\uFEFF/, '');
  const format = idsFormat(name, body);
  if (format === 'csv' || format === 'tsv') {
    const table = parseCsv(body, format === 'tsv' ? '\t' : ',');
    while (table.length && table[table.length - 1].every((c) => c.trim() === '')) table.pop();
    let col = 0;
    let start = 0;
    const header = table[0]?.map((h) => h.trim().toLowerCase()) ?? [];
    const named = ID_FIELDS.map((f) => header.indexOf(f)).find((i) => i >= 0);
    if (table.length === rows + 1 || (named !== undefined && table.length !== rows)) {
      start = 1;
      col = named ?? 0;
    }
    return table.slice(start).map((r, i) => {
      const v = (r[col] ?? '').trim();
      if (v === '') {
        throw new PrecomputedError(
          `${name}: line ${i + start + 1} has an empty id (column ${col + 1}).`,
        );
      }
      return v;
    });
  }
  const lines = body.split(/\r?\n/);
  while (lines.length && lines[lines.length - 1].trim() === '') lines.pop();
  return lines.map((line, i) => {
    const where = `${name}: line ${i + 1}`;
    if (line.trim() === '') throw new PrecomputedError(`${where} is empty; every row needs an id.`);
    if (format === 'txt') return line.trim();
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch {
      throw new PrecomputedError(`${where} is not valid JSON.`);
    }
    if (typeof v === 'string' || typeof v === 'number') return String(v);
    if (v && typeof v === 'object') {
      const rec = v as Record<string, unknown>;
      const field = ID_FIELDS.find((f) => typeof rec[f] === 'string' || typeof rec[f] === 'number');
      if (field) return String(rec[field]);
    }
    throw new PrecomputedError(
      `${where} has no id: expected a string or an object with one of ${ID_FIELDS.join(', ')}.`,
    );
  });
}

/**
 * The ids of `n` rows: from the ids file (one per row, unique), else the row numbers. Messages
 * name the file and the line.
 */
export async function readIdList(
  ids: Blob | undefined,
  n: number,
  npyName: string,
): Promise<string[]> {
  if (!ids) return Array.from({ length: n }, (_, i) => String(i));
  const idsName = fileName(ids, 'the ids file');
  const idList = parseIds(await ids.text(), idsName, n);
  if (idList.length !== n) {
    throw new PrecomputedError(
      `${idsName} lists ${idList.length} ids but ${npyName} has ${n} rows; they must match one to one.`,
    );
  }
  const firstLine = new Map<string, number>();
  idList.forEach((id, i) => {
    const prev = firstLine.get(id);
    if (prev !== undefined) {
      throw new PrecomputedError(
        `${idsName}: id "${id}" appears twice (entries ${prev + 1} and ${i + 1}); ids must be unique.`,
      );
    }
    firstLine.set(id, i);
  });
  return idList;
}

/** A float matrix's (rows, cols), or the message that says what to change. */
export function checkMatrix(
  npyName: string,
  dtype: NpyDtype,
  shape: readonly number[],
): [number, number] {
  if (dtype !== 'float32' && dtype !== 'float64') {
    throw new PrecomputedError(
      `${npyName} holds ${dtype} values; embeddings must be float32 or float64 ` +
        `(in NumPy: np.save(path, x.astype(np.float32))).`,
    );
  }
  if (shape.length !== 2) {
    throw new PrecomputedError(
      `${npyName} is ${shape.length}-D with shape (${shape.join(', ')}); expected a 2-D ` +
        'array with one row per item (n x d).',
    );
  }
  const [n, d] = shape;
  if (n === 0 || d === 0) {
    throw new PrecomputedError(`${npyName} has shape (${n}, ${d}): no rows or no columns.`);
  }
  return [n, d];
}

export async function loadPrecomputed(npy: Blob, ids?: Blob): Promise<Precomputed> {
  const npyName = fileName(npy, 'the .npy file');
  const warnings: string[] = [];
  if (npy.size === 0) throw new PrecomputedError(`${npyName} is empty (0 bytes).`);
  let arr;
  try {
    arr = parseNpy(new Uint8Array(await npy.arrayBuffer()));
  } catch (err) {
    if (err instanceof NpyError) throw new PrecomputedError(`${npyName}: ${err.message}`);
    throw err;
  }
  const [n, d] = checkMatrix(npyName, arr.dtype, arr.shape);

  const idList = await readIdList(ids, n, npyName);

  // float64 -> float32 here; a value beyond float32's range becomes infinite and its row is
  // dropped with the NaN rows below.
  const src = arr.data as Float32Array | Float64Array;
  const all = src instanceof Float32Array ? src : Float32Array.from(src);
  // Copy when the parser returned a view, so the matrix owns exactly n*d floats.
  const own = all.byteLength === n * d * 4 && all.byteOffset === 0 ? all : all.slice(0, n * d);
  let finite: FiniteRows;
  try {
    finite = dropNonFiniteRows({ data: own, rows: n, cols: d });
  } catch {
    throw new PrecomputedError(`${npyName}: every row contains NaN or infinite values.`);
  }
  if (finite.dropped.length === 0) return { matrix: finite.matrix, ids: idList, warnings };
  warnings.push(droppedRowsMessage(finite.dropped, n, ids ? (r) => idList[r] : undefined));
  return {
    matrix: finite.matrix,
    ids: Array.from(finite.kept, (r) => idList[r]),
    warnings,
  };
}
