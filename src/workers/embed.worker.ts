/**
 * The embed worker: exposes EmbedService (src/embed/service.ts) over Comlink, so decoding and the
 * model run off the page's main thread. No logic of its own; callers type it as
 * `Comlink.Remote<EmbedService>` and pass callbacks through `Comlink.proxy`.
 */
import * as Comlink from 'comlink';
import { EmbedService } from '../embed/service';

Comlink.expose(new EmbedService());
