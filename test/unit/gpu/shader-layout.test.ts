/**
 * Every WGSL kernel's `struct Params` and `@group(0)` bindings, parsed from the shader source,
 * against the field list and binding list its pass writes from (src/gpu/passes/). A field or
 * binding added, dropped, renamed, retyped or reordered on one side only fails here, instead of
 * shifting values into the wrong slots on the GPU. Pure text parsing: no WebGPU needed.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ALL_SHADERS } from '../../../src/gpu/compile.ts';
import type { BindingKind } from '../../../src/gpu/kernel.ts';
import { uniformBytes, uniformLayout } from '../../../src/gpu/uniforms.ts';

const SHADER_DIR = join(import.meta.dirname, '..', '..', '..', 'shaders');

/** WGSL comments removed (line and block comments; WGSL block comments nest). */
function stripComments(code: string): string {
  let out = '';
  let depth = 0;
  for (let i = 0; i < code.length; i++) {
    const two = code.slice(i, i + 2);
    if (two === '/*') {
      depth++;
      i++;
    } else if (depth > 0 && two === '*/') {
      depth--;
      i++;
    } else if (depth === 0 && two === '//') {
      while (i < code.length && code[i] !== '\n') i++;
      out += '\n';
    } else if (depth === 0) {
      out += code[i];
    }
  }
  return out;
}

/**
 * Size and alignment of WGSL types a Params struct could plausibly hold (WGSL spec, "Alignment
 * and Size"); written out here independently of src/gpu/uniforms.ts so offsets are checked, not
 * recomputed by the same code.
 */
const WGSL_TYPES: Record<string, { size: number; align: number }> = {
  u32: { size: 4, align: 4 },
  i32: { size: 4, align: 4 },
  f32: { size: 4, align: 4 },
  f16: { size: 2, align: 2 },
  vec2u: { size: 8, align: 8 },
  vec2i: { size: 8, align: 8 },
  vec2f: { size: 8, align: 8 },
  vec3u: { size: 12, align: 16 },
  vec3i: { size: 12, align: 16 },
  vec3f: { size: 12, align: 16 },
  vec4u: { size: 16, align: 16 },
  vec4i: { size: 16, align: 16 },
  vec4f: { size: 16, align: 16 },
};

interface ParsedField {
  readonly name: string;
  readonly type: string;
  readonly offset: number;
}

/** The fields of `struct Params` with WGSL's offsets, and the struct's size. */
function parseParams(code: string): { fields: ParsedField[]; size: number } {
  const m = /\bstruct\s+Params\s*\{([^}]*)\}/.exec(stripComments(code));
  if (!m) throw new Error('no struct Params');
  const fields: ParsedField[] = [];
  let end = 0;
  let align = 1;
  for (const member of m[1].split(',')) {
    const text = member.trim();
    if (text === '') continue;
    const f = /^(\w+)\s*:\s*([\w<>]+)$/.exec(text);
    if (!f) throw new Error(`cannot read the member "${text}" (attributes are not supported)`);
    const [, name, rawType] = f;
    const type = rawType.replace(/^vec(\d)<(u32|i32|f32)>$/, (_, n: string, t: string) => {
      return `vec${n}${t[0]}`;
    });
    const info = WGSL_TYPES[type];
    if (!info) throw new Error(`member ${name} has a type this test does not know: ${rawType}`);
    const offset = Math.ceil(end / info.align) * info.align;
    fields.push({ name, type, offset });
    end = offset + info.size;
    align = Math.max(align, info.align);
  }
  return { fields, size: Math.ceil(end / align) * align };
}

interface ParsedBinding {
  readonly group: number;
  readonly binding: number;
  readonly name: string;
  readonly kind: BindingKind;
  readonly type: string;
}

function bindingKind(addressSpace: string): BindingKind {
  const parts = addressSpace.split(',').map((s) => s.trim());
  if (parts[0] === 'uniform') return 'uniform';
  if (parts[0] === 'storage') return parts[1] === 'read_write' ? 'storage' : 'read-only-storage';
  throw new Error(`unexpected address space ${addressSpace}`);
}

/** Every `@group(g) @binding(b) var<...> name: type;` of the shader, by binding number. */
function parseBindings(code: string): ParsedBinding[] {
  const re = /@group\((\d+)\)\s*@binding\((\d+)\)\s*var<([^>]+)>\s*(\w+)\s*:\s*([^;]+);/g;
  const out: ParsedBinding[] = [];
  for (const m of stripComments(code).matchAll(re)) {
    out.push({
      group: Number(m[1]),
      binding: Number(m[2]),
      kind: bindingKind(m[3]),
      name: m[4],
      type: m[5].trim(),
    });
  }
  return out.sort((a, b) => a.binding - b.binding);
}

describe('WGSL Params structs and bindings match their passes', () => {
  it('every shader file is compiled by exactly one spec, from the file as it is on disk', () => {
    const files = readdirSync(SHADER_DIR)
      .filter((f) => f.endsWith('.wgsl'))
      .sort();
    expect(ALL_SHADERS.map((s) => s.file).sort()).toEqual(files);
    for (const spec of ALL_SHADERS) {
      expect(spec.code, spec.file).toBe(readFileSync(join(SHADER_DIR, spec.file), 'utf8'));
    }
  });

  for (const spec of ALL_SHADERS) {
    describe(spec.file, () => {
      it('declares the Params fields the pass writes: names, order, types, offsets, size', () => {
        const wgsl = parseParams(spec.code);
        const ours = spec.params.fields.map((f) => ({
          name: f.name,
          type: f.type,
          offset: f.offset,
        }));
        expect(ours).toEqual(wgsl.fields);
        expect(spec.params.size).toBe(wgsl.size);
        // The buffer covers the struct and is a whole number of 16-byte rows.
        expect(spec.params.bufferSize).toBeGreaterThanOrEqual(wgsl.size);
        expect(spec.params.bufferSize % 16).toBe(0);
      });

      it('declares the bindings the pass binds: numbers, names, access', () => {
        const wgsl = parseBindings(spec.code);
        expect(wgsl.every((b) => b.group === 0)).toBe(true);
        expect(wgsl.map((b) => b.binding)).toEqual(wgsl.map((_, i) => i));
        expect(spec.bindings.map(([name, kind]) => ({ name, kind }))).toEqual(
          wgsl.map((b) => ({ name: b.name, kind: b.kind })),
        );
        // The uniform is the Params struct, at binding 0.
        expect(wgsl[0]).toMatchObject({ kind: 'uniform', type: 'Params' });
        expect(wgsl.filter((b) => b.kind === 'uniform')).toHaveLength(1);
      });
    });
  }
});

describe('the uniform writer', () => {
  const layout = uniformLayout([
    ['count', 'u32'],
    ['scale', 'f32'],
    ['shift', 'i32'],
    ['flag', 'u32'],
    ['pad', 'u32'],
  ]);

  it('lays fields out in order, 4 bytes each, and rounds the buffer up to 16 bytes', () => {
    expect(layout.fields.map((f) => [f.name, f.offset])).toEqual([
      ['count', 0],
      ['scale', 4],
      ['shift', 8],
      ['flag', 12],
      ['pad', 16],
    ]);
    expect(layout.size).toBe(20);
    expect(layout.bufferSize).toBe(32);
    expect(uniformLayout([['a', 'u32']]).bufferSize).toBe(16);
  });

  it('writes each value at its field by name, padding as zero', () => {
    const bytes = uniformBytes(layout, { flag: 1, shift: -3, scale: 0.5, count: 2 ** 32 + 7 });
    const v = new DataView(bytes);
    expect(bytes.byteLength).toBe(32);
    expect(v.getUint32(0, true)).toBe(7); // u32 wraps like a Uint32Array store
    expect(v.getFloat32(4, true)).toBe(0.5);
    expect(v.getInt32(8, true)).toBe(-3);
    expect(v.getUint32(12, true)).toBe(1);
    expect(v.getUint32(16, true)).toBe(0);
  });

  it('refuses a missing value (a type error too) and a field declared twice', () => {
    // @ts-expect-error `flag` is missing
    expect(() => uniformBytes(layout, { count: 1, scale: 1, shift: 1 })).toThrow(/flag/);
    expect(() =>
      uniformLayout([
        ['a', 'u32'],
        ['a', 'u32'],
      ]),
    ).toThrow(/twice/);
  });

  it('the parser reads comments, vec<> spellings and WGSL alignment', () => {
    const parsed = parseParams(`
      /* a /* nested */ comment */
      struct Params {
        a: u32, // first
        b: vec2<f32>,
        c: vec3f,
        d: f32,
      }`);
    expect(parsed.fields).toEqual([
      { name: 'a', type: 'u32', offset: 0 },
      { name: 'b', type: 'vec2f', offset: 8 },
      { name: 'c', type: 'vec3f', offset: 16 },
      { name: 'd', type: 'f32', offset: 28 },
    ]);
    expect(parsed.size).toBe(32);
  });
});
