/**
 * Embeds a pool of pools.ts once and caches the rows under .cache/quality/<pool>/:
 *
 *   embeddings.npy   float32 n x 1792, the bundled model's features, row i = items[i]
 *   items.json       {stamp, pool, description, items: [{id, label, concept, kind}]}
 *   samples/         the image files of a few items (each label's first concept with its copies)
 *
 * Images are made and preprocessed in headless Chromium by the app's own code path (page.ts:
 * createImageBitmap + the canvas squash of src/embed/decode.ts), and the model runs in
 * onnxruntime-node on exactly those input tensors (about 5x faster here than onnxruntime-web,
 * platform notes). As a check that this is the app's path, the first batch also runs through
 * onnxruntime-web's wasm backend (what the app runs) and the mean cosine of the two is returned.
 *
 * The stamp covers the recipes, the model file's pinned hash and the preprocessing id: when it
 * matches, the cache is used as is.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join, resolve } from 'node:path';
import * as ortNode from 'onnxruntime-node';
import { chromium } from 'playwright-core';
import { createServer, type Plugin } from 'vite';
import { parseNpy, writeNpy } from '../../src/core/npy.ts';
import { outputRows } from '../../src/embed/preprocess.ts';
import { BUNDLED_MODEL, preprocessingId } from '../../src/embed/models.ts';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../../test/chromium.ts';
import { EMOJI_IMAGES, type Pool } from './pools.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const MODEL = join(ROOT, 'public', BUNDLED_MODEL.url!);
/** Bump when page.ts changes the pixels it makes. */
const PAGE_VERSION = 1;
/** Images per inference call: the app's default batch (src/pipeline/settings.ts). */
const BATCH = 8;

export interface PoolItem {
  readonly id: string;
  readonly label: string;
  readonly concept: string;
  readonly kind: string;
}

export interface EmbeddedPool {
  readonly name: string;
  readonly description: string;
  readonly items: readonly PoolItem[];
  /** n x d row-major */
  readonly x: Float32Array;
  readonly n: number;
  readonly d: number;
  /** seconds spent embedding (0 when read from the cache) */
  readonly seconds: number;
  /** mean cosine of onnxruntime-node to onnxruntime-web rows on the first batch (fresh only) */
  readonly cosineToWeb?: number;
}

function stampOf(pool: Pool): string {
  return createHash('sha256')
    .update(JSON.stringify(pool.items))
    .update(`${BUNDLED_MODEL.sha256}|${preprocessingId(BUNDLED_MODEL)}|${PAGE_VERSION}`)
    .digest('hex')
    .slice(0, 16);
}

/** A few items to keep as image files in samples/: the first original of each label and its copies. */
function sampleIds(pool: Pool): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const it of pool.items) {
    if (seen.has(it.label)) continue;
    seen.add(it.label);
    for (const c of pool.items) if (c.concept === it.concept && out.length < 60) out.push(c.id);
  }
  return out.slice(0, 60);
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((ok, fail) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => ok(Buffer.concat(parts)));
    req.on('error', fail);
  });
}

function meanCosine(a: Float32Array, b: Float32Array, rows: number, d: number): number {
  let sum = 0;
  for (let i = 0; i < rows; i++) {
    let ab = 0;
    let aa = 0;
    let bb = 0;
    for (let j = 0; j < d; j++) {
      const x = a[i * d + j];
      const y = b[i * d + j];
      ab += x * y;
      aa += x * x;
      bb += y * y;
    }
    sum += ab / Math.sqrt(aa * bb);
  }
  return sum / rows;
}

/** The first batch through onnxruntime-web's wasm backend (single thread), as the app runs it. */
async function webRows(input: Float32Array, count: number): Promise<Float32Array> {
  const ortWeb = await import('onnxruntime-web');
  ortWeb.env.wasm.numThreads = 1;
  const session = await ortWeb.InferenceSession.create(new Uint8Array(readFileSync(MODEL)), {
    executionProviders: ['wasm'],
  });
  const s = BUNDLED_MODEL.inputSize;
  const out = await session.run({
    [BUNDLED_MODEL.inputName!]: new ortWeb.Tensor('float32', input, [count, 3, s, s]),
  });
  const t = out[BUNDLED_MODEL.outputName];
  const rows = outputRows(t.data as Float32Array, t.dims, count, BUNDLED_MODEL).rows;
  await session.release();
  return rows;
}

/** The pool's rows: from the cache when its stamp matches, else embedded now (and cached). */
export async function embedPool(pool: Pool, log: (s: string) => void): Promise<EmbeddedPool> {
  const dir = join(ROOT, '.cache', 'quality', pool.name);
  const stamp = stampOf(pool);
  const meta = join(dir, 'items.json');
  const npy = join(dir, 'embeddings.npy');
  const items: PoolItem[] = pool.items.map(({ id, label, concept, kind }) => ({
    id,
    label,
    concept,
    kind,
  }));
  if (existsSync(meta) && existsSync(npy)) {
    const m = JSON.parse(readFileSync(meta, 'utf8')) as { stamp?: string };
    if (m.stamp === stamp) {
      const a = parseNpy(new Uint8Array(readFileSync(npy)));
      const [n, d] = a.shape;
      if (n === items.length && a.data instanceof Float32Array) {
        return {
          name: pool.name,
          description: pool.description,
          items,
          x: a.data,
          n,
          d,
          seconds: 0,
        };
      }
    }
  }

  const t0 = performance.now();
  const n = items.length;
  const d = BUNDLED_MODEL.dim;
  const s = BUNDLED_MODEL.inputSize;
  const x = new Float32Array(n * d);
  const session = await ortNode.InferenceSession.create(MODEL, {
    intraOpNumThreads: Math.max(1, Math.min(2, (await import('node:os')).availableParallelism())),
  });
  let done = 0;
  let modelSeconds = 0;
  let cosineToWeb: number | undefined;
  const onBatch = async (start: number, count: number, body: Buffer): Promise<void> => {
    const input = new Float32Array(body.buffer, body.byteOffset, body.byteLength / 4);
    if (input.length !== count * 3 * s * s || start + count > n) {
      throw new Error(`batch at ${start}: ${input.length} floats for ${count} images`);
    }
    const tRun = performance.now();
    const out = await session.run({
      [BUNDLED_MODEL.inputName!]: new ortNode.Tensor('float32', input, [count, 3, s, s]),
    });
    const t = out[BUNDLED_MODEL.outputName];
    const rows = outputRows(t.data as Float32Array, t.dims, count, BUNDLED_MODEL).rows;
    x.set(rows, start * d);
    modelSeconds += (performance.now() - tRun) / 1000;
    if (start === 0) cosineToWeb = meanCosine(rows, await webRows(input, count), count, d);
    done += count;
    if (done % 400 < count) {
      log(`${pool.name}: embedded ${done} / ${n} (model ${modelSeconds.toFixed(1)} s)`);
    }
  };
  const plugin: Plugin = {
    name: 'quality-pool',
    configureServer(server) {
      server.middlewares.use((req: IncomingMessage, res: ServerResponse, next: () => void) => {
        const url = new URL(req.url ?? '/', 'http://x');
        const emoji = /^\/__quality\/emoji\/([0-9a-f-]+\.png)$/.exec(url.pathname);
        if (emoji) {
          res.setHeader('content-type', 'image/png');
          res.end(readFileSync(join(ROOT, EMOJI_IMAGES, emoji[1])));
          return;
        }
        const sample = /^(\w+)\|(jpg|png)$/.exec(
          `${url.searchParams.get('id')}|${url.searchParams.get('type')}`,
        );
        if (url.pathname === '/__quality/sample' && req.method === 'POST' && sample) {
          void readBody(req).then((body) => {
            mkdirSync(join(dir, 'samples'), { recursive: true });
            writeFileSync(join(dir, 'samples', `${sample[1]}.${sample[2]}`), body);
            res.end('ok');
          });
          return;
        }
        if (url.pathname !== '/__quality/batch' || req.method !== 'POST') return next();
        const start = Number(url.searchParams.get('start'));
        const count = Number(url.searchParams.get('count'));
        readBody(req)
          .then((body) => onBatch(start, count, body))
          .then(() => res.end('ok'))
          .catch((e: unknown) => {
            res.statusCode = 500;
            res.end(e instanceof Error ? e.message : String(e));
          });
      });
    },
  };
  const server = await createServer({
    root: ROOT,
    configFile: false,
    logLevel: 'error',
    plugins: [plugin],
    // No watcher, no HMR: an edit anywhere in the checkout must not reload the page mid-run.
    server: { port: 0, host: '127.0.0.1', strictPort: false, hmr: false, watch: null },
  });
  await server.listen();
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
  try {
    const page = await browser.newPage();
    page.on('pageerror', (e) => log(`page error: ${e.message}`));
    await page.exposeFunction('qualityJob', () => ({
      items: pool.items,
      batch: BATCH,
      samples: sampleIds(pool),
    }));
    const base = server.resolvedUrls?.local[0];
    if (!base) throw new Error('vite has no local URL');
    await page.goto(new URL('bench/quality/page.html', base).href);
    await page.waitForFunction('typeof window.qualityRun === "function"', undefined, {
      timeout: 120_000,
    });
    await page.evaluate('window.qualityRun()');
  } finally {
    await browser.close();
    await server.close();
    await session.release();
  }
  if (done !== n) throw new Error(`${pool.name}: embedded ${done} of ${n} items`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(npy, writeNpy(x, [n, d]));
  writeFileSync(
    meta,
    JSON.stringify({ stamp, pool: pool.name, description: pool.description, items }) + '\n',
  );
  const seconds = (performance.now() - t0) / 1000;
  return { name: pool.name, description: pool.description, items, x, n, d, seconds, cosineToWeb };
}
