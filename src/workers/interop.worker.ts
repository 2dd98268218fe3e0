/**
 * The interop worker: exposes InteropService (src/interop/service.ts) over Comlink. No logic of
 * its own; callers type it as `Comlink.Remote<InteropService>`.
 */
import * as Comlink from 'comlink';
import { InteropService } from '../interop/service';

Comlink.expose(new InteropService());
