/**
 * Writes the int8 variant's calibrated activation ranges (int8-ranges.json): the min/max of
 * every tensor the QDQ graph quantises, over the fixed calibration images (images.ts), computed
 * by the reference interpreter (forward.ts). Committed, so the asset step only folds and
 * quantises (milliseconds) and every machine writes the same file. Run by hand when the model,
 * the calibration images or the quantised tensors change:
 *
 *   npx tsx scripts/convert-model/calibrate.ts
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { format, resolveConfig } from 'prettier';
import { buildModelDef } from './convert.ts';
import { calibrationMosaics } from './images.ts';
import { loadNsfwjsGraph } from './tfjs-graph.ts';
import { calibrate, calibrationInputs, foldConstants, RANGES_FILE } from './variants.ts';

const t = performance.now();
const graph = loadNsfwjsGraph();
const folded = foldConstants(buildModelDef(graph));
const ranges = calibrate(folded, calibrationInputs());
const json = {
  about:
    'Activation ranges (min/max) of the int8 MobileNetV2 variant, computed by ' +
    'scripts/convert-model/calibrate.ts with the reference interpreter on fixed 224 px emoji ' +
    `mosaics (emoji-datasource-google, Apache-2.0), nsfwjs@${graph.packageVersion}.`,
  images: calibrationMosaics(),
  ranges: Object.fromEntries(
    [...ranges].map(([name, r]) => [
      name,
      {
        min: Number(r.min.toPrecision(9)),
        max: Number(r.max.toPrecision(9)),
        ...(r.tails && {
          tails: Object.fromEntries(
            Object.entries(r.tails).map(([q, [lo, hi]]) => [
              q,
              [Number(lo.toPrecision(9)), Number(hi.toPrecision(9))],
            ]),
          ),
        }),
      },
    ]),
  ),
};
const file = join(import.meta.dirname, RANGES_FILE);
const options = await resolveConfig(file);
writeFileSync(file, await format(JSON.stringify(json), { ...options, filepath: file }));
console.log(`${ranges.size} ranges in ${Math.round(performance.now() - t)} ms -> ${file}`);
