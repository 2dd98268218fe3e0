/**
 * A plain static file server, the kind a person hosts the built app on: files from one folder
 * under a sub-path, standard content types, and NO Cross-Origin-Opener/Embedder-Policy headers
 * (the service worker has to provide isolation). Stopping it makes the host disappear, which is
 * how the offline tests cut the network.
 */
import { spawn } from 'node:child_process';
import { createReadStream, existsSync, mkdirSync, rmdirSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { newestInputMtime, ROOT } from './helpers/app.ts';

/**
 * This file's own build: a production build (NODE_ENV=production) in a folder no other test
 * rebuilds while a host serves it. The shared e2e build inherits the test runner's
 * NODE_ENV=test, which makes Vite produce a development bundle (import.meta.env.DEV true), not
 * what a person deploys.
 */
export const HOSTING_DIST = join(ROOT, '.cache/hosting-dist');
const LOCK = join(ROOT, '.cache/hosting-build.lock');

function viteBuild(outDir: string): Promise<void> {
  const vite = join(ROOT, 'node_modules/vite/bin/vite.js');
  const args = [vite, 'build', '--outDir', outDir, '--emptyOutDir', '--logLevel', 'warn'];
  return new Promise<void>((ok, fail) => {
    const child = spawn(process.execPath, args, {
      cwd: ROOT,
      stdio: ['ignore', 'inherit', 'inherit'],
      env: { ...process.env, NODE_ENV: 'production' },
    });
    child.on('error', fail);
    child.on('exit', (code) =>
      code === 0 ? ok() : fail(new Error(`vite build exited with ${code}`)),
    );
  });
}

/** Builds the app for deployment into HOSTING_DIST unless that build is newer than its inputs. */
export async function buildForHosting(): Promise<string> {
  mkdirSync(join(ROOT, '.cache'), { recursive: true });
  for (let waited = 0; ; waited += 500) {
    try {
      mkdirSync(LOCK);
      break;
    } catch {
      // A lock older than 10 minutes belongs to a build that died.
      if (Date.now() - statSync(LOCK).mtimeMs > 600_000) rmdirSync(LOCK);
      else if (waited > 600_000) throw new Error('the hosting build lock was never released');
      else await sleep(500);
    }
  }
  try {
    const index = join(HOSTING_DIST, 'index.html');
    const built = existsSync(index) ? statSync(index).mtimeMs : 0;
    if (built <= newestInputMtime()) await viteBuild(HOSTING_DIST);
    return HOSTING_DIST;
  } finally {
    rmdirSync(LOCK);
  }
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.onnx': 'application/octet-stream',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.txt': 'text/plain; charset=utf-8',
  '.ico': 'image/x-icon',
  '.webmanifest': 'application/manifest+json',
};

export interface StaticHost {
  /** the app's address, e.g. http://127.0.0.1:41234/strata/ */
  readonly url: string;
  /** paths requested so far (decoded, without the query) */
  readonly requests: string[];
  close(): Promise<void>;
}

/**
 * Serves `root` at `prefix` (e.g. "/strata/") on 127.0.0.1 and a free port. With
 * `isolationHeaders` every response carries COOP/COEP, as a host configured the way the README
 * recommends does (the page is then isolated before the service worker controls it).
 */
export async function serveStatic(
  root: string,
  prefix = '/strata/',
  options: { readonly isolationHeaders?: boolean } = {},
): Promise<StaticHost> {
  const isolation: Record<string, string> = options.isolationHeaders
    ? {
        'cross-origin-opener-policy': 'same-origin',
        'cross-origin-embedder-policy': 'require-corp',
      }
    : {};
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    requests.push(path);
    if (path === prefix.slice(0, -1)) {
      res.writeHead(301, { location: prefix }).end();
      return;
    }
    if (!path.startsWith(prefix)) {
      res.writeHead(404).end('not found');
      return;
    }
    let rel = path.slice(prefix.length);
    if (rel === '' || rel.endsWith('/')) rel += 'index.html';
    const file = normalize(join(root, rel));
    if (!file.startsWith(root + sep)) {
      res.writeHead(403).end('forbidden');
      return;
    }
    let size: number;
    try {
      const st = statSync(file);
      if (!st.isFile()) throw new Error('not a file');
      size = st.size;
    } catch {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    res.writeHead(200, {
      'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
      'content-length': size,
      'cache-control': 'no-cache',
      ...isolation,
    });
    if (req.method === 'HEAD') res.end();
    else createReadStream(file).pipe(res);
  });
  // Keep-alive sockets would hold close() open; the tests stop the host to go offline.
  server.keepAliveTimeout = 1000;
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('static host has no port');
  return {
    url: `http://127.0.0.1:${address.port}${prefix}`,
    requests,
    close: () =>
      new Promise<void>((ok, fail) => {
        server.close((e) => (e ? fail(e) : ok()));
        server.closeAllConnections();
      }),
  };
}
