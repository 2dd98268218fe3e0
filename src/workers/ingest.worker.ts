/**
 * The ingest worker: exposes IngestService (src/ingest/service.ts) over Comlink. No logic of its
 * own; callers type it as `Comlink.Remote<IngestService>`.
 */
import * as Comlink from 'comlink';
import { IngestService } from '../ingest/service';

Comlink.expose(new IngestService());
