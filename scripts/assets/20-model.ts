/**
 * Asset step: the bundled embedding models. Converts nsfwjs's TF.js MobileNetV2-1.4 to ONNX
 * (scripts/convert-model) into public/models/mobilenet-v2-1.4/: model.onnx (the float graph,
 * uint8 weights dequantised in the graph) and model-int8.onnx (the 8-bit QDQ variant the app
 * uses by default, scripts/convert-model/variants.ts). Refuses any output whose sha-256 differs
 * from the one pinned in src/embed/models.ts, and skips the work when the files on disk already
 * have the pinned hashes (a few ms).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildModelDef, INPUT_NAME, OUTPUT_NAME } from '../convert-model/convert.ts';
import { encodeModel } from '../convert-model/onnx.ts';
import { loadNsfwjsGraph } from '../convert-model/tfjs-graph.ts';
import { variantDef } from '../convert-model/variants.ts';
import { BUNDLED_MODEL, BUNDLED_MODEL_INT8, type ModelSpec } from '../../src/embed/models.ts';

const ROOT = join(import.meta.dirname, '../..');
const DIR = join(ROOT, 'public/models/mobilenet-v2-1.4');

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

interface Output {
  spec: ModelSpec;
  /** the spec's file name inside DIR */
  file: string;
  json: string;
  converter: string;
}

const OUTPUTS: Output[] = [
  {
    spec: BUNDLED_MODEL,
    file: 'model.onnx',
    json: 'model.json',
    converter: 'scripts/convert-model (uint8 weights kept, Cast/Mul/Add dequantisation)',
  },
  {
    spec: BUNDLED_MODEL_INT8,
    file: 'model-int8.onnx',
    json: 'model-int8.json',
    converter:
      'scripts/convert-model/variants.ts (QDQ: shipped uint8 weights, uint8 activations ' +
      'calibrated on fixed images)',
  },
];

function specJson(o: Output, packageVersion: string): string {
  const { file: _file, ...spec } = o.spec;
  return (
    JSON.stringify(
      {
        ...spec,
        url: o.file,
        inputName: INPUT_NAME,
        outputName: OUTPUT_NAME,
        source: `npm nsfwjs@${packageVersion} dist/models/mobilenet_v2_mid (TF.js graph, uint8)`,
        converter: o.converter,
      },
      null,
      2,
    ) + '\n'
  );
}

const upToDate = (o: Output): boolean =>
  existsSync(join(DIR, o.file)) &&
  existsSync(join(DIR, o.json)) &&
  sha256(new Uint8Array(readFileSync(join(DIR, o.file)))) === o.spec.sha256;

const stale = OUTPUTS.filter((o) => !upToDate(o));
if (stale.length === 0) {
  console.log('  model: public/models/mobilenet-v2-1.4/ is up to date');
} else {
  const t = performance.now();
  const graph = loadNsfwjsGraph();
  const base = buildModelDef(graph);
  mkdirSync(DIR, { recursive: true });
  for (const o of stale) {
    const onnx = encodeModel(o.spec === BUNDLED_MODEL ? base : variantDef('int8', base));
    const got = sha256(onnx);
    if (got !== o.spec.sha256 || onnx.length !== o.spec.bytes) {
      console.error(
        `model: ${o.file} came out with sha256 ${got} (${onnx.length} bytes), pinned ` +
          `${o.spec.sha256} (${o.spec.bytes} bytes). nsfwjs is @${graph.packageVersion}; the pin ` +
          'is for 4.4.0. If the converter changed on purpose, update sha256/bytes in ' +
          'src/embed/models.ts.',
      );
      process.exit(1);
    }
    // Write then rename: an interrupted run never leaves a half-written model behind.
    const path = join(DIR, o.file);
    writeFileSync(`${path}.tmp`, onnx);
    renameSync(`${path}.tmp`, path);
    writeFileSync(join(DIR, o.json), specJson(o, graph.packageVersion));
    console.log(`  model: wrote ${o.file} (${onnx.length} bytes, sha256 ${got.slice(0, 12)}…)`);
  }
  console.log(`  model: converted in ${Math.round(performance.now() - t)} ms`);
}
