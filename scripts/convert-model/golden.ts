/**
 * Builds the golden embeddings the tests compare the ONNX model against, by an independent path:
 * the ORIGINAL TF.js graph model from nsfwjs, executed by @tensorflow/tfjs (CPU backend) in Node.
 *
 * Inputs are fixed, already-resized RGB images (a 2x2 mosaic of four emoji from
 * emoji-datasource-google, Apache-2.0), stored as PNGs so a browser decodes the very same bytes.
 * Run by hand when the model or the inputs change; the outputs are committed:
 *
 *   npx tsx scripts/convert-model/golden.ts
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { format, resolveConfig } from 'prettier';
import { mosaic } from './images.ts';
import { encodePngRgb } from './png.ts';
import { loadNsfwjsGraph } from './tfjs-graph.ts';

const OUT = join(import.meta.dirname, '../../test/fixtures/golden');
/** dog, apple, car, house: four unrelated concepts so the feature is not degenerate */
const EMOJI = ['1f436', '1f34e', '1f697', '1f3e0'];
/** 224: the trained size (full TF graph). 96: small enough for the WebGPU test on SwiftShader. */
const SIZES = [224, 96];
const SCOPE =
  'StatefulPartitionedCall/sequential/keras_layer/StatefulPartitionedCall/StatefulPartitionedCall/StatefulPartitionedCall/predict/';

async function main(): Promise<void> {
  await tf.setBackend('cpu');
  const graph = loadNsfwjsGraph();
  // The graph declares a fixed 224x224 input; TF.js checks that declaration before running, so
  // relax height/width to -1 (the convolutions themselves are size-agnostic).
  const json = structuredClone(graph.json);
  for (const node of json.modelTopology.node) {
    const dims = (node.attr?.shape?.shape as { dim?: { size: string }[] } | undefined)?.dim;
    if (node.op === 'Placeholder' && dims) dims[1].size = dims[2].size = '-1';
  }
  const model = await tf.loadGraphModel(
    tf.io.fromMemory({
      modelTopology: json.modelTopology,
      weightSpecs: json.weightsManifest[0].weights as tf.io.WeightsManifestEntry[],
      weightData: graph.weightData.slice().buffer,
      format: json.format,
      generatedBy: json.generatedBy,
      convertedBy: json.convertedBy,
    }),
  );
  mkdirSync(OUT, { recursive: true });
  const entries = [];
  for (const size of SIZES) {
    const rgb = mosaic(EMOJI, size);
    const file = `input-${size}.png`;
    writeFileSync(join(OUT, file), encodePngRgb(size, size, rgb));
    // Exactly what the ONNX model is fed: RGB / 255 (the graph does x*2-1 itself).
    const x = tf.tensor4d(
      Float32Array.from(rgb, (v) => v / 255),
      [1, size, size, 3],
    );
    // The TF graph's last AvgPool is a fixed 7x7 window (only right at 224 px), so take the
    // last feature map and average it here; at 224 also run the graph's own feature node and
    // check both agree.
    const map = model.execute(x, SCOPE + 'MobilenetV2/Conv_1/Relu6') as tf.Tensor4D;
    const feature = Array.from(await tf.mean(map, [1, 2]).data());
    if (size === 224) {
      const own = model.execute(x, SCOPE + 'feature_vector/SpatialSqueeze') as tf.Tensor;
      const ref = await own.data();
      const maxDiff = Math.max(...feature.map((v, i) => Math.abs(v - ref[i])));
      if (maxDiff > 1e-5) throw new Error(`feature node and global mean differ by ${maxDiff}`);
    }
    entries.push({
      input: file,
      size,
      feature: feature.map((v) => Number(v.toPrecision(8))),
    });
    console.log(`golden ${file}: dim ${feature.length}, mean ${tf.mean(map).dataSync()[0]}`);
  }
  const golden = {
    about:
      'Features of the fixed inputs (RGB/255, NCHW for the ONNX model) computed by the original ' +
      `TF.js graph model (nsfwjs@${graph.packageVersion}, @tensorflow/tfjs ${tf.version.tfjs}, ` +
      'cpu backend) via scripts/convert-model/golden.ts. Inputs: 2x2 mosaics of emoji ' +
      EMOJI.join(', ') +
      ' from emoji-datasource-google (Apache-2.0), bilinear-resized and composited on white.',
    model: 'mobilenet-v2-1.4',
    entries,
  };
  // Formatted as the repository's prettier check expects, so CI lint passes on the output.
  const file = join(OUT, 'mobilenet-v2-1.4.json');
  const options = await resolveConfig(file);
  writeFileSync(file, await format(JSON.stringify(golden), { ...options, filepath: file }));
}

await main();
