/**
 * The worker of `npm run bench:embed` (not part of the app): exposes one EmbedBench
 * (src/embed/bench.ts) over Comlink. No logic of its own; the bench page types it as
 * `Comlink.Remote<EmbedBench>`.
 */
import * as Comlink from 'comlink';
import { EmbedBench } from '../embed/bench';

Comlink.expose(new EmbedBench());
