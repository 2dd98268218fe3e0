/**
 * Page code of the explorer map benchmark (bench/explore-map.html), driven by
 * bench/run-explore-map.mjs in headless Chromium. For N points of a D-dimensional Gaussian
 * mixture (the runner says which) it measures, the way the app does the work:
 *  - time to first map: the PCA map computed in the projection worker, uploaded and drawn once
 *    (median of 3);
 *  - time to the neighbourhood layout: the UMAP-method layout in the same worker (once per size:
 *    it is the slow one);
 *  - panning: frames drawn in requestAnimationFrame over 3 s while the view moves every frame:
 *    every point, the even sample, and the last full picture moved (what the map shows while
 *    the view moves)
 *    (fps, capped by the display's refresh rate), and the time of one frame measured up to a
 *    one-pixel readback (max_fps = 1000 / that time: what the renderer could do without the cap).
 * One JSON line per measurement through window.benchReport.
 */
import * as Comlink from 'comlink';
import { Rng } from '../src/core/rng.ts';
import { fitView, PointRenderer, type View } from '../src/ui/explore/map-gl.ts';

/** What the map draws while it moves (EmbeddingMap.svelte's MOVING_POINTS). */
const MOVING_POINTS = 25_000;
import { pointColours } from '../src/ui/explore/colours.ts';
import type { ProjectionService } from '../src/workers/projection.worker.ts';

interface Spec {
  readonly sizes: readonly number[];
  readonly dim: number;
  readonly layout: boolean;
}

declare global {
  interface Window {
    benchSpec(): Promise<Spec>;
    benchReport(line: string): Promise<void>;
  }
}

const report = (o: Record<string, unknown>): Promise<void> => window.benchReport(JSON.stringify(o));
const median = (v: number[]): number => v.slice().sort((a, b) => a - b)[Math.floor(v.length / 2)];
const round = (v: number, d = 1): number => Number(v.toFixed(d));

function mixture(n: number, d: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  const centres = Array.from({ length: 50 }, () =>
    Float32Array.from({ length: d }, () => rng.normal()),
  );
  const out = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    const c = centres[rng.int(centres.length)];
    for (let j = 0; j < d; j++) out[i * d + j] = c[j] + 0.35 * rng.normal();
  }
  return out;
}

const frame = (): Promise<number> => new Promise((r) => requestAnimationFrame(r));

async function main(): Promise<void> {
  const spec = await window.benchSpec();
  const canvas = document.getElementById('map') as HTMLCanvasElement;
  const W = 1280;
  const H = 800;
  canvas.width = W;
  canvas.height = H;
  const renderer = new PointRenderer(canvas);
  const gl = canvas.getContext('webgl2') as WebGL2RenderingContext;
  const worker = new Worker(new URL('../src/workers/projection.worker.ts', import.meta.url), {
    type: 'module',
  });
  const service = Comlink.wrap<ProjectionService>(worker);
  for (const n of spec.sizes) {
    const data = mixture(n, spec.dim, 1);
    let pca: { x: Float32Array; y: Float32Array } = {
      x: new Float32Array(0),
      y: new Float32Array(0),
    };
    const firstMap: number[] = [];
    for (let rep = 0; rep < 3; rep++) {
      const t0 = performance.now();
      pca = await service.project(data.slice(), n, spec.dim);
      renderer.setPositions(pca.x, pca.y);
      const sel = new Uint8Array(n);
      for (let i = 0; i < n; i += 7) sel[i] = 1;
      renderer.setColours(
        pointColours({
          facts: {
            clusters: [],
            labels: [],
            labelOfRow: new Int32Array(n).fill(-1),
            selected: sel,
            sampled: sel,
            dist2: new Float32Array(n),
            duplicateGroup: new Int32Array(n).fill(-1),
            setAside: new Uint8Array(n),
          },
          by: 'curated',
          level: 1,
        }),
      );
      renderer.draw(fitView(pca.x, pca.y, W, H), W, H, 1, 2.5);
      gl.finish();
      firstMap.push(performance.now() - t0);
    }
    await report({
      metric: 'first_map_pca_ms',
      n,
      dim: spec.dim,
      ms: round(median(firstMap)),
      runs: firstMap.map((v) => round(v)),
    });

    // Panning: the view moves every frame. Drawn whole, and as the map draws while it moves
    // (an even sample of MOVING_POINTS, EmbeddingMap.svelte); interleaved, rep by rep.
    const fit = fitView(pca.x, pca.y, W, H);
    const pixel = new Uint8Array(4);
    // A limit of -1 stands for the moved picture (drawSnapshot once, then drawMoved per frame).
    const limits = [Infinity, ...(n > MOVING_POINTS ? [MOVING_POINTS, -1] : [])];
    const drawAt = (view: View, limit: number): void => {
      if (limit >= 0) renderer.draw(view, W, H, 1, 2.5, limit);
      else if (!renderer.drawMoved(view, W, H, 1)) throw new Error('no picture to move');
    };
    const fpsByLimit = limits.map(() => [] as number[]);
    const gpuByLimit = limits.map(() => [] as number[]);
    for (let rep = 0; rep < 3; rep++)
      for (const [li, limit] of limits.entries()) {
        const fpsRuns = fpsByLimit[li];
        const gpuMs = gpuByLimit[li];
        let frames = 0;
        if (limit < 0) renderer.drawSnapshot(fit, W, H, 1, 2.5);
        const start = await frame();
        let now = start;
        while (now - start < 3000) {
          const t = (now - start) / 1000;
          const view: View = {
            cx: fit.cx + Math.sin(t * 2) * 200 * fit.unitsPerPx,
            cy: fit.cy + Math.cos(t * 2) * 120 * fit.unitsPerPx,
            unitsPerPx: fit.unitsPerPx / (1 + 0.5 * Math.sin(t)),
          };
          drawAt(view, limit);
          frames++;
          now = await frame();
        }
        fpsRuns.push((frames * 1000) / (now - start));
        const g: number[] = [];
        for (let i = 0; i < 20; i++) {
          const t0 = performance.now();
          drawAt({ ...fit, cx: fit.cx + i * fit.unitsPerPx }, limit);
          // Reading a pixel back waits for the frame to be drawn (gl.finish alone returned in
          // 0.04 ms for 100k points on a software rasteriser: it did not wait).
          gl.readPixels(0, 0, 1, 1, gl.RGBA, gl.UNSIGNED_BYTE, pixel);
          g.push(performance.now() - t0);
        }
        gpuMs.push(median(g));
      }
    for (const [li, limit] of limits.entries()) {
      const fpsRuns = fpsByLimit[li];
      const gpuMs = gpuByLimit[li];
      await report({
        metric: 'pan_fps',
        n,
        drawn: limit < 0 ? 'moved picture' : Math.min(n, limit),
        fps: round(median(fpsRuns)),
        runs: fpsRuns.map((v) => round(v)),
        frame_ms: round(median(gpuMs), 2),
        max_fps: round(1000 / Math.max(1e-3, median(gpuMs))),
        canvas: `${W}x${H}`,
      });
    }

    if (spec.layout) {
      const t0 = performance.now();
      await service.layout(data, n, spec.dim, 1, pca);
      await report({
        metric: 'neighbourhood_layout_ms',
        n,
        dim: spec.dim,
        ms: round(performance.now() - t0),
        runs: 1,
      });
    }
  }
  worker.terminate();
  renderer.dispose();
  await report({ done: true });
}

main().catch((e: unknown) => report({ done: true, error: String(e) }));
