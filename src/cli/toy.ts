/** `strata toy`: the paper's Fig. 3 experiment, KL to uniform per row. */
import { CpuBackend } from '../core/kmeans.ts';
import { runToyExperiment, type ToyResult } from '../core/toy.ts';
import { choiceFlag, intFlag, parseFlags, type CliCommand } from './command.ts';
import { DEFAULT_KERNEL, kernelNames, loadKernel, releaseKernel } from './kernel-choice.ts';
import { Progress } from './progress.ts';

/** Row labels and the paper's notebook values (algorithm.md section 4). */
const ROWS: { key: keyof ToyResult; label: string; paper: string }[] = [
  { key: 'raw', label: 'all 9000 raw points', paper: '0.942' },
  { key: 'kmeans300', label: 'k-means, 300 clusters', paper: '0.340' },
  { key: 'twoLevel', label: '2-level [1500, 300]', paper: '0.132' },
  { key: 'threeLevel', label: '3-level [3000, 1000, 300]', paper: '0.081' },
  { key: 'threeLevelResampled', label: '3-level + resampling, r=[2,2,2], m=10', paper: '0.042' },
  { key: 'uniformBound', label: '300 i.i.d. uniform points (bound)', paper: '0.040 +- 0.007' },
];

export const toyCommand: CliCommand = {
  name: 'toy',
  summary: "run the paper's Fig. 3 toy experiment and print KL to uniform per method",
  usage: `strata toy [--seed S] [--json] [--kernel ${kernelNames().join('|')}]

Runs the 2-D toy of Vo et al. (2024), Fig. 3: 9000 points from a long-tailed mixture, then
k-means (300), 2-level [1500, 300], 3-level [3000, 1000, 300], and 3-level with resampling
(r = [2, 2, 2], m = 10), 50 Lloyd rounds each. Prints the KL divergence between a KDE of each
method's 300 top-level centroids and the uniform density (lower = more uniform), next to 300
i.i.d. uniform points (mean +- std of 10 draws) and the raw data.

  --seed S     seed of the data and of every run (default 0)
  --json       print one JSON object: a key per row, plus seed, backend and seconds
  --kernel K   CPU kernel (default ${DEFAULT_KERNEL})`,

  async run(argv, io) {
    const f = parseFlags('toy', argv, {
      seed: { type: 'string' },
      json: { type: 'boolean' },
      kernel: { type: 'string' },
    });
    const seed = intFlag('seed', f.seed, 0) ?? 0;
    const kernelName = choiceFlag('kernel', f.kernel, kernelNames()) ?? DEFAULT_KERNEL;
    const kernel = await loadKernel(kernelName);
    const backend = new CpuBackend(kernel);
    const progress = new Progress(io);
    const t0 = performance.now();
    const result = await runToyExperiment(seed, backend, {
      signal: io.signal,
      onProgress: (row, fraction) => progress.update(`toy: ${row}`, fraction),
    }).finally(() => releaseKernel(kernel));
    progress.done();
    const seconds = (performance.now() - t0) / 1000;
    if (f.json) {
      io.out(JSON.stringify({ ...result, seed, backend: backend.name, seconds }) + '\n');
      return 0;
    }
    const lines = [
      `KL to uniform, toy seed ${seed} (${backend.name}, ${seconds.toFixed(1)} s)`,
      '',
    ];
    lines.push(`${'centroids of'.padEnd(40)}${'strata'.padEnd(18)}paper`);
    for (const row of ROWS) {
      const v = result[row.key];
      const text =
        typeof v === 'number' ? v.toFixed(3) : `${v.mean.toFixed(3)} +- ${v.std.toFixed(3)}`;
      lines.push(`${row.label.padEnd(40)}${text.padEnd(18)}${row.paper}`);
    }
    io.out(lines.join('\n') + '\n');
    return 0;
  },
};
