/**
 * TF.js graph model (nsfwjs's MobileNetV2-1.4 feature extractor) -> ONNX.
 *
 * Only the path from the image input to `feature_vector/SpatialSqueeze` is kept (the NSFW
 * classifier head is dropped). Weights stay uint8 as shipped and are dequantised in the graph by
 * Cast -> Mul(scale) -> Add(min), which onnxruntime folds into float constants when it loads the
 * model: the file stays ~4.4 MB instead of 17 MB of float32, and the arithmetic is the one TF.js
 * does (`q * scale + min`). The graph runs in NCHW with symbolic batch/height/width, so any input
 * size that is a multiple of 32 works (224 is the size the model was trained at).
 */
import type { Attribute, ModelDef, NodeDef, TensorDef } from './onnx.ts';
import { DataType, attr, encodeModel } from './onnx.ts';
import type { LoadedGraph, QuantizedWeight, TfNode } from './tfjs-graph.ts';
import { attrInts, attrString, attrStrings, loadNsfwjsGraph } from './tfjs-graph.ts';

/** TF node whose output is the 1792-d pooled feature (the TF-Hub "feature_vector"). */
export const FEATURE_NODE = 'feature_vector/SpatialSqueeze';
export const INPUT_NAME = 'input';
export const OUTPUT_NAME = 'feature';
export const FEATURE_DIM = 1792;

/** The long scope prefix TF-Hub's SavedModel export puts on every node; dropped for readability. */
const SCOPE =
  'StatefulPartitionedCall/sequential/keras_layer/StatefulPartitionedCall/StatefulPartitionedCall/StatefulPartitionedCall/predict/';

const short = (name: string): string => (name.startsWith(SCOPE) ? name.slice(SCOPE.length) : name);

/** Byte-exact permutation of a dense uint8 tensor: out[perm-ordered] = in. */
function transposeCodes(codes: Uint8Array, shape: number[], perm: number[]): Uint8Array {
  const rank = shape.length;
  const outShape = perm.map((p) => shape[p]);
  const inStrides = new Array<number>(rank);
  let s = 1;
  for (let d = rank - 1; d >= 0; d--) {
    inStrides[d] = s;
    s *= shape[d];
  }
  const out = new Uint8Array(codes.length);
  const idx = new Array<number>(rank).fill(0);
  for (let o = 0; o < out.length; o++) {
    let src = 0;
    for (let d = 0; d < rank; d++) src += idx[d] * inStrides[perm[d]];
    out[o] = codes[src];
    for (let d = rank - 1; d >= 0; d--) {
      if (++idx[d] < outShape[d]) break;
      idx[d] = 0;
    }
  }
  return out;
}

function f32Bytes(values: number[]): Uint8Array {
  return new Uint8Array(new Float32Array(values).buffer);
}

class GraphBuilder {
  readonly nodes: NodeDef[] = [];
  readonly initializers: TensorDef[] = [];
  private readonly constants = new Set<string>();

  node(opType: string, name: string, input: string[], attribute: Attribute[] = []): string {
    this.nodes.push({ name, opType, input, output: [name], attribute });
    return name;
  }

  scalar(name: string, value: number): string {
    if (!this.constants.has(name)) {
      this.constants.add(name);
      this.initializers.push({
        name,
        dataType: DataType.FLOAT,
        dims: [],
        rawData: f32Bytes([value]),
      });
    }
    return name;
  }

  /** uint8 codes in ONNX layout + the in-graph dequantisation; returns the float tensor's name. */
  quantized(name: string, w: QuantizedWeight, codes: Uint8Array, dims: number[]): string {
    const q = `${name}/q`;
    this.initializers.push({ name: q, dataType: DataType.UINT8, dims, rawData: codes });
    const scale = this.scalar(`${name}/scale`, w.scale);
    const min = this.scalar(`${name}/min`, w.min);
    const cast = this.node('Cast', `${name}/cast`, [q], [attr.int('to', DataType.FLOAT)]);
    const mul = this.node('Mul', `${name}/mul`, [cast, scale]);
    return this.node('Add', name, [mul, min]);
  }
}

function weightOf(graph: LoadedGraph, name: string): QuantizedWeight {
  const w = graph.weights.get(name);
  if (!w) throw new Error(`no weights for constant ${name}`);
  return w;
}

/** Data inputs without the output index; `^name` entries are control edges, not data. */
function dataInputs(n: TfNode): string[] {
  return (n.input ?? []).filter((i) => !i.startsWith('^')).map((i) => i.replace(/:\d+$/, ''));
}

/** Nodes needed for `target`, inputs before users, in a fixed order (depth-first, input order). */
function ancestry(nodes: Map<string, TfNode>, target: string): TfNode[] {
  const order: TfNode[] = [];
  const seen = new Set<string>();
  const visit = (name: string): void => {
    if (seen.has(name)) return;
    seen.add(name);
    const n = nodes.get(name);
    if (!n) throw new Error(`graph references unknown node ${name}`);
    for (const i of dataInputs(n)) visit(i);
    order.push(n);
  };
  visit(target);
  return order;
}

function convPadding(node: TfNode): Attribute {
  const padding = attrString(node, 'padding');
  // TF "SAME" pads the extra row/column at the bottom/right: ONNX SAME_UPPER.
  if (padding === 'SAME') return attr.string('auto_pad', 'SAME_UPPER');
  if (padding === 'VALID') return attr.string('auto_pad', 'VALID');
  throw new Error(`${node.name}: unsupported padding ${padding}`);
}

function checkNhwc(node: TfNode): void {
  const format = attrString(node, 'data_format') ?? 'NHWC';
  if (format !== 'NHWC') throw new Error(`${node.name}: unsupported data_format ${format}`);
  const dil = attrInts(node, 'dilations');
  if (dil.some((d) => d !== 1)) throw new Error(`${node.name}: dilated convolutions unsupported`);
}

export interface ConvertedModel {
  onnx: Uint8Array;
  packageVersion: string;
  opCounts: Record<string, number>;
}

/** Nodes per op type, for reports and tests. */
export function countOps(def: ModelDef): Record<string, number> {
  const opCounts: Record<string, number> = {};
  for (const node of def.nodes) opCounts[node.opType] = (opCounts[node.opType] ?? 0) + 1;
  return opCounts;
}

/** The graph before encoding, so variants (variants.ts) can be derived from it. */
export function buildModelDef(graph: LoadedGraph): ModelDef {
  const byName = new Map(graph.json.modelTopology.node.map((n) => [n.name, n]));
  const b = new GraphBuilder();
  const tensorOf = new Map<string, string>();
  const input = (n: TfNode, k: number): string => {
    const src = dataInputs(n)[k];
    const t = src === undefined ? undefined : tensorOf.get(src);
    if (t === undefined) throw new Error(`${n.name}: input ${k} (${src}) was not converted`);
    return t;
  };

  for (const n of ancestry(byName, SCOPE + FEATURE_NODE)) {
    const name = short(n.name);
    switch (n.op) {
      case 'Placeholder':
        tensorOf.set(n.name, INPUT_NAME);
        break;
      case 'Const': {
        // Scalars (the input's *2 and -1) and biases: dequantised in the graph like the rest.
        const w = weightOf(graph, n.name);
        if (w.spec.shape.length <= 1) {
          tensorOf.set(n.name, b.quantized(name, w, w.codes, w.spec.shape));
        }
        // Convolution kernels are converted where they are used (their layout depends on it).
        break;
      }
      case 'Mul':
        tensorOf.set(n.name, b.node('Mul', name, [input(n, 1), input(n, 0)]));
        break;
      case 'Sub':
        tensorOf.set(n.name, b.node('Sub', name, [input(n, 0), input(n, 1)]));
        break;
      case 'AddV2':
        tensorOf.set(n.name, b.node('Add', name, [input(n, 0), input(n, 1)]));
        break;
      case '_FusedConv2D':
      case 'FusedDepthwiseConv2dNative': {
        checkNhwc(n);
        const fused = attrStrings(n, 'fused_ops');
        if (fused[0] !== 'BiasAdd' || fused.length > 2 || (fused[1] && fused[1] !== 'Relu6')) {
          throw new Error(`${n.name}: unsupported fused ops ${fused.join(',')}`);
        }
        const kernelName = dataInputs(n)[1];
        const w = weightOf(graph, kernelName);
        const [kh, kw, cin, cout] = w.spec.shape;
        const depthwise = n.op === 'FusedDepthwiseConv2dNative';
        // Regular: HWIO -> OIHW. Depthwise: HWCM -> (C*M) x 1 x H x W, with group = C; TF's
        // depthwise output channel c*M+m is exactly ONNX's group-major channel order.
        const codes = transposeCodes(
          w.codes,
          w.spec.shape,
          depthwise ? [2, 3, 0, 1] : [3, 2, 0, 1],
        );
        const dims = depthwise ? [cin * cout, 1, kh, kw] : [cout, cin, kh, kw];
        const kernel = b.quantized(short(kernelName), w, codes, dims);
        const strides = attrInts(n, 'strides');
        const attributes = [
          convPadding(n),
          attr.ints('dilations', [1, 1]),
          attr.int('group', depthwise ? cin : 1),
          attr.ints('kernel_shape', [kh, kw]),
          attr.ints('strides', [strides[1], strides[2]]),
        ];
        const conv = b.node(
          'Conv',
          fused[1] ? `${name}/conv` : name,
          [input(n, 0), kernel, input(n, 2)],
          attributes,
        );
        tensorOf.set(
          n.name,
          fused[1]
            ? b.node('Clip', name, [conv, b.scalar('relu6/min', 0), b.scalar('relu6/max', 6)])
            : conv,
        );
        break;
      }
      case 'AvgPool': {
        // A 7x7 VALID average over a 7x7 map (224 px input) is the global average; writing it as
        // GlobalAveragePool keeps the height/width dynamic.
        const k = attrInts(n, 'ksize');
        if (attrString(n, 'padding') !== 'VALID' || k[1] !== 7 || k[2] !== 7) {
          throw new Error(`${n.name}: only the final 7x7 VALID average pool is supported`);
        }
        tensorOf.set(n.name, b.node('GlobalAveragePool', name, [input(n, 0)]));
        break;
      }
      case 'Squeeze':
        tensorOf.set(n.name, b.node('Flatten', OUTPUT_NAME, [input(n, 0)], [attr.int('axis', 1)]));
        break;
      default:
        throw new Error(`${n.name}: unsupported op ${n.op}`);
    }
  }

  return {
    producerName: 'strata-convert-model',
    producerVersion: '1',
    docString:
      'MobileNetV2-1.4 (TF-Hub imagenet feature_vector, Apache-2.0) as shipped uint8-quantised in ' +
      `nsfwjs@${graph.packageVersion} (MIT); NSFW head removed. Input: RGB in [0,1], NCHW. ` +
      'Output: 1792-d pooled post-ReLU6 feature.',
    opset: 13,
    graphName: 'mobilenet_v2_140_feature_vector',
    nodes: b.nodes,
    initializers: b.initializers,
    inputs: [
      { name: INPUT_NAME, elemType: DataType.FLOAT, shape: ['batch', 3, 'height', 'width'] },
    ],
    outputs: [{ name: OUTPUT_NAME, elemType: DataType.FLOAT, shape: ['batch', FEATURE_DIM] }],
    metadata: {
      source: `npm:nsfwjs@${graph.packageVersion}/dist/models/mobilenet_v2_mid`,
      license: 'Apache-2.0 (model weights, Google TF-Hub); MIT (nsfwjs packaging)',
    },
  };
}

export function convertGraph(graph: LoadedGraph): ConvertedModel {
  const def = buildModelDef(graph);
  return { onnx: encodeModel(def), packageVersion: graph.packageVersion, opCounts: countOps(def) };
}

export function convertNsfwjsMobileNet(): ConvertedModel {
  return convertGraph(loadNsfwjsGraph());
}
