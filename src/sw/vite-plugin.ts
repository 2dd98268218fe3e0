/**
 * Build-time half of the service worker (runs in Node inside `vite build`; never shipped):
 *
 * - compiles src/sw/sw.ts on its own into `sw.js` next to index.html (a service worker's scope
 *   is its folder, so it must sit at the app's root, under a fixed name);
 * - writes into it the list of every file of the build (bundle + public/) with a content hash,
 *   so the worker can keep the app offline and skip unchanged files on the next deploy;
 * - puts the Content-Security-Policy into index.html as a meta tag, and hands the same policy to
 *   the worker, which adds it as a header to pages and worker scripts (a meta tag does not reach
 *   workers).
 *
 * Only in builds: the dev server sets COOP/COEP itself and needs inline styles and a websocket.
 */
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { transformWithOxc, type Plugin, type ResolvedConfig } from 'vite';
import type { SwBuild, SwFile } from './build-info';

/**
 * Hosts the catalogue's remote models come from. Hugging Face answers `resolve/` URLs with a
 * redirect to its CDN (cdn-lfs*.hf.co, cas-bridge.xethub.hf.co), and CSP checks every hop.
 */
export const DEFAULT_MODEL_HOSTS: readonly string[] = [
  'https://huggingface.co',
  'https://*.huggingface.co',
  'https://*.hf.co',
];

/**
 * The app's policy: its own origin only, plus the model hosts for downloads.
 * - script-src has 'wasm-unsafe-eval' and no 'unsafe-eval': the first only lets WebAssembly be
 *   compiled (onnxruntime-web and the k-means kernels need it); it does not allow eval(),
 *   new Function() or string timers.
 * - style-src has no 'unsafe-inline': Svelte's CSS is a file in the build, and its style:
 *   directives set element.style through the CSSOM, which CSP does not restrict.
 * - blob:/data: images are thumbnails and previews of the person's own files.
 */
export function contentSecurityPolicy(modelHosts: readonly string[] = DEFAULT_MODEL_HOSTS): string {
  for (const host of modelHosts) {
    if (!/^https:\/\/(\*\.)?[a-z0-9.-]+(:\d+)?$/i.test(host)) {
      throw new Error(
        `model host "${host}" is not an https origin like https://models.example.org`,
      );
    }
  }
  return [
    "default-src 'self'",
    "script-src 'self' 'wasm-unsafe-eval'",
    "style-src 'self'",
    "img-src 'self' blob: data:",
    "font-src 'self'",
    `connect-src 'self' ${modelHosts.join(' ')}`.trim(),
    "worker-src 'self'",
    "manifest-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'none'",
  ].join('; ');
}

/** Model hosts from STRATA_MODEL_HOSTS (space- or comma-separated), else the defaults. */
export function modelHostsFromEnv(env: Record<string, string | undefined>): readonly string[] {
  const raw = env.STRATA_MODEL_HOSTS;
  if (raw === undefined) return DEFAULT_MODEL_HOSTS;
  return raw.split(/[\s,]+/).filter(Boolean);
}

export interface ServiceWorkerPluginOptions {
  /** origins allowed for model downloads (connect-src); default DEFAULT_MODEL_HOSTS */
  readonly modelHosts?: readonly string[];
}

const SW_FILE = 'sw.js';
/** Needed before the app can start: small text files; the rest is cached right after. */
const SHELL = /\.(html|js|mjs|css|json|svg|ico|webmanifest)$/;
/** Larger "shell" candidates (the ORT runtime glue is ~0.1 MB; the model is MBs) wait. */
const SHELL_MAX_BYTES = 2_000_000;
/** Never cached: source maps and files a host may add. */
const SKIP = /(\.map$|^\.|\/\.)/;

function rev(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex').slice(0, 16);
}

function walk(dir: string, root: string, out: Map<string, Uint8Array>): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return; // no public/ folder
  }
  for (const name of names) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path, root, out);
    else out.set(relative(root, path).split(sep).join('/'), readFileSync(path));
  }
}

async function compileWorker(build: SwBuild): Promise<string> {
  const source = fileURLToPath(new URL('./sw.ts', import.meta.url));
  const { code } = await transformWithOxc(readFileSync(source, 'utf8'), source, {
    lang: 'ts',
    target: 'es2022',
  });
  // sw.ts is a module only for the type checker (a type import); the worker is a classic
  // script so every browser with service workers can run it.
  const script = code.replace(/^export \{\};?\s*$/m, '');
  if (/^\s*(import|export)\b/m.test(script)) {
    throw new Error('src/sw/sw.ts must not import or export values: it is built on its own');
  }
  const parts = script.split('__STRATA_SW_BUILD__');
  if (parts.length !== 2) throw new Error('src/sw/sw.ts: build placeholder must appear once');
  return `${parts[0]}${JSON.stringify(build)}${parts[1]}`;
}

export function strataServiceWorker(options: ServiceWorkerPluginOptions = {}): Plugin {
  const csp = contentSecurityPolicy(options.modelHosts ?? modelHostsFromEnv(process.env));
  let config: ResolvedConfig;
  return {
    name: 'strata-service-worker',
    apply: 'build',
    // Tells src/sw/register.ts that this bundle ships sw.js. Not import.meta.env.PROD: that
    // follows NODE_ENV, and a build started from a test runner (NODE_ENV=test) would lose it.
    config: () => ({ define: { __STRATA_SERVICE_WORKER__: 'true' } }),
    configResolved(resolved) {
      config = resolved;
    },
    transformIndexHtml: {
      order: 'post',
      // Right after <meta charset> (which must come first), before any script or style.
      handler: (html) => {
        const meta = `<meta http-equiv="Content-Security-Policy" content="${csp}" />`;
        const charset = /<meta charset=[^>]*>/i.exec(html);
        if (!charset) return html.replace(/<head>/i, `<head>\n    ${meta}`);
        const at = charset.index + charset[0].length;
        return `${html.slice(0, at)}\n    ${meta}${html.slice(at)}`;
      },
    },
    generateBundle: {
      // After Vite has written index.html into the bundle.
      order: 'post',
      async handler(_output, bundle) {
        const contents = new Map<string, Uint8Array>();
        if (config.publicDir) walk(config.publicDir, config.publicDir, contents);
        const encoder = new TextEncoder();
        for (const [name, item] of Object.entries(bundle)) {
          const body = item.type === 'chunk' ? item.code : item.source;
          contents.set(name, typeof body === 'string' ? encoder.encode(body) : body);
        }
        const files: SwFile[] = [];
        for (const [url, bytes] of [...contents].sort(([a], [b]) => a.localeCompare(b))) {
          if (url === SW_FILE || SKIP.test(url)) continue;
          const shell =
            SHELL.test(url) && bytes.length <= SHELL_MAX_BYTES && !url.startsWith('demo/emoji/');
          files.push({ url, rev: rev(bytes), bytes: bytes.length, shell });
        }
        if (!files.some((f) => f.url === 'index.html')) {
          throw new Error('service worker: index.html is not in the bundle');
        }
        const version = rev(JSON.stringify([csp, files.map((f) => [f.url, f.rev])]));
        const source = await compileWorker({ version, files, csp });
        this.emitFile({ type: 'asset', fileName: SW_FILE, source });
      },
    },
  };
}
