/**
 * The workers a Workspace drives, created on first use and terminated on close. Each is used
 * through Comlink; `closed` rejects every pending call once the Workspace closes (a terminated
 * worker never answers, and a closed tab must not leave promises hanging in a test page).
 */
import * as Comlink from 'comlink';
import { CancelledError } from '../core/errors';
import type { WorkerFactories } from './contract';
import type { IngestWorkerApi } from '../ingest/ingest.worker';
import type { EmbedApi } from '../workers/embed-api';
import type { ProjectionWorkerApi } from '../explore/projection.worker';

type Kind = 'ingest' | 'embed' | 'cluster' | 'projection';

function defaultFactory(kind: Kind): () => Worker {
  switch (kind) {
    case 'ingest':
      return () =>
        new Worker(new URL('../ingest/ingest.worker.ts', import.meta.url), {
          type: 'module',
          name: 'strata-ingest',
        });
    case 'embed':
      return () =>
        new Worker(new URL('../workers/embed.worker.ts', import.meta.url), {
          type: 'module',
          name: 'strata-embed',
        });
    case 'cluster':
      return () =>
        new Worker(new URL('../workers/cluster.worker.ts', import.meta.url), {
          type: 'module',
          name: 'strata-cluster',
        });
    case 'projection':
      return () =>
        new Worker(new URL('../explore/projection.worker.ts', import.meta.url), {
          type: 'module',
          name: 'strata-projection',
        });
  }
}

export class WorkerPool {
  readonly #factories: WorkerFactories;
  readonly #workers = new Map<Kind, Worker>();
  readonly #remotes = new Map<Kind, unknown>();
  readonly #closer = new AbortController();

  constructor(factories: WorkerFactories = {}) {
    this.#factories = factories;
  }

  /** Aborted when the pool is closed. */
  get closed(): AbortSignal {
    return this.#closer.signal;
  }

  #get<T>(kind: Kind): Comlink.Remote<T> {
    if (this.#closer.signal.aborted) throw new CancelledError('the workspace is closed');
    let remote = this.#remotes.get(kind) as Comlink.Remote<T> | undefined;
    if (!remote) {
      const make =
        (kind !== 'projection' ? this.#factories[kind] : undefined) ?? defaultFactory(kind);
      const worker = make();
      this.#workers.set(kind, worker);
      remote = Comlink.wrap<T>(worker);
      this.#remotes.set(kind, remote);
    }
    return remote;
  }

  ingest(): Comlink.Remote<IngestWorkerApi> {
    return this.#get<IngestWorkerApi>('ingest');
  }
  embed(): Comlink.Remote<EmbedApi> {
    return this.#get<EmbedApi>('embed');
  }
  cluster<T>(): Comlink.Remote<T> {
    return this.#get<T>('cluster');
  }
  projection(): Comlink.Remote<ProjectionWorkerApi> {
    return this.#get<ProjectionWorkerApi>('projection');
  }

  /** Terminate one worker (after a failure that may have left it in a bad state). */
  reset(kind: Kind): void {
    this.#workers.get(kind)?.terminate();
    this.#workers.delete(kind);
    this.#remotes.delete(kind);
  }

  /** Race a worker call against close(): rejects with AbortError when the pool closes first. */
  guard<T>(p: Promise<T>): Promise<T> {
    const signal = this.#closer.signal;
    if (signal.aborted) return Promise.reject(new CancelledError('the workspace closed'));
    return new Promise<T>((resolve, reject) => {
      const onAbort = (): void => reject(new CancelledError('the workspace closed'));
      signal.addEventListener('abort', onAbort, { once: true });
      p.then(
        (v) => {
          signal.removeEventListener('abort', onAbort);
          resolve(v);
        },
        (e: unknown) => {
          signal.removeEventListener('abort', onAbort);
          reject(e);
        },
      );
    });
  }

  close(): void {
    this.#closer.abort();
    for (const w of this.#workers.values()) w.terminate();
    this.#workers.clear();
    this.#remotes.clear();
  }
}
