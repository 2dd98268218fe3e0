/**
 * The cluster worker: exposes ClusterRunner (src/cluster/service.ts) over Comlink, so k-means
 * never runs on the page's main thread. No logic of its own; callers type it as
 * `Comlink.Remote<ClusterRunner>`.
 */
import * as Comlink from 'comlink';
import { ClusterRunner } from '../cluster/service.ts';

Comlink.expose(new ClusterRunner());
