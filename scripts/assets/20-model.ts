/**
 * Asset step: the bundled embedding model. Converts nsfwjs's TF.js MobileNetV2-1.4 to ONNX
 * (scripts/convert-model) into public/models/mobilenet-v2-1.4/, and refuses any output whose
 * sha-256 differs from the one pinned in src/embed/models.ts. Skips the work when the file on
 * disk already has the pinned hash (a few ms).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { convertNsfwjsMobileNet, INPUT_NAME, OUTPUT_NAME } from '../convert-model/convert.ts';
import { BUNDLED_MODEL } from '../../src/embed/models.ts';

const ROOT = join(import.meta.dirname, '../..');
const DIR = join(ROOT, 'public/models/mobilenet-v2-1.4');
const ONNX = join(DIR, 'model.onnx');
const SPEC = join(DIR, 'model.json');

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

function specJson(packageVersion: string): string {
  const { file: _file, ...spec } = BUNDLED_MODEL;
  return (
    JSON.stringify(
      {
        ...spec,
        url: 'model.onnx',
        inputName: INPUT_NAME,
        outputName: OUTPUT_NAME,
        source: `npm nsfwjs@${packageVersion} dist/models/mobilenet_v2_mid (TF.js graph, uint8)`,
        converter: 'scripts/convert-model (uint8 weights kept, Cast/Mul/Add dequantisation)',
      },
      null,
      2,
    ) + '\n'
  );
}

function upToDate(): boolean {
  return (
    existsSync(ONNX) &&
    existsSync(SPEC) &&
    sha256(new Uint8Array(readFileSync(ONNX))) === BUNDLED_MODEL.sha256
  );
}

if (upToDate()) {
  console.log('  model: public/models/mobilenet-v2-1.4/model.onnx is up to date');
} else {
  const t = performance.now();
  const out = convertNsfwjsMobileNet();
  const got = sha256(out.onnx);
  if (got !== BUNDLED_MODEL.sha256 || out.onnx.length !== BUNDLED_MODEL.bytes) {
    console.error(
      `model: conversion gave sha256 ${got} (${out.onnx.length} bytes), pinned ${BUNDLED_MODEL.sha256} ` +
        `(${BUNDLED_MODEL.bytes} bytes). nsfwjs is @${out.packageVersion}; the pin is for 4.4.0. ` +
        'If the converter changed on purpose, update sha256/bytes in src/embed/models.ts.',
    );
    process.exit(1);
  }
  mkdirSync(DIR, { recursive: true });
  // Write then rename: an interrupted run never leaves a half-written model behind.
  writeFileSync(`${ONNX}.tmp`, out.onnx);
  renameSync(`${ONNX}.tmp`, ONNX);
  writeFileSync(SPEC, specJson(out.packageVersion));
  console.log(
    `  model: wrote model.onnx (${out.onnx.length} bytes, sha256 ${got.slice(0, 12)}…) in ` +
      `${Math.round(performance.now() - t)} ms`,
  );
}
