/** The run-time estimate of the settings page: the core's cost at the measured throughput. */
import { describe, expect, it } from 'vitest';
import { DEFAULT_FLOPS_PER_SECOND, estimateFlops, hierarchyConfig } from '../../src/core';
import type { RunSettings } from '../../src/pipeline/contract';
import { estimateEmbedSeconds, estimateRun } from '../../src/ui/curate/estimate';

const SETTINGS: RunSettings = {
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

describe('estimateRun', () => {
  it("uses the core's default throughput when none was measured", () => {
    const e = estimateRun(SETTINGS, 10_000, 64, true);
    const flops = estimateFlops(10_000, 64, hierarchyConfig(SETTINGS));
    expect(e.cluster).toBeCloseTo(flops / DEFAULT_FLOPS_PER_SECOND, 9);
    expect(e).toMatchObject({ embed: 0, total: e.cluster });
  });

  it('uses the measured throughput when the suggestion carries one', () => {
    const slow = estimateRun(SETTINGS, 10_000, 64, false);
    const fast = estimateRun(SETTINGS, 10_000, 64, false, {
      assign: 4 * DEFAULT_FLOPS_PER_SECOND,
      init: 4 * DEFAULT_FLOPS_PER_SECOND,
    });
    expect(fast.cluster).toBeCloseTo(slow.cluster / 4, 9);
    expect(fast.embed).toBe(estimateEmbedSeconds(10_000));
  });
});
