/**
 * The Node side of interop: bundles and layouts written to disk with streams, a reference output
 * directory read from disk, and a .npy of embeddings streamed row chunk by row chunk (a pool of
 * millions of rows never has to fit in memory to be exported).
 */
import { createWriteStream } from 'node:fs';
import { mkdir, open, readdir, readFile, realpath, stat } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, sep } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { InputError } from '../core/errors.ts';
import type { BundleFile } from './files.ts';
import type { ReferenceSource } from './import.ts';
import { matrixSource, type EmbeddingSource } from './job-bundle.ts';
import { parseNpy } from '../core/npy.ts';
import { readNpyHeader } from './sorted-clusters.ts';

/** Writes every file under `dir` (created as needed), streaming each file's content. */
export async function writeFiles(dir: string, files: readonly BundleFile[]): Promise<void> {
  for (const f of files) {
    const path = join(dir, ...f.path.split('/'));
    await mkdir(dirname(path), { recursive: true });
    await pipeline(Readable.from(f.content()), createWriteStream(path));
    const { size } = await stat(path);
    if (size !== f.size) {
      throw new Error(`${f.path}: wrote ${size} bytes, expected ${f.size}`);
    }
  }
}

/**
 * Directory depth and file count limits when listing a reference output directory: the layout
 * is two levels deep plus per-step folders; a wrong --dir (a home folder) fails fast instead.
 */
const MAX_DEPTH = 4;
const MAX_FILES = 100_000;

/** A reference output directory on disk as a ReferenceSource. */
export async function sourceFromDir(dir: string): Promise<ReferenceSource> {
  const info = await stat(dir).catch(() => undefined);
  if (!info?.isDirectory()) throw new InputError(`${dir} is not a directory`);
  const paths: string[] = [];
  const walk = async (d: string, depth: number): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      let isDir = e.isDirectory();
      let isFile = e.isFile();
      if (e.isSymbolicLink()) {
        // The reference writes level{t}/centroids.npy and sorted_clusters.npy as links into
        // level{t}/step{N}/: follow links that stay inside the chosen folder, refuse others.
        const target = await realpath(p).catch(() => undefined);
        if (!target) throw new InputError(`${relative(dir, p)} is a broken link`);
        const r = relative(root, target);
        if (r.startsWith('..') || isAbsolute(r)) {
          throw new InputError(
            `${relative(dir, p)} links outside the folder (to ${target}); refusing to follow it`,
          );
        }
        const st = await stat(target);
        isDir = st.isDirectory();
        isFile = st.isFile();
      }
      if (isDir && depth < MAX_DEPTH) await walk(p, depth + 1);
      else if (isFile) {
        paths.push(relative(dir, p).split(sep).join('/'));
        if (paths.length > MAX_FILES) {
          throw new InputError(`${dir} holds more than ${MAX_FILES} files: is it the run folder?`);
        }
      }
    }
  };
  const root = await realpath(dir);
  await walk(dir, 0);
  return {
    paths,
    linksChecked: true,
    async read(path) {
      const b = await readFile(join(dir, ...path.split('/')));
      return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
    },
  };
}

/** Reads a whole file, with a one-line message when it is missing. */
export async function readFileBytes(path: string): Promise<Uint8Array> {
  try {
    const b = await readFile(path);
    return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new InputError(`${path}: no such file`);
    if (code === 'EISDIR') throw new InputError(`${path} is a directory, not a file`);
    throw e;
  }
}

/**
 * Bytes read per chunk when streaming a .npy. Measured re-streaming a 100k x 384 float32 file
 * (154 MB) to disk on the 2-core dev machine: 1 MiB chunks 0.33-0.56 s, 256 KiB 0.71 s,
 * 8 MiB 0.72-0.78 s, 32 MiB 1.03 s (and 80 MiB more resident memory): 1 MiB is the best.
 */
const STREAM_CHUNK_BYTES = 1 << 20;

/**
 * A 2-D float32/float64 .npy on disk as an EmbeddingSource that reads it chunk by chunk
 * (float64 rows are converted to float32 on the way).
 */
export async function npyFileSource(
  path: string,
  chunkBytes = STREAM_CHUNK_BYTES,
): Promise<EmbeddingSource> {
  const fh = await open(path, 'r').catch((e: NodeJS.ErrnoException) => {
    throw e.code === 'ENOENT' ? new InputError(`${path}: no such file`) : e;
  });
  let size: number;
  let head: Uint8Array;
  try {
    size = (await fh.stat()).size;
    head = new Uint8Array(Math.min(size, (1 << 16) + 12));
    await fh.read(head, 0, head.length, 0);
  } finally {
    await fh.close();
  }
  const h = readNpyHeader(head, path);
  const item = h.descr === '<f4' ? 4 : h.descr === '<f8' ? 8 : 0;
  if (!item || h.shape.length !== 2) {
    throw new InputError(
      `${path}: expected a 2-D float32 or float64 array, got ${h.descr} of shape (${h.shape.join(', ')})`,
    );
  }
  if (h.fortranOrder) {
    // Column-major files cannot be read row chunk by row chunk: read it whole (as `curate`
    // does) and stream the row-major copy.
    const arr = parseNpy(await readFileBytes(path)); // the core's reader turns it row-major
    const data =
      arr.data instanceof Float32Array ? arr.data : Float32Array.from(arr.data as Float64Array);
    return matrixSource({ data, rows: h.shape[0], cols: h.shape[1] });
  }
  const [rows, cols] = h.shape;
  const need = h.dataOffset + rows * cols * item;
  if (size < need) {
    throw new InputError(
      `${path}: shape (${rows}, ${cols}) needs ${need} bytes, the file has ${size}`,
    );
  }
  const rowsPerChunk = Math.max(1, Math.floor(chunkBytes / (cols * item)));
  return {
    rows,
    cols,
    async *chunks() {
      const f = await open(path, 'r');
      try {
        for (let r = 0; r < rows; r += rowsPerChunk) {
          const n = Math.min(rowsPerChunk, rows - r);
          const buf = new Uint8Array(n * cols * item);
          const { bytesRead } = await f.read(buf, 0, buf.length, h.dataOffset + r * cols * item);
          if (bytesRead !== buf.length) throw new InputError(`${path}: the file ended early`);
          yield item === 4
            ? new Float32Array(buf.buffer, 0, n * cols)
            : Float32Array.from(new Float64Array(buf.buffer, 0, n * cols));
        }
      } finally {
        await f.close();
      }
    },
  };
}

/** ids from a text file: one per line (a trailing newline is not an extra id). */
export async function readIdsFile(path: string): Promise<string[]> {
  const text = new TextDecoder().decode(await readFileBytes(path));
  const lines = text.split(/\r?\n/);
  if (lines.length && lines[lines.length - 1] === '') lines.pop();
  return lines;
}
