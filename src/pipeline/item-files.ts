/**
 * Items' files wherever their dataset keeps them: the stored copies, or the folder on the
 * person's device read through its stored handle and checked against the size and date the
 * ingest recorded. Every reader of an item's bytes (embed stage, large view, file exports) goes
 * through here, so a gone or changed file gets the same clear sentence everywhere.
 */
import {
  folderAccess,
  folderExists,
  FolderReader,
  requestFolderAccess,
  type FolderAccess,
} from '../ingest/folder-read';
import type { Db } from '../store/db';
import { getHandle } from '../store/handles';
import { getDataset, getFiles } from '../store/records';
import type { DatasetRecord, ItemRecord } from '../store/schema';
import { UserInputError } from './errors';

/** One item's file, or why it cannot be used (a reason for the skipped list). */
export type ItemFile = { readonly file: Blob } | { readonly problem: string };

/**
 * Files read from a folder at once: enough to keep the disk busy, few enough that a batch's
 * File objects are a small list (each is a snapshot, not the bytes).
 */
const FOLDER_READ_BATCH = 64;

async function folderHandle(db: Db, dataset: DatasetRecord): Promise<FileSystemDirectoryHandle> {
  const handle = await getHandle(db, dataset.id);
  if (!handle) {
    throw new UserInputError(
      `The folder of “${dataset.name}” is no longer known to this browser: add the folder again.`,
    );
  }
  return handle;
}

function accessMessage(dataset: DatasetRecord, folder: string, access: FolderAccess): string {
  return access === 'ask'
    ? `The pictures of “${dataset.name}” are read from the folder “${folder}” on this device, ` +
        'and the browser needs your permission to read it again. Press “Allow reading the folder” ' +
        '(or Resume) and allow it when the browser asks.'
    : `The browser was not allowed to read the folder “${folder}”, where the pictures of ` +
        `“${dataset.name}” are kept. Allow it in the site's settings, or add the folder again.`;
}

/** Whether a dataset's pictures can be read now (always 'granted' for copies). */
export async function datasetFolderAccess(db: Db, datasetId: string): Promise<FolderAccess> {
  const dataset = await getDataset(db, datasetId);
  if (dataset?.storage !== 'folder') return 'granted';
  return folderAccess(await folderHandle(db, dataset));
}

/** Ask for the folder again (from a click); true when its pictures can be read. */
export async function allowDatasetFolder(db: Db, datasetId: string): Promise<boolean> {
  const dataset = await getDataset(db, datasetId);
  if (dataset?.storage !== 'folder') return true;
  return (await requestFolderAccess(await folderHandle(db, dataset))) === 'granted';
}

/** Reads the files of one dataset's items. */
export interface ItemFiles {
  /** one entry per item, in order; `onBatch` hears how many are read so far */
  read(items: readonly ItemRecord[], onBatch?: (done: number) => void): Promise<ItemFile[]>;
}

/**
 * The reader for a dataset. Throws a UserInputError up front when the folder cannot be read at
 * all (permission needed or refused, folder moved or deleted), so no item is skipped for that.
 */
export async function openItemFiles(db: Db, dataset: DatasetRecord): Promise<ItemFiles> {
  if (dataset.storage === 'none') {
    return {
      read: async (items) => items.map(() => ({ problem: 'precomputed rows have no file' })),
    };
  }
  if (dataset.storage === 'copies') {
    return {
      async read(items, onBatch) {
        const files = await getFiles(
          db,
          dataset.id,
          items.map((i) => i.index),
        );
        onBatch?.(items.length);
        return files.map((file) =>
          file ? { file } : { problem: 'the file is no longer stored; add the folder again' },
        );
      },
    };
  }
  const handle = await folderHandle(db, dataset);
  const access = await folderAccess(handle);
  if (access !== 'granted') throw new UserInputError(accessMessage(dataset, handle.name, access));
  if (!(await folderExists(handle))) {
    throw new UserInputError(
      `The folder “${handle.name}” of “${dataset.name}” was moved or deleted: ` +
        'put it back, or add the folder again where it is now.',
    );
  }
  const reader = new FolderReader(handle);
  return {
    async read(items, onBatch) {
      const out: ItemFile[] = [];
      for (let start = 0; start < items.length; start += FOLDER_READ_BATCH) {
        const batch = items.slice(start, start + FOLDER_READ_BATCH);
        try {
          out.push(...(await Promise.all(batch.map((i) => reader.read(i.path, i)))));
        } catch (e) {
          // The permission went away mid-way (the person revoked it in the site settings).
          if (e instanceof DOMException && e.name === 'NotAllowedError') {
            throw new UserInputError(accessMessage(dataset, handle.name, 'denied'), { cause: e });
          }
          throw e;
        }
        onBatch?.(out.length);
      }
      return out;
    },
  };
}

/** One item's file (the large view); a UserInputError says why there is none. */
export async function readItemFile(files: ItemFiles, item: ItemRecord): Promise<Blob> {
  const [got] = await files.read([item]);
  if ('file' in got) return got.file;
  throw new UserInputError(`The file “${item.path}” cannot be read: ${got.problem}.`);
}
