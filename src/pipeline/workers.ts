/**
 * The workers a Workspace drives, created on first use and terminated on close. Each exposes one
 * service over Comlink and is typed as `Comlink.Remote` of that service's own class; `closed`
 * rejects every pending call once the Workspace closes (a terminated worker never answers, and a
 * closed tab must not leave promises hanging in a test page).
 */
import * as Comlink from 'comlink';
import { CancelledError } from '../core/errors';
import type { WorkerFactories } from './contract';
import type { ClusterRunner } from '../cluster/service';
import type { EmbedService } from '../embed/service';
import type { IngestService } from '../ingest/service';
import type { ProjectionService } from '../workers/projection.worker';

/** The service each worker exposes. */
interface Services {
  ingest: IngestService;
  embed: EmbedService;
  cluster: ClusterRunner;
  projection: ProjectionService;
}

type Kind = keyof Services;

function defaultFactory(kind: Kind): () => Worker {
  switch (kind) {
    case 'ingest':
      return () =>
        new Worker(new URL('../workers/ingest.worker.ts', import.meta.url), {
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
        new Worker(new URL('../workers/projection.worker.ts', import.meta.url), {
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

  #get<K extends Kind>(kind: K): Comlink.Remote<Services[K]> {
    if (this.#closer.signal.aborted) throw new CancelledError('the workspace is closed');
    // Each entry was wrapped for its own kind below; the map cannot say so in its type.
    let remote = this.#remotes.get(kind) as Comlink.Remote<Services[K]> | undefined;
    if (!remote) {
      const k: Kind = kind; // a plain Kind narrows; the type parameter does not
      const make = (k !== 'projection' ? this.#factories[k] : undefined) ?? defaultFactory(k);
      const worker = make();
      this.#workers.set(kind, worker);
      remote = Comlink.wrap<Services[K]>(worker);
      this.#remotes.set(kind, remote);
    }
    return remote;
  }

  ingest(): Comlink.Remote<IngestService> {
    return this.#get('ingest');
  }
  embed(): Comlink.Remote<EmbedService> {
    return this.#get('embed');
  }
  cluster(): Comlink.Remote<ClusterRunner> {
    return this.#get('cluster');
  }
  projection(): Comlink.Remote<ProjectionService> {
    return this.#get('projection');
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
