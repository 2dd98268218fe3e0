/**
 * An embedding lane worker: exposes one EmbedLane (src/embed/lane.ts) over Comlink. Started by
 * the embed service (src/embed/lanes.ts), one per lane; no logic of its own.
 */
import * as Comlink from 'comlink';
import { EmbedLane } from '../embed/lane';

Comlink.expose(new EmbedLane());
