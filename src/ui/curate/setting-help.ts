/** One line of help per setting, in plain words: tooltips and the "advanced" fold. */
import type { RunSettings } from '../../pipeline/contract';

export const SETTING_HELP: Readonly<Record<keyof RunSettings, string>> = {
  model: 'The network that turns each image into a vector; similar images get nearby vectors.',
  provider: 'Where the model runs: WebGPU on the graphics card, or WebAssembly on the processor.',
  customModel: 'Your own ONNX model: its input size, normalisation and output name.',
  batchSize: 'Images embedded together; larger batches are faster until memory runs short.',
  normalisation:
    'How vectors are prepared before clustering: raw, length 1 (compare directions), or centred first.',
  k: 'Clusters at each level, finest first; each level clusters the centroids of the one below.',
  r: 'Points kept per cluster when a level is refitted on an even sample (1 = no refit there).',
  resamplingSteps: 'How many times each level is refitted on an even sample of its clusters.',
  resampleStrategy: 'Which members a refit keeps: those closest to the centroid, or random ones.',
  iterations: 'Lloyd rounds per k-means run (the paper uses 50).',
  target: 'How many items the curated subset holds.',
  leafStrategy:
    'How items are picked inside the smallest clusters: at random (best in the paper), closest, or furthest.',
  seed: 'Fixes every random choice: the same seed and data give the same result.',
  backend: 'Where k-means runs: the graphics card (WebGPU) or the processor; auto picks.',
  dedup:
    'Keeps one item of each group of near-copies; the number is how alike two items must be (1 = identical).',
  autoPlan:
    'Levels and rounds you leave as suggested are planned again for the items left after near-copies are set aside.',
};
