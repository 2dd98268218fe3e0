/**
 * Embedding models: what each one needs as input and gives as output. Pure data and small pure
 * functions (no DOM), so the UI, the worker and Node scripts share one source of truth.
 */

import type { ModelSpec, ResizeRule } from '../core/settings';

export type { ModelSpec, ResizeRule } from '../core/settings';

/**
 * Changes whenever decoding/resizing changes the pixels fed to a model (cache invalidation), per
 * resize rule: squashing models went to 2 when their images began to be decoded straight at the
 * input size (decode.ts) instead of scaled on a canvas.
 */
const PREPROCESS_VERSION: Record<ResizeRule, number> = {
  squash: 2,
  'center-crop': 1,
  'shorter-side-then-center-crop': 1,
};

/**
 * Google's MobileNetV2-1.4 feature extractor, converted at build time from the TF.js copy that
 * ships in the npm package nsfwjs (scripts/convert-model). Runs offline out of the box.
 */
export const BUNDLED_MODEL: ModelSpec = {
  id: 'mobilenet-v2-1.4',
  name: 'MobileNetV2 1.4 (bundled)',
  description:
    'Small, fast convolutional network that works offline (4.4 MB, 1792-d). Trained to classify ' +
    'ImageNet photos, so it groups images by the objects it knows; a self-supervised model ' +
    '(DINOv2) separates unfamiliar content better.',
  url: 'models/mobilenet-v2-1.4/model.onnx',
  // Pinned output of scripts/assets/20-model.ts; the asset step refuses to write anything else.
  sha256: '4d460f7017685043018915d33242ec2e99705684c7fc423accbb5ee1053e6ef6',
  bytes: 4_411_764,
  inputSize: 224,
  // nsfwjs and TF-Hub feed this model squashed 224x224 images.
  resize: 'squash',
  // The graph computes x*2-1 itself from RGB in [0,1].
  mean: [0, 0, 0],
  std: [1, 1, 1],
  layout: 'NCHW',
  inputName: 'input',
  outputName: 'feature',
  dim: 1792,
  license: 'Apache-2.0 (weights: Google TF-Hub); MIT (nsfwjs packaging)',
  supervised: 'ImageNet-supervised CNN (not self-supervised)',
};

/** The model a new run uses unless the person picks another. */
export const DEFAULT_MODEL = BUNDLED_MODEL;

const IMAGENET_MEAN: [number, number, number] = [0.485, 0.456, 0.406];
const IMAGENET_STD: [number, number, number] = [0.229, 0.224, 0.225];

/** Downloaded from the Hugging Face hub only when a person picks it. Commit-pinned URLs. */
export const DINOV2_SMALL: ModelSpec = {
  id: 'dinov2-small',
  name: 'DINOv2 ViT-S/14',
  description:
    "Meta's self-supervised vision transformer (the family the paper curates for), 384-d CLS " +
    'token. About 88 MB, downloaded once from huggingface.co and kept in the browser.',
  url: 'https://huggingface.co/Xenova/dinov2-small/resolve/bd222e886723524568931e43031f6d9327896fac/onnx/model.onnx',
  inputSize: 224,
  resize: 'shorter-side-then-center-crop',
  mean: IMAGENET_MEAN,
  std: IMAGENET_STD,
  layout: 'NCHW',
  inputName: 'pixel_values',
  outputName: 'last_hidden_state',
  pooling: 'cls',
  dim: 384,
  license: 'Apache-2.0 (facebook/dinov2-small; ONNX export by Xenova)',
  supervised: 'Self-supervised ViT (DINOv2, LVD-142M)',
};

export const CLIP_VIT_B32: ModelSpec = {
  id: 'clip-vit-b32-vision-q8',
  name: 'CLIP ViT-B/32 (image encoder)',
  description:
    "OpenAI's image-text model, image tower only, 512-d projected embedding, int8-quantised " +
    '(about 89 MB, downloaded once from huggingface.co and kept in the browser).',
  url: 'https://huggingface.co/Xenova/clip-vit-base-patch32/resolve/4c1807b705b1d015fb032789cc4d221b23025a6f/onnx/vision_model_quantized.onnx',
  inputSize: 224,
  resize: 'center-crop',
  mean: [0.48145466, 0.4578275, 0.40821073],
  std: [0.26862954, 0.26130258, 0.27577711],
  layout: 'NCHW',
  inputName: 'pixel_values',
  outputName: 'image_embeds',
  dim: 512,
  license: 'MIT (openai/clip-vit-base-patch32; ONNX export by Xenova)',
  supervised: 'Contrastive image-text (weakly supervised by captions)',
};

export const MODEL_CATALOGUE: ModelSpec[] = [BUNDLED_MODEL, DINOV2_SMALL, CLIP_VIT_B32];

export function findModel(id: string): ModelSpec | undefined {
  return MODEL_CATALOGUE.find((m) => m.id === id);
}

/** What a person fills in for "use my own .onnx". */
export interface CustomModelInput {
  file?: Blob;
  url?: string;
  name?: string;
  inputSize?: number;
  resize?: ResizeRule;
  mean?: readonly [number, number, number];
  std?: readonly [number, number, number];
  layout?: 'NCHW' | 'NHWC';
  inputName?: string;
  outputName?: string;
  dim?: number;
  pooling?: 'cls' | 'mean';
  sha256?: string;
}

/** Thrown for settings a person typed that cannot work; `message` is meant for them. */
export class ModelSpecError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelSpecError';
  }
}

function checkTriple(label: string, v: readonly number[], positive: boolean): void {
  if (v.length !== 3 || v.some((x) => !Number.isFinite(x) || (positive && x <= 0))) {
    throw new ModelSpecError(
      `${label} needs three ${positive ? 'positive ' : ''}numbers (R, G, B), got [${v.join(', ')}]`,
    );
  }
}

/**
 * A spec for a model the person brings. Defaults follow the common ImageNet convention
 * (224 px, centre crop, ImageNet mean/std, NCHW). The id names the file so two different
 * custom models never share cached embeddings; the worker adds the file's sha-256 as well.
 */
export function customModelSpec(partial: CustomModelInput): ModelSpec {
  if (!partial.file && !partial.url) {
    throw new ModelSpecError('Pick an .onnx file or give the URL of one.');
  }
  if (partial.url) {
    let u: URL;
    try {
      u = new URL(partial.url);
    } catch {
      throw new ModelSpecError(`"${partial.url}" is not a valid URL.`);
    }
    if (u.protocol !== 'https:' && u.protocol !== 'http:') {
      throw new ModelSpecError(`Only http(s) URLs can be downloaded, not ${u.protocol}`);
    }
  }
  const inputSize = partial.inputSize ?? 224;
  if (!Number.isInteger(inputSize) || inputSize < 8 || inputSize > 1024) {
    throw new ModelSpecError(`Input size must be a whole number from 8 to 1024, got ${inputSize}.`);
  }
  const dim = partial.dim ?? 0;
  if (!Number.isInteger(dim) || dim < 0) {
    throw new ModelSpecError(`Embedding dimension must be a positive whole number, got ${dim}.`);
  }
  const mean = partial.mean ?? IMAGENET_MEAN;
  const std = partial.std ?? IMAGENET_STD;
  checkTriple('Mean', mean, false);
  checkTriple('Std', std, true);
  if (partial.sha256 !== undefined && !/^[0-9a-f]{64}$/.test(partial.sha256)) {
    throw new ModelSpecError('sha-256 must be 64 lowercase hexadecimal characters.');
  }
  const fileName = partial.file instanceof File ? partial.file.name : undefined;
  const name = partial.name ?? fileName ?? partial.url?.split('/').pop() ?? 'custom model';
  return {
    id: `custom:${name}`,
    name,
    description: 'A model you provided.',
    url: partial.file ? undefined : partial.url,
    file: partial.file,
    sha256: partial.sha256,
    inputSize,
    resize: partial.resize ?? 'center-crop',
    mean: [mean[0], mean[1], mean[2]],
    std: [std[0], std[1], std[2]],
    layout: partial.layout ?? 'NCHW',
    inputName: partial.inputName || undefined,
    outputName: partial.outputName || 'output',
    // 0 = take whatever the model gives (checked to be the same for every batch).
    dim,
    pooling: partial.pooling,
    license: 'as provided',
    supervised: 'unknown (provided by you)',
  };
}

/** Everything about the pixels a model sees; part of every embedding-cache key. */
export function preprocessingId(spec: ModelSpec): string {
  const f = (v: readonly number[]): string => v.map((x) => +x.toFixed(6)).join(',');
  return (
    `v${PREPROCESS_VERSION[spec.resize]}:${spec.resize}:${spec.inputSize}:${spec.layout}` +
    `:m${f(spec.mean)}:s${f(spec.std)}:${spec.pooling ?? 'cls'}`
  );
}

/** Third-party notices for the About box (kept in step with the README's Attributions). */
export const ATTRIBUTIONS = `Bundled embedding model: the MobileNetV2 (width 1.4, 224 px) ImageNet feature extractor by
Google, published on TensorFlow Hub under the Apache License 2.0, as it ships inside the
"MobileNetV2Mid" model of the npm package nsfwjs 4.4.0 (Copyright (c) 2019 Infinite Red, Inc.,
MIT License; model from the nsfw_model project). nsfwjs stores it as a uint8-quantised
TensorFlow.js graph; Strata converts it to ONNX at build time and drops the NSFW classifier head.
It is an ImageNet-supervised CNN, not a self-supervised model, and its weights may carry
nsfw_model's fine-tuning.
Optional models, downloaded only when you pick them: DINOv2 ViT-S/14 (Meta, Apache-2.0) and
CLIP ViT-B/32 (OpenAI, MIT), as ONNX exports published by Xenova on huggingface.co.
Inference: ONNX Runtime Web (Microsoft, MIT).`;
