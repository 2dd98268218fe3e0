/**
 * `npm run bench:scale`: Strata at real size, in the built app and on the command line.
 *
 *   app-images  a generated folder of --images distinct images (default 20,000; scale/images.ts)
 *               picked with the folder input of the built app: ingest, embed, near-duplicate
 *               removal, cluster, sample, manifest download
 *   app-npy     a generated --rows x 384 float32 .npy (default 1,000,000, 1.43 GiB, clusters and
 *               5% near-copies; scale/rows.ts) picked with the embeddings input: the same run
 *   cli         `strata curate` on the same .npy under /usr/bin/time -v
 *
 * Prints JSON lines, each with bench: 'scale', part and load (os.loadavg() when printed):
 *   {kind: 'input', ...}                        the folder or file, and seconds to make it (0: reused)
 *   {stage, seconds, items, items_per_s}        per stage (ingest, embed, dedup, cluster, sample; export)
 *   {kind: 'plan', k, r, rows_per_level1_cluster, lloyd_rounds, duplicates, backend, ...}
 *   {kind: 'memory', main_heap_peak_mib, rss_peak_mib: {renderer, gpu-process, ...}, process_peak_mib}
 *   {kind: 'storage', bytes_per_item, thumb_bytes_per_item, embedding_bytes_per_item, stores, ...}
 *   {kind: 'longtasks', count, over_200ms, longest_ms, top: [{at_s, ms, phase, inclusive, self}]}
 *   {part: 'cli', kind: 'run', seconds, peak_rss_gib, k, r, rows_per_level1_cluster, timings, dedup}
 *   {kind: 'summary', ...}                      the acceptance figures of issue 12 side by side
 * Progress goes to stderr.
 *
 * Options: --images N  --rows N  --only app-images,app-npy,cli  --no-dedup (leave near-duplicate
 * removal off in the page)  --no-profile (no CPU profile of the image runs: long tasks are listed
 * but not named; the .npy run never profiles)
 * --via input|picker|both: how the image folder is handed over (default input: the folder
 * input, which gives the page File objects only; picker: "Choose folder…", answered with a
 * directory handle of a copy in the page's private file system, scale/picker.ts; its lines say
 * part 'app-images-picker').
 *
 * Limits of what this measures: embedding runs the bundled model on this device's processor
 * (2 threads here; about 40-70 images/s on a quiet machine), so a figure far above that is a
 * measuring error; memory is the kernel's resident-set figure per process, which counts pages
 * touched, not the heap's logical size; the storage estimate is the browser's own, rounded.
 */
import { loadavg } from 'node:os';
import { runApp } from './scale/app.ts';
import { runCli } from './scale/cli.ts';
import { imageFolder } from './scale/images.ts';
import { rowsFile } from './scale/rows.ts';

const PARTS = ['app-images', 'app-npy', 'cli'] as const;
type Part = (typeof PARTS)[number];

const argv = process.argv.slice(2);
const option = (name: string): string | undefined => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
const images = Number(option('--images') ?? 20_000);
const rows = Number(option('--rows') ?? 1_000_000);
const only = (option('--only') ?? PARTS.join(',')).split(',') as Part[];
for (const p of only) {
  if (!PARTS.includes(p)) {
    console.error(`--only takes ${PARTS.join(', ')} (comma-separated); got "${p}"`);
    process.exit(2);
  }
}
if (!(images > 0) || !(rows > 1)) {
  console.error('--images and --rows take positive whole numbers');
  process.exit(2);
}
const dedup = !argv.includes('--no-dedup');
const profile = !argv.includes('--no-profile');
const VIAS = ['input', 'picker', 'both'] as const;
const via = (option('--via') ?? 'input') as (typeof VIAS)[number];
if (!VIAS.includes(via)) {
  console.error(`--via takes input, picker or both; got "${via}"`);
  process.exit(2);
}

const load = (): number[] => loadavg().map((l) => Number(l.toFixed(2)));
const lines: Record<string, unknown>[] = [];
const emit = (o: Record<string, unknown>): void => {
  const line = { bench: 'scale', ...o, load: load() };
  lines.push(line);
  console.log(JSON.stringify(line));
};
const log = (s: string): void => void process.stderr.write(`scale: ${s}\n`);

const t0 = Date.now();
if (only.includes('app-images')) {
  const folder = await imageFolder(images, log);
  emit({
    part: 'app-images',
    kind: 'input',
    images: folder.count,
    mib: Number((folder.bytes / 2 ** 20).toFixed(1)),
    labels: folder.labels,
    seconds: Number(folder.seconds.toFixed(1)),
  });
  for (const how of via === 'both' ? (['input', 'picker'] as const) : [via]) {
    const part = how === 'picker' ? 'app-images-picker' : 'app-images';
    try {
      await runApp(
        { kind: 'images', input: folder.root, items: images, dedup, profile, via: how },
        emit,
        log,
      );
    } catch (e) {
      emit({ part, kind: 'failed', error: e instanceof Error ? e.message : String(e) });
    }
  }
}
if (only.includes('app-npy') || only.includes('cli')) {
  const file = rowsFile(rows, 384, log);
  emit({
    part: 'rows',
    kind: 'input',
    rows,
    cols: 384,
    gib: Number((file.bytes / 2 ** 30).toFixed(3)),
    seconds: Number(file.seconds.toFixed(1)),
  });
  if (only.includes('app-npy')) {
    try {
      await runApp(
        // No CPU profile here: with the profiler on, the 1M-row ingest stalled (the page sat idle
        // for 8 minutes with 18k rows stored; without it, 5k rows/s).
        { kind: 'npy', input: file.path, items: rows, dedup, profile: false, via: 'input' },
        emit,
        log,
      );
    } catch (e) {
      emit({ part: 'app-npy', kind: 'failed', error: e instanceof Error ? e.message : String(e) });
    }
  }
  if (only.includes('cli')) await runCli(file.path, rows, emit, log);
}

/** Issue 12's acceptance figures from the lines above. */
const find = (part: string, kind: string) => lines.find((l) => l.part === part && l.kind === kind);
const imagesPart =
  find('app-images', 'plan') || via === 'input' ? 'app-images' : 'app-images-picker';
const tasks = find(imagesPart, 'longtasks');
const storage = find(imagesPart, 'storage');
const pickerStorage = find('app-images-picker', 'storage');
const npyMemory = find('app-npy', 'memory');
const cli = find('cli', 'run');
emit({
  kind: 'summary',
  seconds: Math.round((Date.now() - t0) / 1000),
  images_end_to_end: only.includes('app-images') ? Boolean(find(imagesPart, 'plan')) : null,
  images_longest_task_ms: tasks?.longest_ms ?? null,
  images_tasks_over_200ms: tasks?.over_200ms ?? null,
  images_bytes_per_item: storage?.bytes_per_item ?? null,
  images_over_thumbs_plus_embeddings: storage?.over_thumbs_plus_embeddings ?? null,
  picker_bytes_per_item: pickerStorage?.bytes_per_item ?? null,
  picker_over_thumbs_plus_embeddings: pickerStorage?.over_thumbs_plus_embeddings ?? null,
  npy_end_to_end: only.includes('app-npy') ? Boolean(find('app-npy', 'plan')) : null,
  npy_plan: find('app-npy', 'plan')
    ? {
        k: find('app-npy', 'plan')?.k,
        rows_per_level1_cluster: find('app-npy', 'plan')?.rows_per_level1_cluster,
      }
    : null,
  npy_peak: npyMemory
    ? { rss: npyMemory.rss_peak_mib, main_heap: npyMemory.main_heap_peak_mib }
    : null,
  cli_peak_rss_gib: cli?.peak_rss_gib ?? null,
  cli_below_2_5_gib: cli ? Number(cli.peak_rss_gib) < 2.5 : null,
});
