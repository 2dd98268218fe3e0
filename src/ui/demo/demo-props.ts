/** The props every demo on the demo page takes from it. */
import type { DemoBackendChoice } from '../../demo/service';
import type { DemoSelection } from '../share';
import type { WorkerFactory } from './runners.svelte';

export interface DemoProps {
  /** the demo's settings, as held in the page's address */
  selection: DemoSelection;
  onchange: (next: DemoSelection) => void;
  backend: DemoBackendChoice;
  /** where the demo's workers come from (tests pass their own) */
  workerFactory?: WorkerFactory;
}
