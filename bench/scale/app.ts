/**
 * The scale bench's runs of the built app: `vite build` (production, with source maps so long
 * tasks can be named) into .cache/scale-dist, served by `vite preview` with COOP/COEP, driven
 * in headless Chromium (playwright-core) the way a person uses it: a folder picked with the
 * folder input, or an .npy picked with the embeddings input; near-duplicate removal switched
 * on; the automatic plan; Run curation; the manifest downloaded.
 *
 * Measures per stage (the run record's own start and finish times), the plan the app ran, the
 * peak memory (the main thread's JS heap, and the resident memory of Chromium's renderer and
 * GPU processes, which hold the workers, their WebAssembly memory and the GPU buffers), bytes
 * stored (storage estimate before and after, and per object store), and the main thread's long
 * tasks after ingest starts, each named from a CPU profile when asked.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { chromium, type BrowserContext, type CDPSession, type Page } from 'playwright-core';
import ts from 'typescript';
import { preview, type PreviewServer } from 'vite';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../../test/chromium.ts';
import { newestInputMtime } from '../../test/e2e/helpers/app.ts';
import { SCALE_CACHE } from './images.ts';
import { PICKER_INIT, prepareOpfsFolder } from './picker.ts';
import { FrameNamer, profileWindows, type CpuProfile } from './profile.ts';

const ROOT = resolve(import.meta.dirname, '../..');
export const SCALE_DIST = join(ROOT, '.cache', 'scale-dist');

/** Builds the app into SCALE_DIST unless that build is newer than every input. */
async function build(log: (s: string) => void): Promise<void> {
  const index = join(SCALE_DIST, 'index.html');
  if (existsSync(index) && statSync(index).mtimeMs > newestInputMtime()) return;
  log('building the app (vite build --sourcemap)');
  const vite = join(ROOT, 'node_modules/vite/bin/vite.js');
  const args = [vite, 'build', '--outDir', SCALE_DIST, '--emptyOutDir', '--sourcemap'];
  await new Promise<void>((ok, fail) => {
    const child = spawn(process.execPath, [...args, '--logLevel', 'warn'], {
      cwd: ROOT,
      stdio: ['ignore', 'inherit', 'inherit'],
      env: { ...process.env, NODE_ENV: 'production' },
    });
    child.on('error', fail);
    child.on('exit', (code) => (code === 0 ? ok() : fail(new Error(`vite build: ${code}`))));
  });
}

/** The probe (probe.ts) as a plain script for addInitScript. */
function probeScript(): string {
  const source = readFileSync(join(import.meta.dirname, 'probe.ts'), 'utf8');
  const js = ts.transpileModule(source, {
    compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext },
  }).outputText;
  return js.replace(/^export \{\};?$/m, '');
}

/** Resident memory of Chromium's processes by type, sampled, plus the kernel's own peaks. */
class ProcessMemory {
  private peakSum: Record<string, number> = {};
  private hwm = new Map<number, { type: string; kb: number }>();
  private timer: NodeJS.Timeout;
  constructor(private readonly rootPid: number) {
    this.timer = setInterval(() => this.sample(), 500);
    // A part that fails must not keep the bench's process alive.
    this.timer.unref();
  }

  /** Every Chromium process under `rootPid` (the zygote's renderers included), with its --type. */
  private children(): { pid: number; type: string }[] {
    const kids = new Map<number, number[]>();
    for (const name of readdirSync('/proc')) {
      if (!/^\d+$/.test(name)) continue;
      try {
        const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
        const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        kids.set(ppid, [...(kids.get(ppid) ?? []), Number(name)]);
      } catch {
        // The process ended between the listing and the read.
      }
    }
    const out: { pid: number; type: string }[] = [];
    const queue = [this.rootPid];
    while (queue.length) {
      const pid = queue.shift()!;
      try {
        const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
        if (cmd.includes('chrom')) {
          out.push({ pid, type: /--type=([a-z-]+)/.exec(cmd)?.[1] ?? 'browser' });
        }
      } catch {
        continue;
      }
      queue.push(...(kids.get(pid) ?? []));
    }
    return out;
  }

  sample(): void {
    const sums: Record<string, number> = {};
    for (const { pid, type } of this.children()) {
      try {
        const status = readFileSync(`/proc/${pid}/status`, 'utf8');
        const rss = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
        const hwm = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
        sums[type] = (sums[type] ?? 0) + rss;
        const prev = this.hwm.get(pid);
        this.hwm.set(pid, { type, kb: Math.max(prev?.kb ?? 0, hwm) });
      } catch {
        // gone
      }
    }
    for (const [t, kb] of Object.entries(sums))
      this.peakSum[t] = Math.max(this.peakSum[t] ?? 0, kb);
  }

  /** MiB: the largest sampled sum per process type, and the largest single process's peak. */
  result(): { rssPeakMiB: Record<string, number>; processPeakMiB: Record<string, number> } {
    this.sample();
    clearInterval(this.timer);
    const single: Record<string, number> = {};
    for (const { type, kb } of this.hwm.values()) single[type] = Math.max(single[type] ?? 0, kb);
    const mib = (o: Record<string, number>) =>
      Object.fromEntries(Object.entries(o).map(([k, v]) => [k, Math.round(v / 1024)]));
    return { rssPeakMiB: mib(this.peakSum), processPeakMiB: mib(single) };
  }
}

export interface AppPart {
  readonly kind: 'images' | 'npy';
  /** the folder (images) or the .npy file */
  readonly input: string;
  readonly items: number;
  readonly dedup: boolean;
  readonly profile: boolean;
  /** images: the folder input (a copy of every file is stored) or the folder picker (a handle) */
  readonly via: 'input' | 'picker';
}

interface RunRecordView {
  readonly settings: {
    readonly k: readonly number[];
    readonly r: readonly number[];
    readonly iterations: number;
    readonly resamplingSteps: number;
    readonly target: number;
    readonly dedup?: number | null;
    readonly normalisation: string;
    readonly backend: string;
  };
  readonly status: string;
  readonly stages: Record<string, { startedAt?: number; finishedAt?: number; total?: number }>;
  readonly rows: number;
  readonly dim: number;
  readonly backendUsed?: string;
  readonly providerUsed?: string;
  readonly embeddedOn?: string;
  readonly selected?: number;
  readonly duplicates?: { groups: number; removed: number };
  readonly counters: Record<string, number>;
  readonly notices: readonly { stage: string; level: string; message: string }[];
}

interface StoreSize {
  readonly db: string;
  readonly store: string;
  readonly records: number;
  readonly bytes: number;
  readonly blobBytes: number;
}

type Emit = (o: Record<string, unknown>) => void;

const HOUR = 3_600_000;
const round = (v: number, d = 2): number => Number(v.toFixed(d));

async function startProfile(page: Page): Promise<{ cdp: CDPSession; offset: number }> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Profiler.enable');
  // 4 ms between samples: 50 samples in a 200 ms task, and little weight on a 2-core machine.
  await cdp.send('Profiler.setSamplingInterval', { interval: 4000 });
  const offset = (await page.evaluate('performance.now()')) as number;
  await cdp.send('Profiler.start');
  return { cdp, offset };
}

/** Runs one part in a fresh browser and context; emits its lines as it goes. */
export async function runApp(part: AppPart, emit: Emit, log: (s: string) => void): Promise<void> {
  await build(log);
  const server: PreviewServer = await preview({
    root: ROOT,
    configFile: join(ROOT, 'vite.config.ts'),
    logLevel: 'warn',
    build: { outDir: SCALE_DIST },
    preview: { host: '127.0.0.1', port: 0, strictPort: false, open: false },
  });
  const address = server.httpServer.address();
  if (!address || typeof address === 'string') throw new Error('preview server has no port');
  const url = `http://127.0.0.1:${address.port}/`;
  // Chromium is this process's child; its processes are the descendants whose command is it.
  const pid = process.pid;
  let context: BrowserContext | undefined;
  const name =
    part.kind === 'npy' ? 'app-npy' : part.via === 'picker' ? 'app-images-picker' : 'app-images';
  // A profile on disk, as a person's browser has: a plain browser.newContext() is off the
  // record, where Chromium keeps IndexedDB in the browser process's memory and refused the 1M x
  // 384 dataset at 1.6 GB ("storage for this site is full") with 70 GB of disk free.
  const profileDir = join(SCALE_CACHE, `profile-${name}`);
  rmSync(profileDir, { recursive: true, force: true });
  try {
    context = await chromium.launchPersistentContext(profileDir, {
      executablePath: CHROMIUM_PATH,
      args: [...CHROMIUM_ARGS, '--enable-precise-memory-info'],
      headless: true,
      viewport: { width: 1280, height: 800 },
      acceptDownloads: true,
    });
    await context.addInitScript({ content: probeScript() });
    if (part.via === 'picker') await context.addInitScript({ content: PICKER_INIT });
    const page = context.pages()[0] ?? (await context.newPage());
    page.on('pageerror', (e) => log(`page error: ${e.message}`));
    page.on('crash', () => log('the page crashed'));
    const memory = new ProcessMemory(pid);
    await page.goto(url);
    await page.getByRole('heading', { name: 'Curate a balanced subset of your images' }).waitFor();
    const before = (await page.evaluate('window.__scale.estimate()')) as {
      usage: number | null;
      details: Record<string, number> | null;
    };
    if (part.via === 'picker') {
      const copy = await prepareOpfsFolder(page, part.input);
      emit({ part: name, kind: 'opfs-copy', files: copy.files, seconds: round(copy.seconds) });
    }
    const prof = part.profile ? await startProfile(page) : null;

    // Ingest: the folder input (webkitdirectory) or the embeddings input, as a person picks them.
    const ingestStart = (await page.evaluate('performance.now()')) as number;
    const t0 = Date.now();
    if (part.via === 'picker') {
      await page.getByRole('button', { name: 'Choose folder…' }).click();
    } else {
      const input =
        part.kind === 'images'
          ? page.locator('input[data-role="folder-input"]')
          : page.locator('input[accept=".npy,.txt,.csv,.jsonl"]');
      await input.setInputFiles(part.input);
    }
    for (let waited = 0; ; waited += 30_000) {
      try {
        await page.getByRole('heading', { name: 'Settings' }).waitFor({ timeout: 30_000 });
        break;
      } catch {
        if (waited > 2 * HOUR) throw new Error('ingest took over 2 hours');
        const alerts = await page.getByRole('alert').allInnerTexts();
        if (alerts.length) throw new Error(`ingest stopped: ${alerts.join(' | ')}`);
        const text = await page.locator('main').innerText();
        const shown = /Reading files[^\n]*/.exec(text)?.[0];
        log(
          `${name}: ${shown ?? `ingest: no progress shown; the page says "${text.replace(/\s+/g, ' ').slice(0, 300)}"`}`,
        );
      }
    }
    const ingestSeconds = (Date.now() - t0) / 1000;
    const itemsShown = Number(
      (await page.locator('[data-stat="items"]').textContent())?.replace(/,/g, ''),
    );
    emit({
      part: name,
      stage: 'ingest',
      seconds: round(ingestSeconds),
      items: itemsShown,
      items_per_s: round(itemsShown / ingestSeconds, 1),
    });

    if (part.dedup) {
      const box = page.getByRole('checkbox', { name: 'Remove near-duplicates' });
      if (!(await box.isChecked())) await box.check();
    }
    await page.getByRole('button', { name: 'Run curation' }).click();
    const runStarted = Date.now();
    let lastLog = 0;
    for (;;) {
      const ready = page.getByText('Curated subset ready');
      try {
        await ready.waitFor({ timeout: 30_000 });
        break;
      } catch {
        const failed = await page.locator('li[data-status="failed"] .error').allTextContents();
        if (failed.length) throw new Error(`the run failed: ${failed.join(' | ')}`);
        if (Date.now() - runStarted > 4 * HOUR) throw new Error('the run took over 4 hours');
        if (Date.now() - lastLog > 120_000) {
          lastLog = Date.now();
          const details = await page.locator('li[data-status="running"]').allTextContents();
          log(`${name}: ${details.map((d) => d.replace(/\s+/g, ' ').trim()).join(' | ')}`);
        }
      }
    }
    const run = (await page.evaluate('window.__scale.latestRun()')) as RunRecordView;
    for (const stage of ['embed', 'dedup', 'cluster', 'sample']) {
      const st = run.stages[stage];
      if (!st?.startedAt || !st.finishedAt) continue;
      const seconds = (st.finishedAt - st.startedAt) / 1000;
      const items =
        stage === 'cluster' || stage === 'sample'
          ? run.rows - (run.duplicates?.removed ?? 0)
          : run.rows;
      emit({
        part: name,
        stage,
        seconds: round(seconds),
        items,
        items_per_s: round(items / Math.max(seconds, 1e-3), 1),
      });
    }

    const kept = run.rows - (run.duplicates?.removed ?? 0);
    emit({
      part: name,
      kind: 'plan',
      rows: run.rows,
      dim: run.dim,
      kept_after_dedup: kept,
      duplicates: run.duplicates ?? null,
      k: run.settings.k,
      r: run.settings.r,
      rows_per_level1_cluster: round(kept / run.settings.k[0], 1),
      lloyd_rounds: run.settings.iterations,
      resampling_steps: run.settings.resamplingSteps,
      target: run.settings.target,
      selected: run.selected ?? null,
      dedup_threshold: run.settings.dedup ?? null,
      normalisation: run.settings.normalisation,
      backend: run.backendUsed ?? run.settings.backend,
      provider: run.providerUsed ?? null,
      embedded_on: run.embeddedOn ?? null,
      notices: run.notices.map((n) => `${n.stage}/${n.level}: ${n.message}`),
    });

    // Export: the manifest as a person downloads it. At 1M rows the explore view kept the main
    // thread busy past playwright's 30 s click timeout, so the click waits as long as the page.
    let tExport = Date.now();
    let tExportEnd = tExport;
    try {
      const tWait = Date.now();
      await page.waitForFunction('true', undefined, { timeout: HOUR });
      tExport = Date.now();
      const waited = (tExport - tWait) / 1000;
      const [download] = await Promise.all([
        page.waitForEvent('download', { timeout: HOUR }),
        page
          .getByRole('button', { name: 'Download manifest as CSV' })
          .click({ timeout: HOUR, noWaitAfter: true }),
      ]);
      const csv = readFileSync(await download.path(), 'utf8');
      tExportEnd = Date.now();
      const lines = csv.split('\n').filter((l) => l.length > 0).length - 1;
      emit({
        part: name,
        stage: 'export',
        seconds: round((tExportEnd - tExport) / 1000),
        manifest_rows: lines,
        manifest_bytes: csv.length,
        // how long the page took to answer at all once the run had finished
        waited_for_page_s: round(waited),
      });
    } catch (e) {
      tExportEnd = Date.now();
      emit({ part: name, stage: 'export', failed: e instanceof Error ? e.message : String(e) });
    }

    const heapPeak = (await page.evaluate('window.__scale.heapPeak')) as number;
    const procs = memory.result();
    emit({
      part: name,
      kind: 'memory',
      main_heap_peak_mib: Math.round(heapPeak / 2 ** 20),
      rss_peak_mib: procs?.rssPeakMiB ?? null,
      process_peak_mib: procs?.processPeakMiB ?? null,
    });

    const after = (await page.evaluate('window.__scale.estimate()')) as {
      usage: number | null;
      details: Record<string, number> | null;
    };
    const stores = (await page.evaluate('window.__scale.storeSizes()')) as StoreSize[];
    const items = itemsShown;
    const sizeOf = (db: string, store: string) =>
      stores.find((s) => s.db === db && s.store === store)?.bytes ?? 0;
    const thumbs = sizeOf('strata', 'thumbs');
    const embeddings = sizeOf('strata', 'embeddings');
    // IndexedDB's own share of the estimate where the browser splits it: the service worker's
    // cache of the app and the model fills in during the run and is no item's storage.
    const idb = (e: { usage: number | null; details: Record<string, number> | null }) =>
      e.details ? (e.details.indexedDB ?? 0) : e.usage;
    const b0 = idb(before);
    const b1 = idb(after);
    const stored = b0 !== null && b1 !== null ? b1 - b0 : null;
    // files, thumbnails, item records, embeddings and the embedding cache (not run results)
    const perItemStores = stores.filter(
      (s) =>
        ['files', 'thumbs', 'items', 'embeddings'].includes(s.store) ||
        s.db === 'strata-embeddings',
    );
    emit({
      part: name,
      kind: 'storage',
      items,
      usage_before: before.usage,
      usage_after: after.usage,
      usage_details: after.details,
      indexeddb_bytes: stored,
      bytes_per_item: stored === null ? null : Math.round(stored / items),
      item_store_bytes_per_item: Math.round(perItemStores.reduce((t, s) => t + s.bytes, 0) / items),
      thumb_bytes_per_item: Math.round(thumbs / items),
      embedding_bytes_per_item: Math.round(embeddings / items),
      over_thumbs_plus_embeddings:
        stored === null || thumbs + embeddings === 0
          ? null
          : round(stored / (thumbs + embeddings) - 1, 3),
      stores: stores
        .filter((s) => s.records > 0)
        .map((s) => ({
          store: `${s.db}/${s.store}`,
          records: s.records,
          mib: round(s.bytes / 2 ** 20, 1),
        })),
    });

    // Long tasks from the moment the input was handed over.
    const tasks = (
      (await page.evaluate('window.__scale.longTasks')) as {
        start: number;
        duration: number;
        at: number;
      }[]
    )
      .filter((t) => t.start >= ingestStart)
      .sort((a, b) => b.duration - a.duration);
    const phaseOf = (at: number): string => {
      if (at < runStarted) return 'ingest';
      for (const [stage, st] of Object.entries(run.stages)) {
        if (st.startedAt && st.finishedAt && at >= st.startedAt && at <= st.finishedAt)
          return stage;
      }
      if (at >= tExport && at <= tExportEnd) return 'export';
      const end = run.stages.sample?.finishedAt ?? Infinity;
      return at > end ? 'explore view, after the run' : 'between stages';
    };
    const top = tasks.slice(0, 10);
    let named: ReturnType<typeof profileWindows> | null = null;
    if (prof) {
      const { profile } = (await prof.cdp.send('Profiler.stop')) as unknown as {
        profile: CpuProfile;
      };
      named = profileWindows(profile, prof.offset, top, new FrameNamer(SCALE_DIST));
    }
    emit({
      part: name,
      kind: 'longtasks',
      count: tasks.length,
      over_200ms: tasks.filter((t) => t.duration > 200).length,
      longest_ms: Math.round(tasks[0]?.duration ?? 0),
      total_ms: Math.round(tasks.reduce((s, t) => s + t.duration, 0)),
      top: top.map((t, i) => ({
        at_s: round((t.start - ingestStart) / 1000, 1),
        ms: Math.round(t.duration),
        phase: phaseOf(t.at),
        ...(named
          ? { inclusive: named[i].inclusive, self: named[i].self, samples: named[i].samples }
          : {}),
      })),
    });
  } finally {
    await context?.close();
    await server.close();
    rmSync(profileDir, { recursive: true, force: true });
  }
}
