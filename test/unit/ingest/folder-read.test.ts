import { describe, expect, it } from 'vitest';
import { FolderReader, folderAccess, requestFolderAccess } from '../../../src/ingest/folder-read';

type Perm = 'granted' | 'prompt' | 'denied';

/** A folder handle of plain objects: `tree` maps names to files or sub-trees. */
interface Tree {
  [name: string]: File | Tree;
}
function fakeDir(name: string, tree: Tree, perm?: { query: Perm; answer?: Perm | 'throw' }) {
  const notFound = () => new DOMException(`${name}: no such entry`, 'NotFoundError');
  const handle = {
    kind: 'directory',
    name,
    async getDirectoryHandle(n: string) {
      const t = tree[n];
      if (!t) throw notFound();
      if (t instanceof File) throw new DOMException('a file', 'TypeMismatchError');
      return fakeDir(n, t, perm);
    },
    async getFileHandle(n: string) {
      const t = tree[n];
      if (!t) throw notFound();
      if (!(t instanceof File)) throw new DOMException('a folder', 'TypeMismatchError');
      if (perm?.query === 'denied') throw new DOMException('not allowed', 'NotAllowedError');
      return { kind: 'file', name: n, getFile: async () => t };
    },
    ...(perm
      ? {
          queryPermission: async () => perm.query,
          requestPermission: async () => {
            if (perm.answer === 'throw') throw new DOMException('no activation', 'SecurityError');
            return perm.answer ?? perm.query;
          },
        }
      : {}),
  };
  return handle as unknown as FileSystemDirectoryHandle;
}

const file = (bytes: string, lastModified = 1000) =>
  new File([bytes], 'x.png', { type: 'image/png', lastModified });

describe('reading a folder through its handle', () => {
  it('reads a file by relative path and tells a gone, a moved and a changed file apart', async () => {
    const a = file('abc');
    const reader = new FolderReader(fakeDir('album', { cats: { 'a.png': a }, 'b.png': file('b') }));
    const ok = await reader.read('cats/a.png', { size: 3, lastModified: 1000 });
    expect('file' in ok && ok.file).toBe(a);
    expect(await reader.read('cats/gone.png')).toEqual({
      problem: expect.stringMatching(
        /^it is no longer in the folder “album” \(moved, renamed or deleted\); rescan/,
      ),
    });
    expect(await reader.read('dogs/a.png')).toMatchObject({ problem: /no longer in the folder/ });
    expect(await reader.read('cats/a.png', { size: 3, lastModified: 999 })).toMatchObject({
      problem: /changed in the folder “album” since it was added/,
    });
    expect(await reader.read('cats/a.png', { size: 4, lastModified: 1000 })).toMatchObject({
      problem: /its size or date differ/,
    });
  });

  it('throws, not skips, when the browser stops letting the folder be read', async () => {
    const reader = new FolderReader(fakeDir('album', { 'a.png': file('a') }, { query: 'denied' }));
    await expect(reader.read('a.png')).rejects.toMatchObject({ name: 'NotAllowedError' });
  });

  it('asks for permission only when the browser would ask, and survives a refusal to ask', async () => {
    expect(await folderAccess(fakeDir('f', {}))).toBe('granted');
    expect(await folderAccess(fakeDir('f', {}, { query: 'prompt' }))).toBe('ask');
    expect(await folderAccess(fakeDir('f', {}, { query: 'denied' }))).toBe('denied');
    expect(
      await requestFolderAccess(fakeDir('f', {}, { query: 'prompt', answer: 'granted' })),
    ).toBe('granted');
    expect(await requestFolderAccess(fakeDir('f', {}, { query: 'prompt', answer: 'denied' }))).toBe(
      'denied',
    );
    // Without a click Chromium throws instead of asking: the person can still be asked later.
    expect(await requestFolderAccess(fakeDir('f', {}, { query: 'prompt', answer: 'throw' }))).toBe(
      'ask',
    );
  });
});
