#!/usr/bin/env node
/**
 * The source layout's rules, checked on every `npm run lint`:
 *  1. no import cycle in src/ (type-only imports count: a cycle of types is still a knot a reader
 *     has to untie), found with Tarjan's strongly connected components;
 *  2. a layer below never imports a layer above: src/core imports nothing outside src/core;
 *     src/store, src/ingest, src/export, src/embed and src/interop import nothing from
 *     src/pipeline or src/ui; nothing outside src/ui imports src/ui;
 *  3. the UI reaches the pipeline only through its contract and the Workspace facade;
 *  4. no source file under src/ is longer than 500 lines, except the restricted pickle reader.
 *
 * Imports are read with a regular expression over `import ... from '...'`, `export ... from
 * '...'`, `import('...')` and `new URL('...', import.meta.url)` (worker entry points); only
 * relative specifiers are followed. Prints one line per problem and exits 1 if there is any.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'src');
const MAX_LINES = 500;
const LONG_ALLOWED = new Set(['src/interop/pickle.ts']);
const UI_MAY_IMPORT_FROM_PIPELINE = new Set([
  'src/pipeline/contract.ts',
  'src/pipeline/workspace.ts',
]);
const LOWER_LAYERS = ['src/store/', 'src/ingest/', 'src/export/', 'src/embed/', 'src/interop/'];

function walk(dir, out = []) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (/\.(ts|svelte|mjs)$/.test(name) && !name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

const SPEC =
  /(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\s*\(\s*['"]([^'"]+)['"]\s*\)|import\s+['"]([^'"]+)['"]|new URL\(\s*['"]([^'"]+)['"]\s*,\s*import\.meta\.url/g;

function resolveSpec(from, spec) {
  if (!spec.startsWith('.')) return null;
  const base = resolve(dirname(from), spec.replace(/\?.*$/, ''));
  for (const c of [base, `${base}.ts`, `${base}.svelte.ts`, join(base, 'index.ts')]) {
    try {
      if (statSync(c).isFile()) return c;
    } catch {
      /* try the next candidate */
    }
  }
  return null;
}

const files = walk(src);
const rel = (p) => relative(root, p).split('\\').join('/');
const graph = new Map();
const problems = [];

for (const f of files) {
  const text = readFileSync(f, 'utf8');
  const deps = new Set();
  for (const m of text.matchAll(SPEC)) {
    const spec = m[1] ?? m[2] ?? m[3] ?? m[4];
    const target = resolveSpec(f, spec);
    if (target && target.startsWith(src)) deps.add(target);
  }
  graph.set(f, deps);

  const lines = text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
  if (lines > MAX_LINES && !LONG_ALLOWED.has(rel(f))) {
    problems.push(`${rel(f)}: ${lines} lines (at most ${MAX_LINES})`);
  }
  const me = rel(f);
  for (const d of deps) {
    const them = rel(d);
    if (me.startsWith('src/core/') && !them.startsWith('src/core/')) {
      problems.push(`${me} imports ${them}: src/core imports only src/core`);
    }
    if (
      LOWER_LAYERS.some((l) => me.startsWith(l)) &&
      (them.startsWith('src/pipeline/') || them.startsWith('src/ui/'))
    ) {
      problems.push(`${me} imports ${them}: a lower layer never imports the pipeline or the UI`);
    }
    if (!me.startsWith('src/ui/') && them.startsWith('src/ui/') && me !== 'src/main.ts') {
      problems.push(`${me} imports ${them}: only the UI imports the UI`);
    }
    if (
      me.startsWith('src/ui/') &&
      them.startsWith('src/pipeline/') &&
      !UI_MAY_IMPORT_FROM_PIPELINE.has(them)
    ) {
      problems.push(`${me} imports ${them}: the UI uses only the contract and the Workspace`);
    }
  }
}

// Tarjan's strongly connected components, iterative so deep graphs cannot overflow the stack.
let counter = 0;
const index = new Map();
const low = new Map();
const onStack = new Set();
const stack = [];
const cycles = [];
for (const start of graph.keys()) {
  if (index.has(start)) continue;
  const work = [[start, [...graph.get(start)], 0]];
  index.set(start, counter);
  low.set(start, counter++);
  stack.push(start);
  onStack.add(start);
  while (work.length > 0) {
    const frame = work[work.length - 1];
    const [v, deps] = frame;
    if (frame[2] < deps.length) {
      const w = deps[frame[2]++];
      if (!index.has(w)) {
        index.set(w, counter);
        low.set(w, counter++);
        stack.push(w);
        onStack.add(w);
        work.push([w, [...(graph.get(w) ?? [])], 0]);
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v), index.get(w)));
      }
      continue;
    }
    work.pop();
    if (work.length > 0) {
      const parent = work[work.length - 1][0];
      low.set(parent, Math.min(low.get(parent), low.get(v)));
    }
    if (low.get(v) === index.get(v)) {
      const scc = [];
      let w;
      do {
        w = stack.pop();
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1 || graph.get(v)?.has(v)) cycles.push(scc);
    }
  }
}
for (const c of cycles) {
  problems.push(`import cycle of ${c.length} files: ${c.map(rel).sort().join(', ')}`);
}

if (problems.length > 0) {
  for (const p of problems) console.error(p);
  console.error(`layout check: ${problems.length} problem(s) in ${files.length} files`);
  process.exit(1);
}
console.log(`layout check: ${files.length} files, no import cycle, layers and sizes in bounds`);
