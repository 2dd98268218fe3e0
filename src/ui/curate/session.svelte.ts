/**
 * The curate flow's state: one Workspace for the page's lifetime, the dataset being curated,
 * its settings, the run in progress and the list of past runs. Components read these fields and
 * call the methods; nothing here computes anything heavy (the Workspace's workers do).
 */
import {
  STAGES,
  type DatasetInfo,
  type IngestOptions,
  type IngestReport,
  type IngestSource,
  type ProgressEvent,
  type ReferenceImportSource,
  type RunInfo,
  type RunSettings,
  type SettingsProblem,
  type StageName,
  type StageStatus,
  type StorageInfo,
  type SuggestedSettings,
  type WorkspaceEvent,
} from '../../pipeline/contract';
import { Workspace } from '../../pipeline/workspace';
import { describeError, isCancellation, type UiError } from '../lib/errors';
import { withEdits } from './auto-plan';

export type Phase = 'opening' | 'empty' | 'ingesting' | 'configure' | 'running' | 'done';

export class CurateSession {
  phase = $state<Phase>('opening');
  /** a failure of the last action, shown inline where the action was started */
  error = $state<UiError | null>(null);
  /** the Workspace could not open at all (no IndexedDB, private mode...) */
  fatal = $state<UiError | null>(null);

  dataset = $state<DatasetInfo | null>(null);
  report = $state<IngestReport | null>(null);
  /** ingest progress (no run yet) */
  ingestProgress = $state<ProgressEvent | null>(null);
  /** a rejected ingest can still carry a report (e.g. an empty folder): shown with the error */
  failedReport = $state<IngestReport | null>(null);

  suggested = $state<SuggestedSettings | null>(null);
  settings = $state<RunSettings | null>(null);

  run = $state<RunInfo | null>(null);
  progress = $state<Partial<Record<StageName, ProgressEvent>>>({});
  stageStatus = $state<Partial<Record<StageName, StageStatus>>>({});
  /** bumped when the run on screen gets a new sample, so Explore reloads */
  sampleVersion = $state(0);
  /** a note after a cancelled run */
  note = $state<string | null>(null);

  runs = $state<RunInfo[]>([]);
  datasets = $state<DatasetInfo[]>([]);
  unfinished = $state<RunInfo[]>([]);
  storage = $state<StorageInfo | null>(null);

  #ws: Workspace | null = null;
  #unsubscribe: (() => void) | null = null;
  readonly #overrides: () => Partial<RunSettings>;

  /**
   * @param overrides settings that win over the automatic defaults (from a shared link); the
   *   data layer's validation still checks them against the dataset.
   */
  constructor(overrides: () => Partial<RunSettings> = () => ({})) {
    this.#overrides = overrides;
  }

  get workspace(): Workspace | null {
    return this.#ws;
  }

  /** Problems of the current settings against the current dataset ('error' ones block Run). */
  get problems(): SettingsProblem[] {
    if (!this.#ws || !this.settings || !this.dataset) return [];
    return this.#ws.validateSettings(this.settings, this.dataset.itemCount);
  }

  get canRun(): boolean {
    return (
      this.phase === 'configure' &&
      this.settings !== null &&
      !this.problems.some((p) => p.severity === 'error')
    );
  }

  async open(): Promise<void> {
    try {
      const ws = await Workspace.open();
      this.#unsubscribe = ws.subscribe((event) => this.#onEvent(event));
      this.#ws = ws;
    } catch (e) {
      this.fatal = describeError(e, 'open the local database');
      this.phase = 'empty';
      return;
    }
    this.phase = 'empty';
    await this.refreshLists();
  }

  /** Bumped by every refreshLists call: only the latest call's answer is shown. */
  #listsGeneration = 0;

  async refreshLists(): Promise<void> {
    const ws = this.#ws;
    if (!ws) return;
    // Refreshes overlap (one starts with a run, another ends it): an older answer that arrives
    // last must not overwrite a newer one, or a cancelled run shows as "not started".
    const generation = ++this.#listsGeneration;
    try {
      const [runs, unfinished, storage, datasets] = await Promise.all([
        ws.listRuns(),
        ws.unfinishedRuns(),
        ws.storage(),
        ws.listDatasets(),
      ]);
      if (generation !== this.#listsGeneration) return;
      this.datasets = datasets.sort((a, b) => b.updatedAt - a.updatedAt);
      this.runs = runs.sort((a, b) => b.createdAt - a.createdAt);
      // The run this page is executing is not "unfinished": it is on screen.
      const onScreen = this.phase === 'running' ? this.run?.id : undefined;
      this.unfinished = unfinished.filter((r) => r.id !== ws.activeRunId && r.id !== onScreen);
      this.storage = storage;
    } catch (e) {
      this.error = describeError(e, 'read the stored runs');
    }
  }

  /** Must be called synchronously from the drop handler for DataTransfer sources. */
  async ingest(source: IngestSource, options: IngestOptions = {}): Promise<void> {
    const ws = this.#ws;
    if (!ws) return;
    this.error = null;
    this.note = null;
    this.failedReport = null;
    this.ingestProgress = null;
    this.phase = 'ingesting';
    // Starts reading the entries before the first await (DataTransfer entries expire).
    const pending = ws.ingest(source, options);
    try {
      const report = await pending;
      this.report = report;
      this.dataset = report.dataset;
      this.run = null;
      await this.#suggest(report.dataset);
      this.phase = 'configure';
      // Asked once there is something worth keeping; the browser may decide silently.
      void ws.persist().then(() => this.refreshLists());
    } catch (e) {
      this.phase = this.dataset ? 'configure' : 'empty';
      if (isCancellation(e)) return;
      this.error = describeError(e, 'read those files');
      const cause = e instanceof Error ? (e.cause as IngestReport | undefined) : undefined;
      if (cause && typeof cause === 'object' && 'skipped' in cause) this.failedReport = cause;
    } finally {
      this.ingestProgress = null;
    }
  }

  async #suggest(dataset: DatasetInfo): Promise<void> {
    const ws = this.#ws;
    if (!ws) return;
    try {
      this.suggested = await ws.suggestSettings(dataset.id);
      this.settings = withEdits(this.suggested.settings, this.#overrides());
    } catch (e) {
      this.error = describeError(e, 'pick default settings');
    }
  }

  /** A new run on a stored dataset, without adding its files again. */
  async useDataset(dataset: DatasetInfo): Promise<void> {
    this.error = null;
    this.note = null;
    this.dataset = dataset;
    this.report = null;
    this.failedReport = null;
    this.run = null;
    await this.#suggest(dataset);
    this.phase = 'configure';
  }

  /**
   * Re-read a folder opened with the folder picker: call from a click (the browser asks for
   * permission again after a reload).
   */
  async rescan(dataset: DatasetInfo): Promise<void> {
    const ws = this.#ws;
    if (!ws) return;
    this.error = null;
    this.note = null;
    const before = this.phase;
    this.phase = 'ingesting';
    try {
      const report = await ws.rescan(dataset.id);
      this.report = report;
      this.dataset = report.dataset;
      this.run = null;
      await this.#suggest(report.dataset);
      this.phase = 'configure';
    } catch (e) {
      this.phase = before === 'ingesting' ? 'empty' : before;
      if (!isCancellation(e)) this.error = describeError(e, 'rescan the folder');
    } finally {
      this.ingestProgress = null;
      await this.refreshLists();
    }
  }

  async deleteDataset(dataset: DatasetInfo): Promise<void> {
    const ws = this.#ws;
    if (!ws) return;
    try {
      await ws.deleteDataset(dataset.id);
      if (this.dataset?.id === dataset.id) this.startOver();
    } catch (e) {
      this.error = describeError(e, 'delete the dataset');
    }
    await this.refreshLists();
  }

  /** Back to the suggested defaults for the current dataset. */
  resetSettings(): void {
    if (this.suggested) this.settings = this.suggested.settings;
  }

  async start(): Promise<void> {
    const ws = this.#ws;
    if (!ws || !this.dataset || !this.settings || !this.canRun) return;
    this.error = null;
    this.note = null;
    try {
      // First, while the click still counts: a folder's pictures may need the browser's leave.
      await ws.allowFolder(this.dataset.id);
      const run = await ws.createRun(this.dataset.id, $state.snapshot(this.settings));
      await this.#execute(run, () => ws.start(run.id));
    } catch (e) {
      this.error = describeError(e, 'start the run');
    }
  }

  /** Resume an unfinished run (from the banner or the runs list). */
  async resume(run: RunInfo): Promise<void> {
    const ws = this.#ws;
    if (!ws) return;
    this.error = null;
    this.note = null;
    try {
      // Before any other wait, while the click still counts (the browser asks only then); a
      // refusal is told by the embed stage, which needs the pictures, with what to do.
      if (run.stages.embed.status !== 'done') await ws.allowFolder(run.datasetId);
      const dataset = await ws.getDataset(run.datasetId);
      if (!dataset) throw new Error('The dataset of this run was deleted.');
      this.dataset = dataset;
      this.report = null;
      this.settings = run.settings;
      this.suggested = null;
      await this.#execute(run, () => ws.resume(run.id));
    } catch (e) {
      this.error = describeError(e, 'resume the run');
    }
  }

  async #execute(run: RunInfo, go: () => Promise<RunInfo>): Promise<void> {
    this.run = run;
    this.progress = {};
    this.stageStatus = Object.fromEntries(STAGES.map((s) => [s, run.stages[s].status]));
    this.phase = 'running';
    this.unfinished = this.unfinished.filter((r) => r.id !== run.id);
    // The runs list shows this run (as running) while it works.
    void this.refreshLists();
    try {
      this.run = await go();
      this.phase = 'done';
    } catch (e) {
      const latest = await this.#ws?.getRun(run.id).catch(() => undefined);
      if (latest) {
        this.run = latest;
        this.#updateListed(latest);
      }
      // The list shows the stopped run before the note says so.
      this.phase = 'configure';
      if (isCancellation(e)) {
        this.note = 'Run cancelled. Finished steps are stored: resume it from the list of runs.';
      } else {
        this.error = describeError(e, 'finish the run');
      }
    } finally {
      await this.refreshLists();
    }
  }

  cancel(): void {
    if (this.run) this.#ws?.cancel(this.run.id);
  }

  /** Show a finished run (from the runs list). */
  async openRun(run: RunInfo): Promise<void> {
    const ws = this.#ws;
    if (!ws) return;
    this.error = null;
    const dataset = await ws.getDataset(run.datasetId).catch(() => undefined);
    this.dataset = dataset ?? null;
    this.report = null;
    this.settings = run.settings;
    this.run = run;
    this.phase = 'done';
  }

  /** a cluster run folder being imported (its name), null otherwise */
  importing = $state<string | null>(null);

  /** Import the reference pipeline's output and show it as a finished run. */
  async importReference(source: ReferenceImportSource, name: string): Promise<void> {
    const ws = this.#ws;
    if (!ws || this.importing) return;
    this.error = null;
    this.note = null;
    this.importing = name;
    try {
      const report = await ws.importReference(source);
      await this.refreshLists();
      await this.openRun(report.run);
      this.note = report.matched
        ? `Imported the cluster run onto “${report.dataset.name}”.`
        : `Imported the cluster run with its embeddings as the dataset “${report.dataset.name}”.`;
    } catch (e) {
      this.error = describeError(e, 'import that cluster run');
    } finally {
      this.importing = null;
    }
  }

  /** A finished run got a new sample (another target or leaf strategy). */
  resampled(run: RunInfo): void {
    this.sampleVersion++;
    this.run = run;
    this.settings = run.settings;
    void this.refreshLists();
  }

  async deleteRun(run: RunInfo): Promise<void> {
    const ws = this.#ws;
    if (!ws) return;
    try {
      await ws.deleteRun(run.id);
      if (this.run?.id === run.id) {
        this.run = null;
        this.phase = this.dataset ? 'configure' : 'empty';
      }
    } catch (e) {
      this.error = describeError(e, 'delete the run');
    }
    await this.refreshLists();
  }

  /** Dismiss an unfinished run without resuming it (it stays in the runs list). */
  dismiss(run: RunInfo): void {
    this.unfinished = this.unfinished.filter((r) => r.id !== run.id);
  }

  /** Same dataset, new settings: back to the settings panel. */
  adjust(): void {
    if (!this.dataset) return;
    this.phase = 'configure';
    if (!this.settings && this.suggested) this.settings = this.suggested.settings;
  }

  /** Forget the current dataset on screen (stored data stays) and show the drop zone. */
  startOver(): void {
    this.dataset = null;
    this.report = null;
    this.failedReport = null;
    this.settings = null;
    this.suggested = null;
    this.run = null;
    this.error = null;
    this.note = null;
    this.phase = 'empty';
  }

  /** Replace a listed run with its newer record; an answer older than the list's is ignored. */
  #updateListed(run: RunInfo): void {
    const i = this.runs.findIndex((r) => r.id === run.id);
    if (i < 0 || this.runs[i].updatedAt > run.updatedAt) return;
    this.runs = this.runs.map((r, j) => (j === i ? run : r));
    // A newer record makes any refresh still in flight stale.
    this.#listsGeneration++;
  }

  #onEvent(event: WorkspaceEvent): void {
    switch (event.type) {
      case 'progress':
        if (!event.runId) this.ingestProgress = event;
        else if (event.runId === this.run?.id) {
          this.progress = { ...this.progress, [event.stage]: event };
        }
        break;
      case 'stage':
        if (event.runId === this.run?.id) {
          this.stageStatus = { ...this.stageStatus, [event.stage]: event.status };
        }
        break;
      case 'run':
        // Only a run being executed changes on screen; a finished one shown in Explore is
        // replaced as a whole when it gets a new sample (see resampled).
        if (event.run.id === this.run?.id && this.phase === 'running') this.run = event.run;
        // The runs list follows every stored change of a run it shows (a cancel is stored
        // before start() rejects, so the list says "cancelled" before the note appears).
        this.#updateListed(event.run);
        break;
      case 'notice':
      case 'skip':
      case 'datasets':
        break;
    }
  }

  dispose(): void {
    this.#unsubscribe?.();
    void this.#ws?.close();
  }
}
