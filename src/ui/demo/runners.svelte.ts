/**
 * Reactive state of the demo's live runs, and the workers behind them.
 *
 * Fig. 3 uses two workers where the device has more than one core: one runs the expensive
 * variant (hierarchical k-means with resampling, ~10x the cost of the other three together),
 * the other runs k-means, 2-level and 3-level in that order, cheapest first, so the first bars
 * appear within a second or two while the long run is still going. Cancelling is terminating:
 * the core's loops are synchronous inside a worker, and a fresh worker starts in milliseconds.
 *
 * ```ts
 * const fig3 = new Fig3Runner();
 * fig3.start({ seed: 0, levels: 3, steps: 10, iterations: 10, backend: 'auto' });
 * fig3.panels[0].result?.kl;   // streamed in as each variant finishes
 * fig3.dispose();
 * ```
 */
import * as Comlink from 'comlink';
import { fig3Variants, type Fig3Result, type Fig3Variant, type RingsResult } from '../../demo/toys';
import type {
  DemoBackendChoice,
  DemoProgress,
  DemoService,
  RingsRequest,
} from '../../demo/service';

export type RunStatus = 'waiting' | 'running' | 'done' | 'failed';

export interface Panel {
  readonly variant: Fig3Variant;
  readonly status: RunStatus;
  readonly progress: DemoProgress | null;
  readonly result: Fig3Result | null;
  readonly error: string | null;
}

export interface Fig3Settings {
  readonly seed: number;
  readonly levels: number;
  readonly steps: number;
  readonly iterations: number;
  readonly backend: DemoBackendChoice;
}

/** Makes a demo worker; tests and the app use the default. */
export type WorkerFactory = () => Worker;

const defaultFactory: WorkerFactory = () =>
  new Worker(new URL('../../workers/demo.worker.ts', import.meta.url), {
    type: 'module',
    name: 'strata-demo',
  });

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

interface Lane {
  readonly worker: Worker;
  readonly api: Comlink.Remote<DemoService>;
}

function openLane(factory: WorkerFactory, onCrash: (why: string) => void): Lane {
  const worker = factory();
  worker.addEventListener('error', (e) => onCrash(e.message || 'the demo worker failed to start'));
  return { worker, api: Comlink.wrap<DemoService>(worker) };
}

export class Fig3Runner {
  panels = $state<Panel[]>(fig3Variants().map((variant) => idle(variant)));
  bound = $state<{ mean: number; std: number } | null>(null);
  /** which backend computed the results, in words */
  backendNote = $state('');
  /** seconds from start until every panel was done */
  elapsed = $state<number | null>(null);

  readonly #factory: WorkerFactory;
  /** [cheap variants + bound, expensive variant]; a single lane when there is one core */
  #lanes: Lane[] = [];
  #last: Fig3Settings | null = null;
  #started = 0;
  /**
   * Which run owns each panel (and 'bound'): messages from a run that no longer owns its panel
   * (terminated, superseded) are dropped.
   */
  #owner: Record<string, number> = {};
  #runs = 0;

  constructor(factory: WorkerFactory = defaultFactory) {
    this.#factory = factory;
  }

  get done(): boolean {
    return this.panels.every((p) => p.status === 'done');
  }

  /**
   * Starts (or restarts) the runs for these settings. When only the levels or steps changed,
   * only the resampled variant is recomputed.
   */
  start(settings: Fig3Settings): void {
    const last = this.#last;
    const parallel = (globalThis.navigator?.hardwareConcurrency ?? 1) > 1;
    const sameBase =
      last !== null &&
      last.seed === settings.seed &&
      last.iterations === settings.iterations &&
      last.backend === settings.backend;
    const cheap = this.panels.slice(0, 3);
    // The cheap results stay valid: keep them when their lane is separate or already finished.
    const keepCheap =
      sameBase &&
      this.#lanes.length > 0 &&
      (cheap.every((p) => p.status === 'done') ||
        (this.#lanes.length > 1 && cheap.every((p) => p.status !== 'failed')));
    this.#last = settings;
    const variants = fig3Variants(settings.levels, settings.steps);
    this.#started = performance.now();
    this.elapsed = null;

    if (keepCheap) {
      if (this.#lanes.length > 1) this.#lanes.pop()!.worker.terminate();
      else this.#closeLanes();
      this.panels = this.panels.map((p, i) => (i === 3 ? idle(variants[3]) : p));
      const run = this.#claim(['resampled']);
      const lane = this.#lane(run);
      this.#lanes.push(lane);
      void this.#run(lane, run, settings, [variants[3]], false);
      return;
    }

    this.#closeLanes();
    this.panels = variants.map((v) => idle(v));
    this.bound = null;
    const run = this.#claim([...variants.map((v) => v.id), 'bound']);
    const first = this.#lane(run);
    this.#lanes.push(first);
    if (parallel) {
      const second = this.#lane(run);
      this.#lanes.push(second);
      void this.#run(first, run, settings, variants.slice(0, 3), true);
      void this.#run(second, run, settings, [variants[3]], false);
    } else {
      void this.#run(first, run, settings, variants, true);
    }
  }

  dispose(): void {
    this.#owner = {};
    this.#closeLanes();
  }

  #claim(ids: string[]): number {
    const run = ++this.#runs;
    for (const id of ids) this.#owner[id] = run;
    return run;
  }

  #owns(id: string, run: number): boolean {
    return this.#owner[id] === run;
  }

  #lane(run: number): Lane {
    return openLane(this.#factory, (why) => {
      this.panels = this.panels.map((p) =>
        p.status === 'done' || !this.#owns(p.variant.id, run)
          ? p
          : { ...p, status: 'failed', error: why },
      );
    });
  }

  #closeLanes(): void {
    for (const lane of this.#lanes) lane.worker.terminate();
    this.#lanes = [];
  }

  #update(id: Fig3Variant['id'], run: number, change: Partial<Panel>): void {
    if (!this.#owns(id, run)) return;
    this.panels = this.panels.map((p) => (p.variant.id === id ? { ...p, ...change } : p));
  }

  async #run(
    lane: Lane,
    run: number,
    settings: Fig3Settings,
    variants: Fig3Variant[],
    withBound: boolean,
  ): Promise<void> {
    try {
      if (withBound) {
        const bound = await lane.api.bound(settings.seed);
        if (this.#owns('bound', run)) this.bound = bound;
      }
      const { note } = await lane.api.backend(settings.backend);
      if (variants.some((v) => this.#owns(v.id, run))) this.backendNote = note;
      for (const v of variants) this.#update(v.id, run, { status: 'running' });
      await lane.api.fig3(
        {
          seed: settings.seed,
          iterations: settings.iterations,
          variants,
          backend: settings.backend,
        },
        Comlink.proxy((result: Fig3Result) => {
          this.#update(result.id, run, { status: 'done', result, progress: null });
          if (this.done) this.elapsed = (performance.now() - this.#started) / 1000;
        }),
        Comlink.proxy((id: Fig3Variant['id'], progress: DemoProgress) => {
          this.#update(id, run, { progress });
        }),
      );
    } catch (e) {
      for (const v of variants) {
        const panel = this.panels.find((p) => p.variant.id === v.id);
        if (panel && panel.status !== 'done') {
          this.#update(v.id, run, { status: 'failed', error: message(e) });
        }
      }
    }
  }
}

function idle(variant: Fig3Variant): Panel {
  return { variant, status: 'waiting', progress: null, result: null, error: null };
}

export class RingsRunner {
  status = $state<RunStatus>('waiting');
  progress = $state<DemoProgress | null>(null);
  result = $state.raw<RingsResult | null>(null);
  error = $state<string | null>(null);
  backendNote = $state('');

  readonly #factory: WorkerFactory;
  #lane: Lane | null = null;
  #generation = 0;

  constructor(factory: WorkerFactory = defaultFactory) {
    this.#factory = factory;
  }

  start(request: RingsRequest): void {
    this.dispose();
    const generation = this.#generation;
    const live = () => generation === this.#generation;
    this.status = 'running';
    this.progress = null;
    this.result = null;
    this.error = null;
    const lane = openLane(this.#factory, (why) => {
      if (!live()) return;
      this.status = 'failed';
      this.error = why;
    });
    this.#lane = lane;
    void (async () => {
      try {
        const { note } = await lane.api.backend(request.backend);
        if (live()) this.backendNote = note;
        const result = await lane.api.rings(
          request,
          Comlink.proxy((p: DemoProgress) => {
            if (live()) this.progress = p;
          }),
        );
        if (!live()) return;
        this.result = result;
        this.status = 'done';
      } catch (e) {
        if (!live()) return;
        this.status = 'failed';
        this.error = message(e);
      }
    })();
  }

  dispose(): void {
    this.#generation++;
    this.#lane?.worker.terminate();
    this.#lane = null;
  }
}
