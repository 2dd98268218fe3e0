/** Folder handles of 'directory' datasets, kept so a later visit can read the folder again. */
import { write, type Db } from './db';

export async function putHandle(
  db: Db,
  datasetId: string,
  handle: FileSystemDirectoryHandle,
): Promise<void> {
  await write(db, ['handles'], 'the folder handle', (w) => w.put('handles', { datasetId, handle }));
}

export async function getHandle(
  db: Db,
  datasetId: string,
): Promise<FileSystemDirectoryHandle | undefined> {
  return (await db.get('handles', datasetId))?.handle;
}
