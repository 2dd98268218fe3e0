/**
 * Variants of the converted MobileNetV2 (convert.ts), made at build time from the same graph:
 *
 * - `float32`: the uint8 weight dequantisation (Cast -> Mul -> Add) evaluated here, so the file
 *   holds plain float32 weights (~17 MB). It answers whether onnxruntime folds the in-graph
 *   dequantisation at load (same speed) or pays for it on every run.
 * - `int8`: static QDQ quantisation. Conv weights become per-channel symmetric int8, biases
 *   int32 (scale = input scale x weight scale), and every activation between layers is uint8
 *   with a per-tensor range calibrated on fixed images (images.ts) by the reference interpreter
 *   (forward.ts), so the file is the same on every machine. Each Conv sits between
 *   DequantizeLinear and QuantizeLinear nodes, which onnxruntime's graph optimiser fuses into
 *   QLinearConv (and Add into QLinearAdd) at load. ReLU6 is dropped: a uint8 tensor with zero
 *   point 0 and range [0, <= 6] saturates exactly where Clip(0, 6) would.
 *
 * Neither is what the app ships. bench:embed (Chromium, onnxruntime-web 1.30 wasm, 2-core machine
 * at load 15-20, three interleaved passes) ran int8 at 0.69, 0.72 and 0.85x the float model on one
 * thread, 0.44-0.90x on two lanes, with onnxruntime-node no faster either (10.6 against 10.2
 * images/s on one thread): onnxruntime's profile in Node put 48% of the int8 run in the depthwise
 * QLinearConv, which is slower than the float depthwise Conv there, eating the pointwise gain.
 * float32 was no faster than the in-graph dequantisation (0.98 against 1.05 images/s on two
 * lanes, one pass at load 22; 8.9 against 8.1 images per CPU-second in Node): onnxruntime folds
 * the Cast/Mul/Add at load, so the 4x larger file buys nothing.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildModelDef } from './convert.ts';
import { runGraph, evalNode, initializerValues, type Tensor } from './forward.ts';
import { calibrationMosaics, mosaic, toInput } from './images.ts';
import { attr, DataType, type ModelDef, type NodeDef, type TensorDef } from './onnx.ts';
import { loadNsfwjsGraph } from './tfjs-graph.ts';

/** The committed calibration (calibrate.ts writes it), next to this file. */
export const RANGES_FILE = 'int8-ranges.json';

/** Size the calibration images are fed at: the size the model was trained at. */
const CALIBRATION_SIZE = 224;

function f32Raw(v: Float32Array): Uint8Array {
  return new Uint8Array(v.buffer.slice(v.byteOffset, v.byteOffset + v.byteLength));
}

/**
 * Evaluates every node whose inputs are all constants (the weights' Cast/Mul/Add chains and the
 * input scalars) and stores the results as float32 initializers.
 */
export function foldConstants(def: ModelDef): ModelDef {
  const constants = new Map<string, Tensor>();
  for (const t of def.initializers) {
    constants.set(t.name, { shape: t.dims, data: initializerValues(t) });
  }
  const nodes: NodeDef[] = [];
  for (const node of def.nodes) {
    const inputs = node.input.map((i) => constants.get(i));
    if (inputs.every((t) => t !== undefined)) {
      constants.set(node.output[0], evalNode(node, inputs));
    } else {
      nodes.push(node);
    }
  }
  const used = new Set(nodes.flatMap((n) => n.input));
  const initializers: TensorDef[] = [...constants]
    .filter(([name]) => used.has(name))
    .map(([name, t]) => ({
      name,
      dataType: DataType.FLOAT,
      dims: t.shape,
      rawData: f32Raw(t.data),
    }));
  return { ...def, nodes, initializers };
}

/** Observed value range of one activation tensor. */
export interface Range {
  min: number;
  max: number;
  /**
   * Signed tensors only: [low, high] values with a fraction `q` of all values beyond each, per
   * q in TAIL_FRACTIONS (a clipped range trades rare outliers for a finer step elsewhere).
   */
  tails?: Record<string, [number, number]>;
}

/** Tensors the int8 graph quantises: data inputs of Conv, Add and the final pooling. */
function quantisedTensors(def: ModelDef): Set<string> {
  const out = new Set<string>();
  for (const n of def.nodes) {
    if (n.opType === 'Conv' || n.opType === 'GlobalAveragePool') out.add(n.input[0]);
    if (n.opType === 'Add') n.input.forEach((i) => out.add(i));
  }
  return out;
}

export const TAIL_FRACTIONS = ['1e-3', '1e-4', '1e-5'];

/** Min/max of every tensor the int8 graph quantises, over the calibration images. */
export function calibrate(def: ModelDef, images: Tensor[]): Map<string, Range> {
  const wanted = quantisedTensors(def);
  const producer = new Map(def.nodes.map((n) => [n.output[0], n.opType]));
  const ranges = new Map<string, Range>();
  const values = new Map<string, Float32Array[]>();
  for (const img of images) {
    runGraph(def, img, (name, t) => {
      if (!wanted.has(name)) return;
      let lo = Infinity;
      let hi = -Infinity;
      for (const v of t.data) {
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
      const r = ranges.get(name);
      ranges.set(
        name,
        r ? { min: Math.min(r.min, lo), max: Math.max(r.max, hi) } : { min: lo, max: hi },
      );
      if (producer.get(name) !== 'Clip') values.set(name, [...(values.get(name) ?? []), t.data]);
    });
  }
  for (const [name, parts] of values) {
    const all = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
    let o = 0;
    for (const p of parts) {
      all.set(p, o);
      o += p.length;
    }
    all.sort();
    const at = (i: number): number => all[Math.min(all.length - 1, Math.max(0, i))];
    ranges.get(name)!.tails = Object.fromEntries(
      TAIL_FRACTIONS.map((q) => {
        const k = Math.floor(Number(q) * all.length);
        return [q, [at(k), at(all.length - 1 - k)]];
      }),
    );
  }
  return ranges;
}

interface QParams {
  scale: number;
  zeroPoint: number;
}

/** Asymmetric uint8 over [min, max], widened to hold 0 exactly (zero padding stays exact). */
function uint8Params(r: Range): QParams {
  const lo = Math.min(0, r.min);
  const hi = Math.max(0, r.max, lo + 1e-6);
  const scale = Math.fround((hi - lo) / 255);
  const zeroPoint = Math.min(255, Math.max(0, Math.round(-lo / scale)));
  return { scale, zeroPoint };
}

class QdqBuilder {
  readonly nodes: NodeDef[] = [];
  readonly initializers: TensorDef[] = [];
  /** a tensor's name as consumers read it (its DequantizeLinear output once quantised) */
  readonly read = new Map<string, string>();
  readonly params = new Map<string, QParams>();

  init(name: string, dataType: number, dims: number[], rawData: Uint8Array): string {
    this.initializers.push({ name, dataType, dims, rawData });
    return name;
  }

  node(
    opType: string,
    name: string,
    input: string[],
    attribute = [] as NodeDef['attribute'],
  ): string {
    this.nodes.push({ name, opType, input, output: [name], attribute });
    return name;
  }

  /** Q -> DQ on `source`; consumers of `as` read the dequantised copy from now on. */
  qdq(source: string, as: string, p: QParams): void {
    const scale = this.init(
      `${as}/act_scale`,
      DataType.FLOAT,
      [],
      f32Raw(Float32Array.of(p.scale)),
    );
    const zp = this.init(`${as}/act_zp`, DataType.UINT8, [], Uint8Array.of(p.zeroPoint));
    const q = this.node('QuantizeLinear', `${as}/quant`, [source, scale, zp]);
    this.read.set(as, this.node('DequantizeLinear', `${as}/dequant`, [q, scale, zp]));
    this.params.set(as, p);
  }
}

/** Per-output-channel symmetric int8 weights and int32 bias, each behind a DequantizeLinear. */
function quantiseConvWeights(
  b: QdqBuilder,
  name: string,
  w: Tensor,
  bias: Tensor,
  inputScale: number | undefined,
  weightMax: number,
): { weight: string; bias?: string } {
  const cout = w.shape[0];
  const per = w.data.length / cout;
  const q = new Int8Array(w.data.length);
  const scales = new Float32Array(cout);
  const biasScales = new Float32Array(cout);
  const qb = new Int32Array(cout);
  for (let c = 0; c < cout; c++) {
    let amax = 0;
    for (let i = 0; i < per; i++) amax = Math.max(amax, Math.abs(w.data[c * per + i]));
    const s = amax > 0 ? Math.fround(amax / weightMax) : 1;
    scales[c] = s;
    for (let i = 0; i < per; i++) {
      q[c * per + i] = Math.max(
        -weightMax,
        Math.min(weightMax, Math.round(w.data[c * per + i] / s)),
      );
    }
    // onnxruntime's QLinearConv takes the int32 bias at input scale x weight scale as given.
    biasScales[c] = Math.fround((inputScale ?? 1) * s);
    qb[c] = Math.round(bias.data[c] / biasScales[c]);
  }
  const axis = [attr.int('axis', 0)];
  const wq = b.init(`${name}/w_int8`, DataType.INT8, w.shape, new Uint8Array(q.buffer));
  const ws = b.init(`${name}/w_scale`, DataType.FLOAT, [cout], f32Raw(scales));
  const wz = b.init(`${name}/w_zp`, DataType.INT8, [cout], new Uint8Array(cout));
  const weight = b.node('DequantizeLinear', `${name}/w_dequant`, [wq, ws, wz], axis);
  if (inputScale === undefined) {
    b.initializers.push({
      name: `${name}/bias`,
      dataType: DataType.FLOAT,
      dims: [cout],
      rawData: f32Raw(bias.data),
    });
    return { weight, bias: `${name}/bias` };
  }
  const bq = b.init(`${name}/b_int32`, DataType.INT32, [cout], new Uint8Array(qb.buffer));
  const bs = b.init(`${name}/b_scale`, DataType.FLOAT, [cout], f32Raw(biasScales));
  const bz = b.init(`${name}/b_zp`, DataType.INT32, [cout], new Uint8Array(cout * 4));
  return {
    weight,
    bias: b.node('DequantizeLinear', `${name}/b_dequant`, [bq, bs, bz], axis),
  };
}

export interface QuantiseOptions {
  /** activations left in float (their consumers run in float) */
  float?: ReadonlySet<string>;
  /** largest weight code: 127 (full int8) or 63 (7 bits, for x86 CPUs without VNNI) */
  weightMax?: number;
  /**
   * The weights as shipped (shippedWeights()): uint8 codes with one scale and an integer zero
   * point per tensor, which is exactly how nsfwjs stores every kernel, so the weights stay
   * bit-for-bit those of the float graph. Without it, weights are re-quantised per channel to
   * symmetric int8, which adds a second rounding on top of the shipped one.
   */
  shipped?: Map<string, ShippedWeight>;
  /** signed tensors take their clipped range at this tail fraction (Range.tails) */
  tail?: string;
}

/** A kernel as nsfwjs ships it: float = (code - zeroPoint) * scale. */
export interface ShippedWeight {
  codes: Uint8Array;
  dims: number[];
  scale: number;
  zeroPoint: number;
}

/**
 * The uint8 kernels of the unfolded graph (convert.ts), by the name of their float tensor. Only
 * kernels whose zero point is a whole number qualify (all 52 of nsfwjs's MobileNetV2: TF.js
 * nudges the range so that 0.0 has a code).
 */
export function shippedWeights(base: ModelDef): Map<string, ShippedWeight> {
  const byName = new Map(base.initializers.map((t) => [t.name, t]));
  const out = new Map<string, ShippedWeight>();
  for (const t of base.initializers) {
    if (!t.name.endsWith('/q') || t.dims.length !== 4 || t.dataType !== DataType.UINT8) continue;
    const name = t.name.slice(0, -2);
    const scale = initializerValues(byName.get(`${name}/scale`)!)[0];
    const min = initializerValues(byName.get(`${name}/min`)!)[0];
    const zp = -min / scale;
    if (Math.abs(zp - Math.round(zp)) > 1e-4 || zp < 0 || zp > 255) continue;
    out.set(name, { codes: t.rawData, dims: t.dims, scale, zeroPoint: Math.round(zp) });
  }
  return out;
}

/** The shipped uint8 kernel (one scale, one zero point) and an int32 bias, behind DequantizeLinear. */
function shippedConvWeights(
  b: QdqBuilder,
  name: string,
  w: ShippedWeight,
  bias: Tensor,
  inputScale: number | undefined,
): { weight: string; bias?: string } {
  const wq = b.init(`${name}/w_uint8`, DataType.UINT8, w.dims, w.codes);
  const ws = b.init(`${name}/w_scale`, DataType.FLOAT, [], f32Raw(Float32Array.of(w.scale)));
  const wz = b.init(`${name}/w_zp`, DataType.UINT8, [], Uint8Array.of(w.zeroPoint));
  const weight = b.node('DequantizeLinear', `${name}/w_dequant`, [wq, ws, wz]);
  if (inputScale === undefined) {
    const fb = b.init(`${name}/bias`, DataType.FLOAT, [bias.data.length], f32Raw(bias.data));
    return { weight, bias: fb };
  }
  const bs = Math.fround(inputScale * w.scale);
  const qb = Int32Array.from(bias.data, (v) => Math.round(v / bs));
  const bq = b.init(`${name}/b_int32`, DataType.INT32, [qb.length], new Uint8Array(qb.buffer));
  const bsName = b.init(`${name}/b_scale`, DataType.FLOAT, [], f32Raw(Float32Array.of(bs)));
  const bz = b.init(`${name}/b_zp`, DataType.INT32, [], new Uint8Array(4));
  return { weight, bias: b.node('DequantizeLinear', `${name}/b_dequant`, [bq, bsName, bz]) };
}

/** The QDQ int8 graph of a folded float32 graph, with activation ranges from calibrate(). */
export function quantiseQdq(
  def: ModelDef,
  ranges: Map<string, Range>,
  opts: QuantiseOptions = {},
): ModelDef {
  const consts = new Map<string, Tensor>(
    def.initializers.map((t) => [t.name, { shape: t.dims, data: initializerValues(t) }]),
  );
  const wanted = quantisedTensors(def);
  for (const t of opts.float ?? []) wanted.delete(t);
  const b = new QdqBuilder();
  const params = (name: string): QParams => {
    const r = ranges.get(name);
    if (!r) throw new Error(`no calibrated range for ${name}`);
    const tail = opts.tail && r.tails?.[opts.tail];
    return uint8Params(tail ? { min: tail[0], max: tail[1] } : r);
  };
  const kept = new Set<string>();
  for (const node of def.nodes) {
    const out = node.output[0];
    if (node.opType === 'Clip' && wanted.has(out)) {
      const lo = consts.get(node.input[1])!.data[0];
      const p = params(out);
      if (
        lo === 0 &&
        p.zeroPoint === 0 &&
        p.scale * 255 <= consts.get(node.input[2])!.data[0] * (1 + 1e-6)
      ) {
        b.qdq(b.read.get(node.input[0]) ?? node.input[0], out, p);
        continue;
      }
    }
    const input = node.input.map((i) => b.read.get(i) ?? i);
    if (node.opType === 'Conv') {
      // An input left in float keeps its Conv in float too (int8 weights, dequantised).
      const x = b.params.get(node.input[0]);
      const shipped = opts.shipped?.get(node.input[1]);
      const q = shipped
        ? shippedConvWeights(b, node.name, shipped, consts.get(node.input[2])!, x?.scale)
        : quantiseConvWeights(
            b,
            node.name,
            consts.get(node.input[1])!,
            consts.get(node.input[2])!,
            x?.scale,
            opts.weightMax ?? 127,
          );
      input[1] = q.weight;
      if (q.bias) input[2] = q.bias;
    }
    input.forEach((i) => kept.add(i));
    b.nodes.push({ ...node, input });
    if (wanted.has(out)) b.qdq(out, out, params(out));
  }
  const initializers = [...def.initializers.filter((t) => kept.has(t.name)), ...b.initializers];
  return {
    ...def,
    docString: `${def.docString} int8 QDQ: per-channel symmetric int8 Conv weights, uint8 activations calibrated on fixed emoji mosaics.`,
    nodes: b.nodes,
    initializers,
  };
}

/** The calibration images as model inputs (224 px). */
export function calibrationInputs(): Tensor[] {
  return calibrationMosaics().map((codes) =>
    toInput(mosaic(codes, CALIBRATION_SIZE), CALIBRATION_SIZE),
  );
}

/** The committed activation ranges (calibrate.ts). */
export function committedRanges(): Map<string, Range> {
  const json = JSON.parse(readFileSync(join(import.meta.dirname, RANGES_FILE), 'utf8')) as {
    ranges: Record<string, Range>;
  };
  return new Map(Object.entries(json.ranges));
}

/**
 * Tail fraction clipped from signed activations (project outputs and residual sums). Mean
 * cosine after centring to the float features, onnxruntime-web wasm in Node, the first 8
 * evaluation mosaics (images.ts): min/max 0.9917, 1e-5 0.9945, 1e-4 0.9923, 1e-3 0.9693. On the
 * first 6 (min/max ranges): only the ReLU6 outputs quantised 0.9984, only the signed ones
 * 0.9876, so the wide signed ranges (up to +-55) are where 8 bits hurt, and clipping their
 * rarest values buys a finer step; per-channel int8 weights re-quantised from the shipped uint8
 * ones 0.9648 (those weights alone 0.9772), which is why the shipped codes are kept.
 */
export const INT8_TAIL = '1e-5';

export type VariantName = 'float32' | 'int8';

/** A variant of the bundled model, before encoding. */
export function variantDef(
  name: VariantName,
  base = buildModelDef(loadNsfwjsGraph()),
  ranges = committedRanges(),
): ModelDef {
  const folded = foldConstants(base);
  if (name === 'float32') return folded;
  return quantiseQdq(folded, ranges, { shipped: shippedWeights(base), tail: INT8_TAIL });
}
