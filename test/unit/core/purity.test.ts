import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

/** src/core runs unchanged in Node, workers and pages: it may only import itself. */
const coreDir = join(import.meta.dirname, '../../../src/core');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory()
      ? sources(join(dir, e.name))
      : e.name.endsWith('.ts')
        ? [join(dir, e.name)]
        : [],
  );
}

/** Every module specifier: static imports/exports, dynamic import(), require(). */
function specifiers(text: string): string[] {
  const out: string[] = [];
  const patterns = [
    /\b(?:import|export)\s[^'"]*?\bfrom\s*['"]([^'"]+)['"]/g,
    /\bimport\s*['"]([^'"]+)['"]/g,
    /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
    /\brequire\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
  ];
  for (const p of patterns) for (const m of text.matchAll(p)) out.push(m[1]);
  return out;
}

/** Globals of the DOM, WebGPU, IndexedDB and Node that core code must not touch. */
const FORBIDDEN_GLOBALS =
  /\b(window|document|navigator|indexedDB|IDBDatabase|localStorage|fetch|GPUDevice|GPUBuffer|process|Buffer|require|__dirname|self\.postMessage)\b/;

describe('src/core purity', () => {
  const files = sources(coreDir);

  it('finds the core sources', () => {
    expect(files.length).toBeGreaterThan(10);
  });

  it('imports only relative modules inside src/core', () => {
    for (const file of files) {
      for (const spec of specifiers(readFileSync(file, 'utf8'))) {
        expect(spec.startsWith('./'), `${file} imports '${spec}'`).toBe(true);
      }
    }
  });

  it('uses no DOM, WebGPU, IndexedDB or Node globals', () => {
    for (const file of files) {
      // Comments may mention them; code may not.
      const code = readFileSync(file, 'utf8')
        .replace(/\/\*[\s\S]*?\*\//g, '')
        .replace(/\/\/.*$/gm, '')
        .replace(/'[^'\n]*'|`[^`]*`/g, "''");
      const hit = FORBIDDEN_GLOBALS.exec(code);
      expect(hit, `${file} uses ${hit?.[0]}`).toBeNull();
    }
  });

  it('catches a forbidden import (the scanner itself works)', () => {
    expect(
      specifiers("import { readFileSync } from 'node:fs';\nconst x = await import('idb');"),
    ).toEqual(['node:fs', 'idb']);
    expect(FORBIDDEN_GLOBALS.test('const d = document.body;')).toBe(true);
  });
});
