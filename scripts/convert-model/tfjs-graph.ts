/**
 * Reads the TF.js graph model that `nsfwjs` ships: a model JSON and weight shards, each wrapped
 * in a small UMD module (the JSON as an object, each shard as one base64 string).
 */
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export interface TfAttrValue {
  s?: string;
  i?: string;
  f?: number;
  b?: boolean;
  list?: { i?: string[]; s?: string[] };
  shape?: unknown;
  type?: string;
}

export interface TfNode {
  name: string;
  op: string;
  input?: string[];
  attr?: Record<string, TfAttrValue>;
}

export interface TfWeightSpec {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: { min: number; scale: number; dtype: string };
}

export interface TfGraphModelJson {
  format: string;
  generatedBy: string;
  convertedBy: string;
  modelTopology: { node: TfNode[]; versions?: unknown };
  weightsManifest: { paths: string[]; weights: TfWeightSpec[] }[];
}

/** One weight as stored: the uint8 codes and the per-tensor affine map back to float. */
export interface QuantizedWeight {
  spec: TfWeightSpec;
  /** q, one byte per element, in TF layout */
  codes: Uint8Array;
  /** float value = q * scale + min */
  scale: number;
  min: number;
}

export interface LoadedGraph {
  json: TfGraphModelJson;
  weights: Map<string, QuantizedWeight>;
  /** the concatenated shard bytes, as TF.js expects them for `io.fromMemory` */
  weightData: Uint8Array;
  /** version of the npm package the files came from, recorded in the ONNX metadata */
  packageVersion: string;
}

const require = createRequire(import.meta.url);

export const NSFWJS_MODEL = 'nsfwjs/dist/models/mobilenet_v2_mid';

/** The package's folder: its `exports` hide package.json, so walk up from the main entry. */
function packageRoot(name: string): { dir: string; version: string } {
  let dir = dirname(require.resolve(name));
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
        name?: string;
        version: string;
      };
      if (pkg.name === name) return { dir, version: pkg.version };
    } catch {
      // no package.json at this level: keep walking up
    }
    const up = dirname(dir);
    if (up === dir) throw new Error(`cannot find the ${name} package folder`);
    dir = up;
  }
}

export function loadNsfwjsGraph(): LoadedGraph {
  const pkg = packageRoot('nsfwjs');
  const dir = join(pkg.dir, 'dist/models/mobilenet_v2_mid');
  const json = require(join(dir, 'model.min.js')) as TfGraphModelJson;
  if (json.format !== 'graph-model' || json.weightsManifest.length !== 1) {
    throw new Error(`unexpected model format in ${NSFWJS_MODEL}: ${json.format}`);
  }
  const group = json.weightsManifest[0];
  const shards = group.paths.map((p) => {
    const b64 = require(join(dir, `${p}.min.js`)) as unknown;
    if (typeof b64 !== 'string') throw new Error(`weight shard ${p} is not a base64 string`);
    return Buffer.from(b64, 'base64');
  });
  const weightData = new Uint8Array(Buffer.concat(shards));

  const weights = new Map<string, QuantizedWeight>();
  let offset = 0;
  for (const spec of group.weights) {
    const n = spec.shape.reduce((a, b) => a * b, 1);
    const q = spec.quantization;
    if (spec.dtype !== 'float32' || !q || q.dtype !== 'uint8') {
      throw new Error(`weight ${spec.name}: expected uint8-quantised float32, got ${spec.dtype}`);
    }
    weights.set(spec.name, {
      spec,
      codes: weightData.subarray(offset, offset + n),
      scale: q.scale,
      min: q.min,
    });
    offset += n;
  }
  if (offset !== weightData.length) {
    throw new Error(`weight shards hold ${weightData.length} bytes, manifest needs ${offset}`);
  }
  return { json, weights, weightData, packageVersion: pkg.version };
}

/** TF.js stores string attributes base64-encoded. */
export function attrString(node: TfNode, key: string): string | undefined {
  const s = node.attr?.[key]?.s;
  return s === undefined ? undefined : Buffer.from(s, 'base64').toString('utf8');
}

export function attrStrings(node: TfNode, key: string): string[] {
  return (node.attr?.[key]?.list?.s ?? []).map((s) => Buffer.from(s, 'base64').toString('utf8'));
}

export function attrInts(node: TfNode, key: string): number[] {
  return (node.attr?.[key]?.list?.i ?? []).map(Number);
}
