/**
 * The demo page's worker: exposes DemoService (src/demo/service.ts) over Comlink, so the toys run
 * off the main thread. No logic of its own; the page types it as `Comlink.Remote<DemoService>`
 * and terminates it to cancel a run.
 */
import * as Comlink from 'comlink';
import { DemoService } from '../demo/service';

Comlink.expose(new DemoService());
