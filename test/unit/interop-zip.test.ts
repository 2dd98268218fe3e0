import { join } from 'node:path';
import { makeZip } from 'client-zip';
import { describe, expect, it } from 'vitest';
import { importReference } from '../../src/interop/import.ts';
import { sourceFromDir } from '../../src/interop/node-files.ts';
import { InteropService } from '../../src/interop/service.ts';
import { listZip, sourceFromZip } from '../../src/interop/zip-read.ts';
import { HAVE_NUMPY, LAYOUT, loadMatrix, python, readBytes, tempDir } from './interop-helpers.ts';

/** Zips `dir` with Python's zipfile, links stored as links (what `zip -ry` writes), deflated. */
function zipWithLinks(dir: string, extra = ''): Blob {
  const out = join(tempDir(), 'run.zip');
  python(
    `
import os, sys, zipfile
src, out = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(out, 'w', zipfile.ZIP_DEFLATED) as z:
    for root, dirs, files in sorted(os.walk(src)):
        for f in sorted(files + [d for d in dirs if os.path.islink(os.path.join(root, d))]):
            p = os.path.join(root, f)
            name = 'run/' + os.path.relpath(p, src)
            if os.path.islink(p):
                info = zipfile.ZipInfo(name)
                info.create_system = 3
                info.external_attr = 0o120777 << 16
                z.writestr(info, os.readlink(p))
            else:
                z.write(p, name)
${extra}
`,
    dir,
    out,
  );
  return new Blob([readBytes(out)]);
}

async function zipOf(files: { name: string; input: string | Uint8Array }[]): Promise<Blob> {
  return new Response(makeZip(files)).blob();
}

describe('reading a zipped reference output folder', () => {
  it.skipIf(!HAVE_NUMPY)(
    'imports the same hierarchy as the folder, its links followed',
    async () => {
      const zip = zipWithLinks(LAYOUT);
      const listing = await listZip(zip);
      expect(listing.skipped).toEqual([]);
      expect(listing.entries.map((e) => e.path)).toContain('run/level2/centroids.npy');
      const x = loadMatrix(join(LAYOUT, 'embeddings.npy'));
      const fromZip = await importReference(await sourceFromZip(zip), { embeddings: x });
      const fromDir = await importReference(await sourceFromDir(LAYOUT), { embeddings: x });
      expect(fromZip.warnings).toEqual([]);
      expect(fromZip.hierarchy.levels.map((l) => l.clusters)).toEqual(
        fromDir.hierarchy.levels.map((l) => l.clusters),
      );
      expect(fromZip.curated.map((c) => Array.from(c.indices))).toEqual(
        fromDir.curated.map((c) => Array.from(c.indices)),
      );
    },
  );

  it.skipIf(!HAVE_NUMPY)('refuses a link that leaves the archive', async () => {
    const zip = zipWithLinks(
      LAYOUT,
      `
    info = zipfile.ZipInfo('run/level1/evil.npy')
    info.create_system = 3
    info.external_attr = 0o120777 << 16
    z.writestr(info, '../../../etc/passwd')`,
    );
    await expect(listZip(zip)).rejects.toThrow(
      /run\/level1\/evil\.npy links outside the folder \(to \.\.\/\.\.\/\.\.\/etc\/passwd\); refusing to follow it/,
    );
  });

  it('skips names that climb out of the folder and reads stored entries', async () => {
    const zip = await zipOf([
      { name: 'run/a.txt', input: 'hello' },
      { name: '../escape.txt', input: 'no' },
      { name: '/abs.txt', input: 'no' },
    ]);
    const { entries, skipped } = await listZip(zip);
    expect(entries.map((e) => e.path)).toEqual(['run/a.txt']);
    expect(new TextDecoder().decode(await entries[0].read())).toBe('hello');
    expect(skipped).toEqual([
      '../escape.txt: its path leads outside the folder; skipped',
      '/abs.txt: its path leads outside the folder; skipped',
    ]);
  });

  it('refuses what is not a zip, too many entries, and sizes that lie', async () => {
    await expect(listZip(new Blob(['not a zip at all']))).rejects.toThrow(/this is not a zip file/);
    const three = await zipOf(['a', 'b', 'c'].map((n) => ({ name: n, input: n })));
    await expect(listZip(three, { maxEntries: 2, maxEntryBytes: 100 })).rejects.toThrow(
      /holds 3 entries, more than the 2 accepted/,
    );
    const big = await zipOf([{ name: 'big.bin', input: new Uint8Array(1000) }]);
    await expect(listZip(big, { maxEntries: 10, maxEntryBytes: 999 })).rejects.toThrow(
      /big\.bin: 1000 bytes uncompressed, more than the 999 accepted/,
    );
  });

  it.skipIf(!HAVE_NUMPY)('stops inflating at the size the directory declares', async () => {
    const out = join(tempDir(), 'bomb.zip');
    // A deflated entry of 1 MB of zeros whose central directory says 10 bytes.
    python(
      `
import sys, zipfile, struct
out = sys.argv[1]
with zipfile.ZipFile(out, 'w', zipfile.ZIP_DEFLATED) as z:
    z.writestr('run/zeros.bin', b'\\0' * 1_000_000)
data = bytearray(open(out, 'rb').read())
c = data.rfind(b'PK\\x01\\x02')
struct.pack_into('<I', data, c + 24, 10)
open(out, 'wb').write(bytes(data))
`,
      out,
    );
    const { entries } = await listZip(new Blob([readBytes(out)]));
    await expect(entries[0].read()).rejects.toThrow(
      /run\/zeros\.bin: inflates to more than the 10 bytes its entry declares/,
    );
  });

  it.skipIf(!HAVE_NUMPY)(
    "the page's reader: the embeddings next to the run, from a zip as from picked files",
    async () => {
      const service = new InteropService();
      const zipped = await service.read({
        kind: 'zip',
        blob: zipWithLinks(LAYOUT),
        name: 'run.zip',
      });
      expect(zipped.folder).toBe('run');
      expect([zipped.rows, zipped.dim, zipped.distancesKnown]).toEqual([150, 6, true]);
      expect(zipped.embeddings).toHaveLength(150 * 6);
      expect(zipped.levels.map((l) => l.k)).toEqual([20, 5, 2]);
      expect(zipped.curated.map((c) => c.indices.length)).toEqual([40]);
      expect(zipped.config?.n_resampling_steps).toEqual([1, 3, 3]);
      expect(zipped.warnings).toEqual([]);
      const level1 = zipped.levels[0];
      const d = service.level1Distances(zipped.embeddings!, 6, level1.centroids, level1.labels);
      d.forEach((v, i) => expect(v).toBeCloseTo(level1.dist2[i], 4));
    },
  );
});
