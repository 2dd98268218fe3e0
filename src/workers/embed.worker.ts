/**
 * The embed worker: exposes EmbedService over Comlink. Rows leave the worker as transferred
 * Float32Arrays (no copy); every other callback is forwarded as it is.
 */
import * as Comlink from 'comlink';
import { EmbedService } from '../embed/embedder';
import type { EmbedApi, EmbedProgress, EmbedRows, EmbedSkip } from './embed-api';

const service = new EmbedService();

const api: EmbedApi = {
  embedFiles(items, opts, onRows, onProgress, onSkip) {
    return service.embedFiles(
      items,
      opts,
      (rows: EmbedRows) => void onRows(Comlink.transfer(rows, [rows.data.buffer])),
      (p: EmbedProgress) => void onProgress(p),
      (s: EmbedSkip) => void onSkip(s),
    );
  },
  cancel: () => service.cancel(),
  probe: (model) => service.probe(model),
  configure: (config) => service.configure(config),
  clearCache: (modelId) => service.clearCache(modelId),
};

Comlink.expose(api);
