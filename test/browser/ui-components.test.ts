/**
 * The explore, ingest and settings components, mounted for real in Chromium with plain props:
 * what a person sees (file names as text, curated marks, chart marks, balance figures, the level
 * rule) and how the keyboard moves through a thumbnail grid.
 */
import { flushSync, mount, unmount, type Component } from 'svelte';
import { afterEach, describe, expect, it } from 'vitest';
import { LEVEL_SHRINK, LEVEL_SHRINK_RULE, resizeLevels } from '../../src/core';
import type {
  BalanceReport,
  ClusterItem,
  DatasetInfo,
  ItemInfo,
  IngestSource,
  RunSettings,
  SizeDistribution,
} from '../../src/pipeline/contract';
import DropZone from '../../src/ui/curate/DropZone.svelte';
import IngestReport from '../../src/ui/curate/IngestReport.svelte';
import SettingsPanel from '../../src/ui/curate/SettingsPanel.svelte';
import LabelBalance from '../../src/ui/explore/LabelBalance.svelte';
import SizeChart from '../../src/ui/explore/SizeChart.svelte';
import ThumbGrid from '../../src/ui/explore/ThumbGrid.svelte';
import '../../src/ui/styles/global.css';

const MARKUP = '<img src=x onerror=alert(1)>.png';
const mounted: ReturnType<typeof mount>[] = [];

function host(width = 800): HTMLElement {
  const el = document.createElement('div');
  el.style.width = `${width}px`;
  document.body.append(el);
  return el;
}

function show<P extends Record<string, unknown>>(
  component: Component<P>,
  props: P,
  width?: number,
): HTMLElement {
  const target = host(width);
  mounted.push(mount(component, { target, props }));
  flushSync();
  return target;
}

afterEach(() => {
  for (const m of mounted.splice(0)) void unmount(m);
  document.body.replaceChildren();
});

function item(index: number, name: string, label: string | null = 'objects'): ItemInfo {
  return {
    datasetId: 'd1',
    index,
    path: label ? `${label}/${name}` : name,
    name,
    size: 1000 + index,
    type: 'image/png',
    lastModified: 0,
    hash: 'ab'.repeat(32),
    label,
  };
}

function clusterItems(names: string[], selected: (i: number) => boolean): ClusterItem[] {
  return names.map((n, i) => ({
    row: i,
    item: item(i, n),
    dist2: i * 0.01,
    selected: selected(i),
  }));
}

describe('ThumbGrid', () => {
  it('shows a file name holding markup as text, and marks curated items', () => {
    const names = [MARKUP, 'a.png', 'b.png', 'c.png'];
    const el = show(ThumbGrid, {
      items: clusterItems(names, (i) => i % 2 === 0),
      thumbs: new Map<number, string>(),
      label: 'Items',
      total: 4,
    });
    const cells = el.querySelectorAll('li');
    expect(cells).toHaveLength(4);
    expect(cells[0].textContent).toContain(MARKUP);
    // No element was made from the name: the only <img> tags would be thumbnails (none here).
    expect(el.querySelector('img')).toBeNull();
    const curated = el.querySelectorAll('button.selected');
    expect(curated).toHaveLength(2);
    expect(curated[0].getAttribute('aria-label')).toBe(`${MARKUP}, curated`);
    expect(cells[1].querySelector('button')?.getAttribute('aria-label')).toBe('a.png');
  });

  it('moves focus with the arrow keys, one tab stop for the whole grid', () => {
    const names = Array.from({ length: 12 }, (_, i) => `img-${i}.png`);
    const el = show(
      ThumbGrid,
      {
        items: clusterItems(names, () => false),
        thumbs: new Map<number, string>(),
        label: 'Items',
        total: 12,
      },
      // 6.25rem min cells + gaps in 500px: 4 columns.
      500,
    );
    const buttons = [...el.querySelectorAll('button')];
    expect(buttons.filter((b) => b.tabIndex === 0)).toHaveLength(1);
    const cols = buttons.filter((b) => b.offsetTop === buttons[0].offsetTop).length;
    expect(cols).toBeGreaterThan(1);
    buttons[0].focus();
    const key = (k: string) =>
      (document.activeElement as HTMLElement).dispatchEvent(
        new KeyboardEvent('keydown', { key: k, bubbles: true }),
      );
    key('ArrowRight');
    expect(document.activeElement).toBe(buttons[1]);
    key('ArrowDown');
    expect(document.activeElement).toBe(buttons[1 + cols]);
    key('ArrowLeft');
    expect(document.activeElement).toBe(buttons[cols]);
    key('End');
    expect(document.activeElement).toBe(buttons[11]);
    key('ArrowRight');
    expect(document.activeElement).toBe(buttons[11]);
    key('Home');
    expect(document.activeElement).toBe(buttons[0]);
    flushSync();
    expect(buttons[0].tabIndex).toBe(0);
    expect(buttons[11].tabIndex).toBe(-1);
    // The focused item's details line names its path.
    expect(el.querySelector('.details')?.textContent).toContain('objects/img-0.png');
  });
});

describe('SizeChart', () => {
  it('draws one pool bar and one curated bar per cluster, on a log axis', () => {
    const sizes: SizeDistribution = {
      before: Int32Array.from([3, 120, 40, 1, 9]),
      after: Int32Array.from([3, 10, 10, 1, 0]),
    };
    const el = show(SizeChart, { sizes });
    expect(el.querySelectorAll('rect.pool')).toHaveLength(5);
    expect(el.querySelectorAll('rect.kept')).toHaveLength(5);
    const ticks = [...el.querySelectorAll('text.tick')].map((t) => t.textContent?.trim());
    expect(ticks).toContain('1');
    expect(ticks).toContain('100');
    // Largest first: the first pool bar is the tallest.
    const heights = [...el.querySelectorAll('rect.pool')].map((r) =>
      Number(r.getAttribute('height')),
    );
    expect(heights[0]).toBe(Math.max(...heights));
    expect(el.textContent).toContain('120.0× → 10.0×');
    expect(el.textContent).toContain('1 clusters kept nothing');
  });

  it('draws a long series as paths instead of thousands of bars', () => {
    const n = 5000;
    const before = Int32Array.from({ length: n }, (_, i) => 1 + ((i * 7919) % 500));
    const after = Int32Array.from(before, (v) => Math.min(v, 5));
    const el = show(SizeChart, { sizes: { before, after } });
    expect(el.querySelectorAll('rect')).toHaveLength(0);
    expect(el.querySelector('path.pool-area')).not.toBeNull();
    expect(el.querySelector('path.kept-line')).not.toBeNull();
  });
});

describe('LabelBalance', () => {
  const counts = (c: number[]) => {
    const total = c.reduce((a, b) => a + b, 0);
    const p = c.map((x) => x / total).filter((x) => x > 0);
    const h = -p.reduce((a, x) => a + x * Math.log(x), 0) / Math.log(c.length);
    const nz = c.filter((x) => x > 0);
    return {
      counts: c,
      total,
      normalisedEntropy: h,
      maxMinRatio: Math.max(...nz) / Math.min(...nz),
    };
  };
  const report: BalanceReport = {
    labels: ['people', 'animals', MARKUP],
    pool: counts([100, 50, 5]),
    random: counts([13, 6, 1]),
    curated: counts([8, 8, 4]),
    randomSpread: { mean: 0.7, sd: 0.05, draws: 200 },
    separation: { agreement: 0.9, chance: 0.6 },
  };

  it('shows entropy and max/min of pool, random and curated subsets, labels as text', () => {
    const el = show(LabelBalance, { report });
    const cell = (set: string, metric: string) =>
      el.querySelector(`tr[data-set="${set}"] td[data-metric="${metric}"]`)?.textContent?.trim();
    expect(cell('pool', 'entropy')).toBe(report.pool.normalisedEntropy.toFixed(3));
    expect(cell('curated', 'entropy')).toBe(report.curated.normalisedEntropy.toFixed(3));
    expect(cell('random', 'maxmin')).toBe('13.0×');
    expect(cell('curated', 'maxmin')).toBe('2.0×');
    expect(el.textContent).toContain('more even across folder labels than random subsets');
    expect(el.textContent).toContain('against 0.700 ± 0.100');
    expect(el.querySelector('[data-blind]')).toBeNull();
    expect(el.textContent).toContain(MARKUP);
    expect(el.querySelector('img')).toBeNull();
    // Three bars per label.
    expect(el.querySelectorAll('.bar')).toHaveLength(9);
  });

  it('says "within noise" inside the spread of random subsets, and when labels cannot be told apart', () => {
    const near = {
      ...report,
      randomSpread: { mean: report.curated.normalisedEntropy - 0.02, sd: 0.02, draws: 120 },
    };
    const el = show(LabelBalance, { report: near });
    expect(el.querySelector('.verdict')?.getAttribute('data-verdict')).toBe('noise');
    expect(el.textContent).toContain('Within the noise of random subsets');
    const blind = show(LabelBalance, {
      report: { ...near, separation: { agreement: 0.62, chance: 0.6 } },
    });
    expect(blind.querySelector('[data-blind]')?.textContent).toMatch(
      /barely tell these folder labels apart.*stronger model/s,
    );
  });
});

describe('IngestReport', () => {
  const dataset: DatasetInfo = {
    id: 'd1',
    name: 'emoji-folder',
    source: 'files',
    storage: 'copies',
    halfEmbeddings: false,
    createdAt: 0,
    updatedAt: 0,
    itemCount: 200,
    bytes: 600_000,
    labels: ['animals', 'people'],
    include: [],
    exclude: [],
    complete: true,
  };

  it('lists every skipped file with its reason, names as text, folding long lists', () => {
    const skipped = [
      { path: 'people/broken.png', reason: 'not a readable image (truncated)' },
      { path: 'notes.txt', reason: 'not an image file (.txt)' },
      ...Array.from({ length: 10 }, (_, i) => ({ path: `x/${MARKUP}${i}`, reason: 'hidden' })),
    ];
    const el = show(IngestReport, { dataset, added: 200, skipped, emptyFolders: [] });
    expect(el.querySelector('[data-stat="items"]')?.textContent).toBe('200');
    expect(el.querySelector('[data-stat="skipped"]')?.textContent).toBe('12');
    expect(el.querySelectorAll('tbody tr')).toHaveLength(8);
    expect(el.textContent).toContain('not a readable image (truncated)');
    const more = [...el.querySelectorAll('button')].find((b) =>
      b.textContent?.includes('Show all'),
    );
    more?.click();
    flushSync();
    expect(el.querySelectorAll('tbody tr')).toHaveLength(12);
    expect(el.textContent).toContain(`x/${MARKUP}9`);
    expect(el.querySelector('img')).toBeNull();
    expect([...el.querySelectorAll('.chip')].map((c) => c.textContent)).toEqual([
      'animals',
      'people',
    ]);
  });
});

describe('SettingsPanel', () => {
  const settings: RunSettings = {
    model: 'precomputed',
    provider: 'auto',
    batchSize: 8,
    normalisation: 'l2',
    k: [1000, 200],
    r: [1, 3],
    resamplingSteps: 10,
    resampleStrategy: 'closest',
    iterations: 50,
    target: 2000,
    leafStrategy: 'random',
    seed: 0,
    backend: 'auto',
  };

  it("adds levels by the core's level rule and says the rule in its words", () => {
    const changes: [keyof RunSettings, unknown][] = [];
    const el = show(SettingsPanel, {
      settings,
      suggested: { settings, why: {} },
      problems: [],
      n: 10_000,
      precomputed: true,
      models: [],
      estimate: { embed: 0, cluster: 90, total: 90 },
      canRun: true,
      onchange: (key: keyof RunSettings, value: unknown) => void changes.push([key, value]),
      onreset: () => {},
      onrun: () => {},
    });
    expect(el.querySelector('#help-levels')?.textContent).toContain(LEVEL_SHRINK_RULE);
    expect(LEVEL_SHRINK_RULE).toContain(`${LEVEL_SHRINK}x`);
    const levels = el.querySelector<HTMLInputElement>('#s-levels')!;
    levels.value = '3';
    levels.dispatchEvent(new Event('change', { bubbles: true }));
    const next = resizeLevels(settings.k, settings.r, 3, 10_000);
    expect(changes).toEqual([
      ['k', next.k],
      ['r', next.r],
    ]);
    expect(next.k[2]).toBe(Math.round(200 / LEVEL_SHRINK));
    expect(el.querySelectorAll('table.levels tbody tr')).toHaveLength(2);
    expect(el.querySelector('.estimate')?.textContent).toMatch(/About/);
  });

  it("says what the budget buys against the paper's shape, and applies the shape in one click", () => {
    const changes: [keyof RunSettings, unknown][] = [];
    const shape = {
      summary: "The paper's shape needs at least 20000 finest clusters (at most 50 items each).",
      inBand: false,
      alternative: {
        label: "Keep the paper's shape",
        k: [20000, 4000],
        r: [1, 3],
        iterations: 10,
        seconds: 5000,
      },
    };
    const el = show(SettingsPanel, {
      settings,
      suggested: { settings, why: {}, shape },
      problems: [],
      n: 1_000_000,
      precomputed: true,
      models: [],
      estimate: { embed: 0, cluster: 110, total: 110 },
      canRun: true,
      onchange: (key: keyof RunSettings, value: unknown) => void changes.push([key, value]),
      onreset: () => {},
      onrun: () => {},
    });
    const note = el.querySelector('[data-testid="shape-note"]')!;
    expect(note.textContent).toContain(shape.summary);
    note.querySelector('button')!.click();
    expect(changes).toEqual([
      ['k', [20000, 4000]],
      ['r', [1, 3]],
      ['iterations', 10],
    ]);
  });
});

describe('DropZone', () => {
  it('hands over picked files with the half-precision choice', () => {
    const got: { source: IngestSource; include: readonly string[]; half: boolean }[] = [];
    const el = show(DropZone, {
      onsource: (source: IngestSource, include: readonly string[], half: boolean) =>
        got.push({ source, include, half }),
      ondemo: () => undefined,
      onproblem: () => undefined,
    });
    const half = el.querySelector<HTMLInputElement>('input[data-role="half-embeddings"]')!;
    expect(half.checked).toBe(false);
    half.click();
    flushSync();
    const input = el.querySelector<HTMLInputElement>('input[data-role="folder-input"]')!;
    const dt = new DataTransfer();
    dt.items.add(new File([new Uint8Array(4)], 'a.png', { type: 'image/png' }));
    input.files = dt.files;
    input.dispatchEvent(new Event('change', { bubbles: true }));
    expect(got).toHaveLength(1);
    expect(got[0].half).toBe(true);
    expect(got[0].source.kind).toBe('fileList');
  });
});
