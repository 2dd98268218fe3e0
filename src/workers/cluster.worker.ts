/**
 * The cluster worker: exposes ClusterRunner (src/gpu/cluster-runner.ts) over Comlink. It holds no
 * logic of its own; see cluster-api.ts for the surface and how to call it.
 */
import * as Comlink from 'comlink';
import { ClusterRunner } from '../gpu/cluster-runner.ts';
import type { ClusterWorkerApi } from './cluster-api.ts';

const runner: ClusterWorkerApi = new ClusterRunner();
Comlink.expose(runner);
