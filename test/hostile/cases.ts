/**
 * The hostile-input case table: every input of the bad corpus (test/fixtures/bad/, written by
 * scripts/fixtures/make-bad-corpus.ts) and every hostile command line, with the surface it goes
 * to and the outcome expected: 'clear' (refused or handled with a specific one-line message
 * matching `message`; from the CLI, exit 2 or 3 and no stack trace) or 'ok' (accepted). Pure
 * data: the Node and the browser test files both read it.
 */
import type { Expected } from './report.ts';

export interface Case {
  readonly input: string;
  readonly expected: Expected;
  /** for 'clear': the message must match; for 'ok': a warning it must carry, if any */
  readonly message?: RegExp;
}

/* ---- embedding matrices (.npy): the CLI's `curate` and the app's precomputed ingest ---- */

export interface NpyCase extends Case {
  /** the app's expectation when it differs from the CLI's (the app drops NaN rows the same way) */
  readonly app?: Expected;
  readonly appMessage?: RegExp;
}

const NOT_NPY = /not a \.npy file|bad magic/;
export const NPY_CASES: readonly NpyCase[] = [
  { input: 'npy/ok-small.npy', expected: 'ok' },
  { input: 'npy/float64.npy', expected: 'ok' },
  {
    input: 'npy/nan-inf-rows.npy',
    expected: 'ok',
    message: /Dropped 3 of 40 rows with NaN or infinite values: rows 3, 17, 30\./,
  },
  { input: 'npy/constant-rows.npy', expected: 'ok' },
  { input: 'npy/one-row.npy', expected: 'ok' },
  { input: 'npy/bad-magic.npy', expected: 'clear', message: NOT_NPY },
  { input: 'npy/not-npy.npy', expected: 'clear', message: NOT_NPY },
  { input: 'npy/empty.npy', expected: 'clear', message: /empty|not a \.npy file|truncated/ },
  { input: 'npy/truncated-header.npy', expected: 'clear', message: /truncated/ },
  { input: 'npy/truncated-data.npy', expected: 'clear', message: /truncated/ },
  // Bytes after the data are ignored, as numpy's own reader does.
  { input: 'npy/trailing-bytes.npy', expected: 'ok' },
  {
    input: 'npy/wrong-dtype-int32.npy',
    expected: 'clear',
    message: /float32 or float64.*int32/,
    appMessage: /holds int32 values; embeddings must be float32 or float64/,
  },
  {
    input: 'npy/wrong-dtype-uint8.npy',
    expected: 'clear',
    message: /float32 or float64|dtype|u1|uint8/,
  },
  {
    input: 'npy/wrong-dtype-complex.npy',
    expected: 'clear',
    message: /dtype|c8|complex|not supported/,
  },
  { input: 'npy/big-endian-f4.npy', expected: 'clear', message: /endian|>f4|dtype|not supported/ },
  { input: 'npy/float16.npy', expected: 'clear', message: /f2|float16|dtype|not supported/ },
  {
    input: 'npy/one-d.npy',
    expected: 'clear',
    message: /2-D array.*shape \(40\)/,
    appMessage: /is 1-D with shape \(40\); expected a 2-D array/,
  },
  {
    input: 'npy/three-d.npy',
    expected: 'clear',
    message: /2-D array.*shape \(4, 4, 2\)/,
    appMessage: /is 3-D with shape \(4, 4, 2\); expected a 2-D array/,
  },
  { input: 'npy/scalar.npy', expected: 'clear', message: /2-D array/ },
  // Fortran order is read and transposed into row order.
  { input: 'npy/fortran-order.npy', expected: 'ok' },
  { input: 'npy/huge-shape.npy', expected: 'clear', message: /truncated|too large|bytes|shape/ },
  { input: 'npy/negative-shape.npy', expected: 'clear', message: /shape/ },
  {
    input: 'npy/zero-rows.npy',
    expected: 'clear',
    message: /no rows|0 rows|empty|at least one|shape \(0, 8\)/,
  },
  {
    input: 'npy/zero-cols.npy',
    expected: 'clear',
    message: /column|0 col|empty|at least one|shape \(8, 0\)/,
  },
  { input: 'npy/header-garbage.npy', expected: 'clear', message: /header/ },
  { input: 'npy/header-not-dict.npy', expected: 'clear', message: /header/ },
  { input: 'npy/header-missing-shape.npy', expected: 'clear', message: /header|shape/ },
  { input: 'npy/header-len-overflow.npy', expected: 'clear', message: /truncated|header/ },
  { input: 'npy/version-9.npy', expected: 'clear', message: /version/ },
  { input: 'npy/all-nan.npy', expected: 'clear', message: /NaN or infinite/ },
  {
    input: 'npy/object-pickle.npy',
    expected: 'clear',
    message: /float32 or float64|object|pickle|dtype/,
  },
];

/* ---- ids files beside npy/ok-small.npy (40 rows), in the app ---- */

export const IDS_CASES: readonly Case[] = [
  { input: 'ids/ok.txt', expected: 'ok' },
  { input: 'ids/ok-bom.csv', expected: 'ok' },
  { input: 'ids/ok-quoted.csv', expected: 'ok' },
  { input: 'ids/duplicate.txt', expected: 'clear', message: /duplicate|twice|appears/i },
  { input: 'ids/too-few.txt', expected: 'clear', message: /39.*40|40.*39/ },
  { input: 'ids/too-many.txt', expected: 'clear', message: /41.*40|40.*41/ },
  { input: 'ids/empty.txt', expected: 'clear', message: /empty|0 .*40|no ids|40.*0/i },
  { input: 'ids/blank-line.txt', expected: 'clear', message: /line 21 is empty/ },
  { input: 'ids/garbage.jsonl', expected: 'clear', message: /line 8 is not valid JSON/ },
  { input: 'ids/no-id-field.jsonl', expected: 'clear', message: /line 1 has no id/ },
  // A quote left open at the end holds the rest of the file, as lenient CSV readers do.
  { input: 'ids/unclosed-quote.csv', expected: 'ok' },
  // A 4000-character id is an id.
  { input: 'ids/huge-line.txt', expected: 'ok' },
  { input: 'ids/binary.txt', expected: 'clear', message: /text|binary|line|40/ },
  { input: 'ids/script.txt', expected: 'ok' },
];

/* ---- images, one by one, through the app's ingest (hash, sniff, decode, thumbnail) ---- */

const UNDECODABLE =
  /could not be decoded|not an image|damaged|truncated|empty|unsupported|not a supported/;
export const IMAGE_CASES: readonly Case[] = [
  { input: 'images/ok-small.png', expected: 'ok' },
  { input: 'images/empty.jpg', expected: 'clear', message: /empty/ },
  { input: 'images/truncated.jpg', expected: 'clear', message: UNDECODABLE },
  { input: 'images/truncated.png', expected: 'clear', message: UNDECODABLE },
  { input: 'images/truncated.gif', expected: 'clear', message: UNDECODABLE },
  { input: 'images/truncated.webp', expected: 'clear', message: UNDECODABLE },
  { input: 'images/text-renamed.jpg', expected: 'clear', message: UNDECODABLE },
  { input: 'images/html-renamed.png', expected: 'clear', message: UNDECODABLE },
  { input: 'images/script.svg', expected: 'clear', message: /svg|SVG|unsupported|not a supported/ },
  {
    input: 'images/tiff.tiff',
    expected: 'clear',
    message: /tiff|TIFF|unsupported|not a supported/,
  },
  {
    input: 'images/tiff-renamed.jpg',
    expected: 'clear',
    message: /TIFF|could not be decoded|not an image/,
  },
  {
    input: 'images/heic.heic',
    expected: 'clear',
    message: /heic|HEIC|unsupported|not a supported/,
  },
  {
    input: 'images/heic-renamed.jpg',
    expected: 'clear',
    message: /HEIC|HEIF|could not be decoded|not an image/,
  },
  {
    input: 'images/huge-declared.png',
    expected: 'clear',
    message: /too large: 30000 x 30000 .*100 megapixels/,
  },
  {
    input: 'images/huge-declared.jpg',
    expected: 'clear',
    message: /too large: 30000 x 30000 .*100 megapixels/,
  },
  { input: 'images/zero-size.png', expected: 'clear', message: UNDECODABLE },
  { input: 'images/bad-crc.png', expected: 'clear', message: UNDECODABLE },
  { input: 'images/random-bytes.webp', expected: 'clear', message: UNDECODABLE },
  { input: 'images/pdf-renamed.png', expected: 'clear', message: UNDECODABLE },
];

/* ---- hostile file names (test/fixtures/bad/names.json) with a good PNG's bytes, in the app:
 *      taken as items (their name shown as text, never as markup) or skipped with a reason ---- */

export const NAME_SKIPS: Readonly<Record<string, RegExp>> = {
  '../../outside.png': /its path leads out of the folder \('\.\.'\), so it was not read/,
  '..\\..\\windows.png': /its path leads out of the folder \('\.\.'\), so it was not read/,
  'evil\u202Egnp.exe': /extension|not an image|unsupported|not a supported/,
  'trailing-dot.png.': /extension|not an image|unsupported|not a supported/,
  '.hidden.png': /hidden/,
};

/* ---- share links (test/fixtures/bad/links.json): read, or refused with a notice ---- */

export const LINK_OK = new Set(['#/curate?k=1000,200,40', '#/demo?demoSeed=3']);

/* ---- the command line ---- */

export interface CliCase extends Case {
  /** `$B/` is the corpus folder, `$T/` a fresh temporary folder of this run */
  readonly args: readonly string[];
  /** run as a child process of bin/strata.mjs (else in-process through the CLI's main) */
  readonly process?: boolean;
}

const SMALL = ['--clusters', '4,2', '--iters', '2'];
const curate = (npy: string, ...rest: string[]): string[] => [
  'curate',
  '--embeddings',
  npy,
  '--target',
  '5',
  ...SMALL,
  ...rest,
];

export const CLI_CASES: readonly CliCase[] = [
  // Every matrix of the corpus through `curate`.
  ...NPY_CASES.map((c): CliCase => ({
    ...c,
    input: `curate ${c.input}`,
    args: curate(`$B/${c.input}`, '--out', `$T/${c.input.replace(/\W/g, '_')}`),
  })),
  // Arguments.
  ...(
    [
      [['--target', 'abc'], /--target must be a positive integer, got 'abc'/],
      [['--target', '0'], /--target must be a positive integer, got '0'/],
      [['--target', '-1'], /--target must be a positive integer, got '-1'/],
      [['--target', '1e3'], /--target must be a positive integer/],
      [['--target', '99999999999999999999'], /--target must be/],
      [['--target', ''], /--target/],
      [['--clusters', '0'], /--clusters must be an integer >= 1/],
      [['--clusters', ''], /--clusters/],
      [['--clusters', '4,,2'], /--clusters/],
      [['--iters', '-1'], /--iters/],
      [['--iters', '1.5'], /--iters/],
      [['--seed', '-1'], /--seed/],
      [['--seed', 'x'], /--seed/],
      [['--resample', '-2'], /--resample/],
      [['--sample-size', '0'], /--sample-size/],
      [['--strategy', 'far'], /--strategy must be one of closest, random; got 'far'/],
      [['--leaf', '<script>'], /--leaf/],
      [['--kernel', 'quantum'], /--kernel/],
      [['--multiplier', '0'], /--multiplier/],
      [['--budget', '-1'], /--budget/],
      [['--levels', '99'], /--levels|--clusters/],
      [['--frobnicate'], /Unknown option '--frobnicate'/],
    ] as const
  ).map(([extra, message]): CliCase => ({
    input: `curate ${extra.join(' ')}`,
    expected: 'clear',
    message,
    args: [
      'curate',
      '--embeddings',
      '$B/npy/ok-small.npy',
      '--target',
      '5',
      ...SMALL,
      '--out',
      '$T/never',
      ...extra,
    ],
  })),
  {
    input: 'curate without --embeddings',
    expected: 'clear',
    message: /--embeddings X.npy is required/,
    args: ['curate', '--target', '5', '--out', '$T/never'],
  },
  {
    input: 'curate without --out',
    expected: 'clear',
    message: /--out/,
    args: ['curate', '--embeddings', '$B/npy/ok-small.npy', '--target', '5'],
  },
  {
    input: 'curate --embeddings (a missing file)',
    expected: 'clear',
    message: /does not exist/,
    args: curate('$B/npy/no-such-file.npy', '--out', '$T/never'),
  },
  {
    input: 'curate --embeddings (a folder)',
    expected: 'clear',
    message: /folder|directory|not a file/,
    args: curate('$B/npy', '--out', '$T/never'),
  },
  {
    input: 'curate --out (an existing file)',
    expected: 'clear',
    message: /is a file, not a folder/,
    args: curate('$B/npy/ok-small.npy', '--out', '$T/earlier/selection.npy'),
  },
  {
    input: 'curate --out (a non-empty folder, no --force)',
    expected: 'clear',
    message: /exists and is not empty; pick another --out or pass --force/,
    args: curate('$B/npy/ok-small.npy', '--out', '$T/earlier'),
  },
  {
    input: 'curate its own selection into its own folder --force',
    expected: 'clear',
    message: /holds the input .*selection\.npy/,
    args: curate('$T/earlier/selection.npy', '--out', '$T/earlier', '--force'),
  },
  {
    input: 'curate --out (the corpus folder itself)',
    expected: 'clear',
    message: /holds the input|not empty/,
    args: curate('$B/npy/ok-small.npy', '--out', '$B/npy', '--force'),
  },
  {
    input: 'curate --out (a file in the way of a parent)',
    expected: 'clear',
    message: /is a file|not a folder|cannot/,
    args: curate('$B/npy/ok-small.npy', '--out', '$T/earlier/run.json/inner'),
  },
  {
    input: 'curate --out with a newline and <script> in its name',
    expected: 'ok',
    args: curate('$B/npy/ok-small.npy', '--out', '$T/new\nline <script>'),
  },
  {
    input: 'unknown command',
    expected: 'clear',
    message: /unknown command 'frobnicate'/,
    args: ['frobnicate'],
  },
  // The real process, as people run it: exit status, one line, no stack trace.
  {
    input: 'process: curate npy/truncated-data.npy',
    expected: 'clear',
    message: /truncated/,
    process: true,
    args: curate('$B/npy/truncated-data.npy', '--out', '$T/p1'),
  },
  {
    input: 'process: curate --target 10.5',
    expected: 'clear',
    message: /--target must be a positive integer, got '10.5'/,
    process: true,
    args: curate('$B/npy/ok-small.npy', '--out', '$T/p2', '--target', '10.5'),
  },
  {
    input: 'process: curate --out (a non-empty folder)',
    expected: 'clear',
    message: /not empty/,
    process: true,
    args: curate('$B/npy/ok-small.npy', '--out', '$T/earlier'),
  },
  {
    input: 'process: import --dir reference/pickle-os-system',
    expected: 'clear',
    message: /os|system|not allowed|refus|global/i,
    process: true,
    args: ['import', '--dir', '$B/reference/pickle-os-system', '--out', '$T/p3'],
  },
  {
    input: 'process: import --dir reference/ok-layout --target 10',
    expected: 'ok',
    process: true,
    args: ['import', '--dir', '$B/reference/ok-layout', '--out', '$T/p4', '--target', '10'],
  },
  // `import` on the reference layouts.
  {
    input: 'import --dir (a missing folder)',
    expected: 'clear',
    message: /not a directory|does not exist/,
    args: ['import', '--dir', '$B/reference/nowhere', '--out', '$T/i0'],
  },
  {
    input: 'import --out (the reference folder itself)',
    expected: 'clear',
    message: /not empty|holds the input/,
    args: ['import', '--dir', '$B/reference/ok-layout', '--out', '$B/reference/ok-layout'],
  },
  {
    input: 'import --target -3',
    expected: 'clear',
    message: /--target/,
    args: ['import', '--dir', '$B/reference/ok-layout', '--out', '$T/i1', '--target', '-3'],
  },
  {
    input: 'import --embeddings npy/ok-small.npy (wrong rows for the layout)',
    expected: 'clear',
    message: /rows|ids|40|150/,
    args: [
      'import',
      '--dir',
      '$B/reference/ok-layout',
      '--embeddings',
      '$B/npy/ok-small.npy',
      '--out',
      '$T/i2',
    ],
  },
  {
    input: 'import --embeddings npy/bad-magic.npy',
    expected: 'clear',
    message: NOT_NPY,
    args: [
      'import',
      '--dir',
      '$B/reference/ok-layout',
      '--embeddings',
      '$B/npy/bad-magic.npy',
      '--out',
      '$T/i3',
    ],
  },
];

/* ---- reference layouts through importReference (Node) ---- */

export const IMPORT_CASES: readonly Case[] = [
  { input: 'reference/ok-layout', expected: 'ok' },
  {
    input: 'reference/missing-level2',
    expected: 'clear',
    message: /level2\/centroids\.npy is missing/,
  },
  {
    input: 'reference/missing-centroids',
    expected: 'clear',
    message: /level3\/centroids\.npy is missing/,
  },
  { input: 'reference/missing-sorted', expected: 'clear', message: /level1\/sorted_clusters\.npy/ },
  {
    input: 'reference/wrong-centroid-width',
    expected: 'clear',
    message: /level2|width|columns|dim/,
  },
  { input: 'reference/wrong-centroid-count', expected: 'clear', message: /level1|20|7|clusters/ },
  { input: 'reference/centroids-1d', expected: 'clear', message: /2-D|shape/ },
  {
    input: 'reference/pickle-os-system',
    expected: 'clear',
    message: /os|system|global|not allowed/i,
  },
  {
    input: 'reference/pickle-eval',
    expected: 'clear',
    message: /eval|builtins|global|not allowed/i,
  },
  {
    input: 'reference/pickle-subprocess',
    expected: 'clear',
    message: /subprocess|Popen|global|not allowed/i,
  },
  { input: 'reference/pickle-truncated', expected: 'clear', message: /truncated|end|STOP/i },
  { input: 'reference/mismatched-n', expected: 'clear', message: /level1|3|20|clusters/ },
  {
    input: 'reference/not-npy-level',
    expected: 'clear',
    message: /level3\/sorted_clusters\.npy.*(not a \.npy|magic)|not a \.npy/,
  },
  {
    input: 'reference/empty-file',
    expected: 'clear',
    message: /level2\/centroids\.npy|empty|truncated/,
  },
  { input: 'reference/no-levels', expected: 'clear', message: /level1/ },
  { input: 'reference/level-gap', expected: 'clear', message: /level4\/.* is missing/ },
];
