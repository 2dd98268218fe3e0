/**
 * A small reference interpreter for the converter's own ONNX graphs (the ops convert.ts emits:
 * Cast, Mul, Sub, Add, Conv, Clip, GlobalAveragePool, Flatten), in plain TypeScript. The int8
 * variant (variants.ts) calibrates its activation ranges with it: plain JS arithmetic gives the
 * same bits on every machine, so the calibrated file (and its pinned sha-256) is reproducible,
 * which onnxruntime's CPU kernels (AVX2, AVX-512, wasm SIMD sum in different orders) are not.
 * One image at a time (batch 1), NCHW, float32 storage with double accumulation.
 */
import type { Attribute, ModelDef, NodeDef, TensorDef } from './onnx.ts';
import { DataType } from './onnx.ts';

export interface Tensor {
  shape: number[];
  data: Float32Array;
}

function attrOf(node: NodeDef, name: string): Attribute | undefined {
  return node.attribute?.find((a) => a.name === name);
}

function ints(node: NodeDef, name: string, fallback: number[]): number[] {
  return attrOf(node, name)?.ints ?? fallback;
}

/** An initializer's values as float32 (uint8 codes are widened, as Cast to FLOAT does). */
export function initializerValues(t: TensorDef): Float32Array {
  const raw = t.rawData;
  if (t.dataType === DataType.UINT8) return Float32Array.from(raw);
  if (t.dataType === DataType.FLOAT) {
    // Copy: rawData may sit at an offset that is not a multiple of 4.
    return new Float32Array(raw.slice().buffer);
  }
  throw new Error(`initializer ${t.name}: data type ${t.dataType} is not supported here`);
}

/** Element-wise op with numpy broadcasting of a scalar (the only broadcast the graphs use). */
function binary(a: Tensor, b: Tensor, f: (x: number, y: number) => number, op: string): Tensor {
  const big = a.data.length >= b.data.length ? a : b;
  if (a.data.length !== b.data.length && Math.min(a.data.length, b.data.length) !== 1) {
    throw new Error(`${op}: shapes [${a.shape}] and [${b.shape}] need a broadcast not supported`);
  }
  const out = new Float32Array(big.data.length);
  const sa = a.data.length === 1;
  const sb = b.data.length === 1;
  for (let i = 0; i < out.length; i++) out[i] = f(a.data[sa ? 0 : i], b.data[sb ? 0 : i]);
  return { shape: big.shape, data: out };
}

/** SAME_UPPER (TF "SAME"): output ceil(in / stride), the odd padding pixel at the end. */
function padBegin(size: number, k: number, s: number, mode: string): { out: number; pad: number } {
  if (mode === 'VALID') return { out: Math.floor((size - k) / s) + 1, pad: 0 };
  const out = Math.ceil(size / s);
  const total = Math.max((out - 1) * s + k - size, 0);
  return { out, pad: Math.floor(total / 2) };
}

function conv(node: NodeDef, x: Tensor, w: Tensor, bias: Tensor | undefined): Tensor {
  const [n, cin, h, wd] = x.shape;
  if (n !== 1) throw new Error('the reference interpreter runs one image at a time');
  const [cout, cinPerGroup, kh, kw] = w.shape;
  const group = attrOf(node, 'group')?.i ?? 1;
  const [sh, sw] = ints(node, 'strides', [1, 1]);
  const mode = new TextDecoder().decode(attrOf(node, 'auto_pad')?.s ?? new Uint8Array());
  const ph = padBegin(h, kh, sh, mode);
  const pw = padBegin(wd, kw, sw, mode);
  const oh = ph.out;
  const ow = pw.out;
  const plane = oh * ow;
  const out = new Float32Array(cout * plane);
  const coutPerGroup = cout / group;
  if (cinPerGroup * group !== cin) throw new Error(`${node.name}: channel count mismatch`);
  const acc = new Float64Array(plane);
  for (let co = 0; co < cout; co++) {
    const g = Math.floor(co / coutPerGroup);
    acc.fill(bias ? bias.data[co] : 0);
    for (let cig = 0; cig < cinPerGroup; cig++) {
      const ci = g * cinPerGroup + cig;
      const src = ci * h * wd;
      for (let ky = 0; ky < kh; ky++) {
        for (let kx = 0; kx < kw; kx++) {
          const wv = w.data[((co * cinPerGroup + cig) * kh + ky) * kw + kx];
          if (wv === 0) continue;
          if (kh === 1 && kw === 1 && sh === 1 && sw === 1) {
            // Pointwise convolutions hold ~90% of the multiply-adds: one straight row.
            for (let p = 0; p < plane; p++) acc[p] += wv * x.data[src + p];
            continue;
          }
          for (let oy = 0; oy < oh; oy++) {
            const iy = oy * sh + ky - ph.pad;
            if (iy < 0 || iy >= h) continue;
            const row = src + iy * wd;
            const o = oy * ow;
            for (let ox = 0; ox < ow; ox++) {
              const ix = ox * sw + kx - pw.pad;
              if (ix >= 0 && ix < wd) acc[o + ox] += wv * x.data[row + ix];
            }
          }
        }
      }
    }
    out.set(acc, co * plane);
  }
  return { shape: [1, cout, oh, ow], data: out };
}

/** One node of the supported set on already computed inputs. */
export function evalNode(node: NodeDef, a: (Tensor | undefined)[]): Tensor {
  let out: Tensor;
  switch (node.opType) {
    case 'Cast':
      out = { shape: a[0]!.shape, data: Float32Array.from(a[0]!.data) };
      break;
    case 'Mul':
      out = binary(a[0]!, a[1]!, (x, y) => x * y, node.name);
      break;
    case 'Sub':
      out = binary(a[0]!, a[1]!, (x, y) => x - y, node.name);
      break;
    case 'Add':
      out = binary(a[0]!, a[1]!, (x, y) => x + y, node.name);
      break;
    case 'Clip': {
      const lo = a[1]!.data[0];
      const hi = a[2]!.data[0];
      out = { shape: a[0]!.shape, data: a[0]!.data.map((v) => Math.min(hi, Math.max(lo, v))) };
      break;
    }
    case 'Conv':
      out = conv(node, a[0]!, a[1]!, a[2]);
      break;
    case 'GlobalAveragePool': {
      const [n, c, h, w] = a[0]!.shape;
      const plane = h * w;
      const data = new Float32Array(n * c);
      for (let i = 0; i < n * c; i++) {
        let s = 0;
        for (let p = 0; p < plane; p++) s += a[0]!.data[i * plane + p];
        data[i] = s / plane;
      }
      out = { shape: [n, c, 1, 1], data };
      break;
    }
    case 'Flatten': {
      const [n, ...rest] = a[0]!.shape;
      out = { shape: [n, rest.reduce((p, d) => p * d, 1)], data: a[0]!.data };
      break;
    }
    default:
      throw new Error(`the reference interpreter has no ${node.opType} (${node.name})`);
  }
  return out;
}

/**
 * Runs `def` on one input and calls `observe` with every tensor it computes (constants
 * included, before the graph's first data op reads them). Returns the graph's first output.
 */
export function runGraph(
  def: ModelDef,
  input: Tensor,
  observe?: (name: string, t: Tensor) => void,
): Tensor {
  const values = new Map<string, Tensor>();
  for (const t of def.initializers) {
    values.set(t.name, { shape: t.dims, data: initializerValues(t) });
  }
  values.set(def.inputs[0].name, input);
  const get = (name: string): Tensor => {
    const v = values.get(name);
    if (!v) throw new Error(`tensor ${name} is used before it is computed`);
    return v;
  };
  for (const node of def.nodes) {
    const out = evalNode(
      node,
      node.input.map((i) => (i === '' ? undefined : get(i))),
    );
    values.set(node.output[0], out);
    observe?.(node.output[0], out);
  }
  return get(def.outputs[0].name);
}
