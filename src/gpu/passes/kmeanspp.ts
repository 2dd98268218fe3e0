/**
 * The k-means++ scoring pass: for a batch of up to 16 candidate centres, every row's new D^2 and
 * the candidates' potentials. Two shaders (their headers explain the choice):
 * shaders/kmeanspp-rows.wgsl writes each candidate's D^2 row for the CPU to sum (small inputs),
 * shaders/kmeanspp.wgsl sums on the GPU (large inputs). A KppScorer holds one run's buffers and
 * encodes the scoring; the greedy draw around it is in src/gpu/seeding.ts.
 */
import kmeansppRowsSrc from '../../../shaders/kmeanspp-rows.wgsl?raw';
import kmeansppSrc from '../../../shaders/kmeanspp.wgsl?raw';
import { COPY_DST, type GpuRows, UNIFORM } from '../buffers.ts';
import type { CallScope } from '../call-scope.ts';
import { Kernel, bindGroupLayout, shaderSpec } from '../kernel.ts';
import { withErrorScopes } from '../pipelines.ts';
import { KPP_ROWS_PER_GROUP, ROW_WORKGROUP } from '../tuning.ts';
import { uniformLayout, writeUniform } from '../uniforms.ts';

/** Candidates one dispatch scores (four mat4x4 / vec4 accumulators in the WGSL). */
export const KPP_MAX_CANDIDATES = 16;

export const KMEANSPP_SHADER = shaderSpec({
  file: 'kmeanspp.wgsl',
  code: kmeansppSrc,
  params: uniformLayout([
    ['rows', 'u32'],
    ['rowBase', 'u32'],
    ['d4', 'u32'],
    ['nc', 'u32'],
    ['fresh', 'u32'],
    ['store', 'u32'],
    ['update', 'u32'],
    ['blockBase', 'u32'],
    ['blocks', 'u32'],
    ['candBase', 'u32'],
    ['n', 'u32'],
    ['groupsX', 'u32'],
  ]),
  bindings: [
    ['p', 'uniform'],
    ['x', 'read-only-storage'],
    ['cand', 'read-only-storage'],
    ['d2', 'storage'],
    ['partials', 'storage'],
    ['newD2', 'storage'],
  ],
});

export const KMEANSPP_ROWS_SHADER = shaderSpec({
  file: 'kmeanspp-rows.wgsl',
  code: kmeansppRowsSrc,
  params: uniformLayout([
    ['rows', 'u32'],
    ['rowBase', 'u32'],
    ['d4', 'u32'],
    ['nc', 'u32'],
    ['fresh', 'u32'],
    ['candBase', 'u32'],
    ['n', 'u32'],
    ['groupsX', 'u32'],
  ]),
  bindings: [
    ['p', 'uniform'],
    ['x', 'read-only-storage'],
    ['xnorm', 'read-only-storage'],
    ['cand', 'read-only-storage'],
    ['cnorm', 'read-only-storage'],
    ['d2', 'read-only-storage'],
    ['newD2', 'storage'],
  ],
});

type SummedBinding = (typeof KMEANSPP_SHADER.bindings)[number][0];
type RowsBinding = (typeof KMEANSPP_ROWS_SHADER.bindings)[number][0];

/** How one k-means++ run scores (chosen from the sizes, see seeding.ts). */
export interface KppMode {
  /** every candidate's D^2 row is written to newD2 (they fit one binding) */
  readonly store: boolean;
  /** ... and read back for the CPU to sum (kmeanspp-rows.wgsl); else the GPU sums */
  readonly readAll: boolean;
}

export class KmeansppPass {
  private constructor(
    private readonly summed: Kernel<SummedBinding>,
    /** rows[g - 1] scores up to 4g candidates; all four share one bind group layout */
    private readonly rows: readonly Kernel<RowsBinding>[],
  ) {}

  static async compile(device: GPUDevice): Promise<KmeansppPass> {
    const rowsLayout = await withErrorScopes(device, 'the bind group layout of kmeanspp-rows', () =>
      bindGroupLayout(device, KMEANSPP_ROWS_SHADER, 'kmeanspp-rows'),
    );
    const [summed, rows] = await Promise.all([
      Kernel.compile(device, KMEANSPP_SHADER, 'kmeanspp'),
      Promise.all(
        [1, 2, 3, 4].map((g) =>
          Kernel.compile(
            device,
            KMEANSPP_ROWS_SHADER,
            `kmeanspp-rows-${g}`,
            'main',
            { WG: ROW_WORKGROUP, NCG: g },
            rowsLayout,
          ),
        ),
      ),
    ]);
    return new KmeansppPass(summed, rows);
  }

  /** The buffers and encoders of one k-means++ run over the n rows of `rows`. */
  scorer(
    scope: CallScope,
    rows: GpuRows,
    xnorm: GPUBuffer,
    trials: number,
    mode: KppMode,
    sync: <T>(p: Promise<T>) => Promise<T>,
  ): KppScorer {
    const kernels = { summed: this.summed, rows: this.rows };
    return new KppScorer(kernels, scope, rows, xnorm, trials, mode, sync);
  }
}

interface KppKernels {
  readonly summed: Kernel<SummedBinding>;
  readonly rows: readonly Kernel<RowsBinding>[];
}

/**
 * One run's scoring state: D^2 (`d2`), the candidates' D^2 rows (`newD2`, when stored), the
 * partial sums, the candidate rows and their norms, staging for read-back, and one uniform
 * buffer per (batch, chunk) slot. Every buffer belongs to the call's scope.
 */
export class KppScorer {
  readonly n: number;
  /** D^2 of every row to the centres chosen so far */
  readonly d2: GPUBuffer;
  /** the candidates' new D^2 rows, candidate t at t * n (when mode.store) */
  readonly newD2: GPUBuffer;
  /** read-back of one D^2 row, or of all candidates' rows when mode.readAll */
  readonly stageRows: GPUBuffer;
  private readonly dev: GPUDevice;
  private readonly blocksPer: number[];
  /** partial sums per candidate over all chunks (GPU-summed path) */
  private readonly blocks: number;
  private readonly partials: GPUBuffer;
  private readonly cand: GPUBuffer;
  private readonly candNorm: GPUBuffer;
  private readonly stageP: GPUBuffer;
  private readonly params: GPUBuffer[];
  private readonly binds: GPUBindGroup[];
  /** kmeanspp-rows variants by groups of 4 candidates, or the one GPU-summing pipeline */
  private readonly pipelines: GPUComputePipeline[];
  private readonly candRows: Float32Array;
  private readonly candNorms: Float32Array;

  constructor(
    k: KppKernels,
    private readonly scope: CallScope,
    private readonly rows: GpuRows,
    xnorm: GPUBuffer,
    trials: number,
    private readonly mode: KppMode,
    private readonly sync: <T>(p: Promise<T>) => Promise<T>,
  ) {
    const dev = scope.device;
    const n = rows.rows;
    const chunks = rows.chunks;
    const stride = rows.d4 * 4;
    const rowsBytes = trials * n * 4;
    this.dev = dev;
    this.n = n;
    this.blocksPer = chunks.map((c) => Math.ceil(c.rows / KPP_ROWS_PER_GROUP));
    this.blocks = this.blocksPer.reduce((a, b) => a + b, 0);
    this.d2 = scope.storage(n * 4, 'kpp D2');
    this.newD2 = scope.storage(mode.store ? rowsBytes : 16, 'kpp candidate D2 rows');
    this.partials = scope.storage(KPP_MAX_CANDIDATES * this.blocks * 4, 'kpp partials');
    this.cand = scope.storage(KPP_MAX_CANDIDATES * stride * 4, 'kpp candidates');
    this.candNorm = scope.storage(KPP_MAX_CANDIDATES * 4, 'kpp candidate norms');
    this.stageRows = scope.staging(mode.readAll ? rowsBytes : n * 4, 'kpp D2 staging');
    this.stageP = scope.staging(trials * this.blocks * 4, 'kpp partials staging');
    const slots = Math.ceil(trials / KPP_MAX_CANDIDATES) * chunks.length;
    const size = Math.max(
      KMEANSPP_SHADER.params.bufferSize,
      KMEANSPP_ROWS_SHADER.params.bufferSize,
    );
    this.params = Array.from({ length: slots }, () =>
      scope.own(dev.createBuffer({ label: 'kpp params', size, usage: UNIFORM | COPY_DST })),
    );
    // The four kmeanspp-rows pipelines share one layout, so one set of bind groups serves all.
    this.binds = this.params.map((p, i) => {
      const x = chunks[i % chunks.length].buffer;
      const { d2, newD2, cand } = this;
      return mode.readAll
        ? k.rows[0].bind(dev, { p, x, xnorm, cand, cnorm: this.candNorm, d2, newD2 }, 'kpp')
        : k.summed.bind(dev, { p, x, cand, d2, partials: this.partials, newD2 }, 'kpp');
    });
    this.pipelines = mode.readAll ? k.rows.map((r) => r.pipeline) : [k.summed.pipeline];
    this.candRows = new Float32Array(KPP_MAX_CANDIDATES * stride);
    this.candNorms = new Float32Array(KPP_MAX_CANDIDATES);
  }

  /** Uploads candidates idx[from .. from + count) of `data` (rows of `cols`) and their norms. */
  private setCandidates(
    data: Float32Array,
    cols: number,
    idx: ArrayLike<number>,
    from: number,
    count: number,
  ): void {
    const stride = this.rows.d4 * 4;
    this.candRows.fill(0);
    this.candNorms.fill(0);
    for (let t = 0; t < count; t++) {
      const i = idx[from + t];
      let s = 0;
      for (let j = i * cols; j < (i + 1) * cols; j++) s += data[j] * data[j];
      this.candNorms[t] = s;
      this.candRows.set(data.subarray(i * cols, i * cols + cols), t * stride);
    }
    this.dev.queue.writeBuffer(this.cand, 0, this.candRows);
    this.dev.queue.writeBuffer(this.candNorm, 0, this.candNorms);
  }

  /**
   * Scores candidates idx[0..count) (rows of `data`) against D^2, or against nothing when
   * `fresh`: one pass per batch of 16 over all chunks; `update` folds candidate 0 into D^2 in
   * place (the GPU-summed path when rows are not stored). Candidate rows are uploaded per batch,
   * so each batch after the first starts a new submit. Returns the encoder to continue with.
   */
  score(
    enc: GPUCommandEncoder,
    data: Float32Array,
    idx: ArrayLike<number>,
    count: number,
    fresh: boolean,
    update: boolean,
  ): GPUCommandEncoder {
    const { dev, rows, mode, blocks } = this;
    const chunks = rows.chunks;
    let e = enc;
    for (let bt = 0; bt < Math.ceil(count / KPP_MAX_CANDIDATES); bt++) {
      const t0 = bt * KPP_MAX_CANDIDATES;
      const nc = Math.min(KPP_MAX_CANDIDATES, count - t0);
      if (bt > 0) {
        dev.queue.submit([e.finish()]);
        e = dev.createCommandEncoder({ label: 'kpp' });
      }
      this.setCandidates(data, rows.cols, idx, t0, nc);
      const pass = e.beginComputePass({ label: 'kpp' });
      pass.setPipeline(mode.readAll ? this.pipelines[Math.ceil(nc / 4) - 1] : this.pipelines[0]);
      let blockBase = 0;
      chunks.forEach((c, i) => {
        const slot = bt * chunks.length + i;
        const g = this.scope.grid(
          mode.readAll ? Math.ceil(c.rows / (ROW_WORKGROUP * 4)) : this.blocksPer[i],
        );
        const common = { rows: c.rows, rowBase: c.rowStart, d4: rows.d4, nc, candBase: t0 };
        const f = fresh ? 1 : 0;
        if (mode.readAll) {
          writeUniform(dev.queue, this.params[slot], KMEANSPP_ROWS_SHADER.params, {
            ...common,
            fresh: f,
            n: this.n,
            groupsX: g.x,
          });
        } else {
          writeUniform(dev.queue, this.params[slot], KMEANSPP_SHADER.params, {
            ...common,
            fresh: f,
            store: mode.store ? 1 : 0,
            update: update ? 1 : 0,
            blockBase,
            blocks,
            n: this.n,
            groupsX: g.x,
          });
        }
        pass.setBindGroup(0, this.binds[slot]);
        pass.dispatchWorkgroups(g.x, g.y);
        blockBase += this.blocksPer[i];
      });
      pass.end();
      // GPU-summed potentials of this batch -> staging rows [t0, t0 + nc)
      if (!mode.readAll) {
        e.copyBufferToBuffer(this.partials, 0, this.stageP, t0 * blocks * 4, nc * blocks * 4);
      }
    }
    return e;
  }

  /** The GPU-summed potentials of the first `count` staged candidates, finished in float64. */
  async gpuPotentials(count: number, out: Float64Array): Promise<void> {
    const { blocks, stageP } = this;
    await this.sync(stageP.mapAsync(GPUMapMode.READ, 0, count * blocks * 4));
    const p = new Float32Array(stageP.getMappedRange(0, count * blocks * 4));
    for (let t = 0; t < count; t++) {
      let s = 0;
      for (let b = 0; b < blocks; b++) s += p[t * blocks + b];
      out[t] = s;
    }
    stageP.unmap();
  }

  /** pot <- staged row 0 (as float64, like the CPU's potential array). */
  async readRow(pot: Float64Array): Promise<void> {
    const n = this.n;
    await this.sync(this.stageRows.mapAsync(GPUMapMode.READ, 0, n * 4));
    const v = new Float32Array(this.stageRows.getMappedRange(0, n * 4));
    for (let i = 0; i < n; i++) pot[i] = v[i];
    this.stageRows.unmap();
  }

  /**
   * Maps the first `bytes` of the staged rows, hands them to `use`, unmaps. (`use` must not
   * keep the array: it is detached on unmap.)
   */
  async withStagedRows(bytes: number, use: (rows: Float32Array) => void): Promise<void> {
    await this.sync(this.stageRows.mapAsync(GPUMapMode.READ, 0, bytes));
    use(new Float32Array(this.stageRows.getMappedRange(0, bytes)));
    this.stageRows.unmap();
  }
}
