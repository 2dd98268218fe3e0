import type {
  BalanceReport,
  ClusterDetail,
  ClusterSummary,
  DatasetId,
  DatasetInfo,
  ExportProgress,
  IngestOptions,
  IngestReport,
  IngestSource,
  ItemIndex,
  ItemInfo,
  ManifestFormat,
  Projection,
  RunId,
  RunInfo,
  RunSettings,
  SettingsProblem,
  SizeDistribution,
  StorageInfo,
  SuggestedSettings,
  WorkspaceApi,
  WorkspaceListener,
  WorkspaceOptions,
} from './api';

function notYet(): never {
  throw new Error('not implemented yet');
}

/** The data layer's entry point; see `WorkspaceApi` in api.ts for what each method does. */
export class Workspace implements WorkspaceApi {
  private constructor(readonly options: WorkspaceOptions) {}

  /** Open (and migrate if needed) the database; marks runs left 'running' as 'interrupted'. */
  static async open(options: WorkspaceOptions = {}): Promise<Workspace> {
    return new Workspace(options);
  }

  get activeRunId(): RunId | null {
    return null;
  }
  subscribe(_listener: WorkspaceListener): () => void {
    return notYet();
  }
  async ingest(_source: IngestSource, _options?: IngestOptions): Promise<IngestReport> {
    return notYet();
  }
  async rescan(_datasetId: DatasetId): Promise<IngestReport> {
    return notYet();
  }
  async listDatasets(): Promise<DatasetInfo[]> {
    return notYet();
  }
  async getDataset(_datasetId: DatasetId): Promise<DatasetInfo | undefined> {
    return notYet();
  }
  async listItems(_datasetId: DatasetId, _offset?: number, _limit?: number): Promise<ItemInfo[]> {
    return notYet();
  }
  async thumbnail(_datasetId: DatasetId, _index: ItemIndex): Promise<Blob | undefined> {
    return notYet();
  }
  async deleteDataset(_datasetId: DatasetId): Promise<void> {
    return notYet();
  }
  async suggestSettings(_datasetId: DatasetId): Promise<SuggestedSettings> {
    return notYet();
  }
  validateSettings(_settings: RunSettings, _n: number): SettingsProblem[] {
    return notYet();
  }
  async createRun(_datasetId: DatasetId, _settings: RunSettings): Promise<RunInfo> {
    return notYet();
  }
  async start(_runId: RunId): Promise<RunInfo> {
    return notYet();
  }
  async resume(_runId: RunId): Promise<RunInfo> {
    return notYet();
  }
  cancel(_runId?: RunId): void {
    notYet();
  }
  async unfinishedRuns(): Promise<RunInfo[]> {
    return notYet();
  }
  async listRuns(_datasetId?: DatasetId): Promise<RunInfo[]> {
    return notYet();
  }
  async getRun(_runId: RunId): Promise<RunInfo | undefined> {
    return notYet();
  }
  async deleteRun(_runId: RunId): Promise<void> {
    return notYet();
  }
  async resample(
    _runId: RunId,
    _change: Partial<Pick<RunSettings, 'target' | 'leafStrategy' | 'seed'>>,
  ): Promise<RunInfo> {
    return notYet();
  }
  async levels(_runId: RunId): Promise<{ readonly k: readonly number[] }> {
    return notYet();
  }
  async topClusters(_runId: RunId): Promise<ClusterSummary[]> {
    return notYet();
  }
  async cluster(
    _runId: RunId,
    _level: number,
    _id: number,
    _limit?: number,
  ): Promise<ClusterDetail> {
    return notYet();
  }
  async selection(_runId: RunId): Promise<Int32Array> {
    return notYet();
  }
  async itemsForRows(_runId: RunId, _rows: ArrayLike<number>): Promise<ItemInfo[]> {
    return notYet();
  }
  async balance(_runId: RunId): Promise<BalanceReport | null> {
    return notYet();
  }
  async sizeDistribution(_runId: RunId): Promise<SizeDistribution> {
    return notYet();
  }
  async projection(_runId: RunId): Promise<Projection> {
    return notYet();
  }
  async manifest(_runId: RunId, _format: ManifestFormat): Promise<Blob> {
    return notYet();
  }
  async exportName(_runId: RunId, _ext: string): Promise<string> {
    return notYet();
  }
  async zip(
    _runId: RunId,
    _onProgress?: (p: ExportProgress) => void,
  ): Promise<ReadableStream<Uint8Array>> {
    return notYet();
  }
  async writeToFolder(
    _runId: RunId,
    _dir: FileSystemDirectoryHandle,
    _onProgress?: (p: ExportProgress) => void,
    _signal?: AbortSignal,
  ): Promise<void> {
    return notYet();
  }
  async storage(): Promise<StorageInfo> {
    return notYet();
  }
  async persist(): Promise<boolean> {
    return notYet();
  }
  async close(): Promise<void> {
    return notYet();
  }
}
