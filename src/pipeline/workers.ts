/**
 * The workers a Workspace drives, created on first use and terminated on close. Each exposes one
 * service over Comlink and is typed as `Comlink.Remote` of that service's own class; `closed`
 * rejects every pending call once the Workspace closes (a terminated worker never answers, and a
 * closed tab must not leave promises hanging in a test page). A worker terminated while its
 * calls are pending (by anyone) rejects them with WorkerStoppedError, and the next call starts
 * a fresh worker: the run fails with a clear message instead of waiting forever, and resumes.
 */
import * as Comlink from 'comlink';
import { CancelledError } from '../core/errors';
import { WorkerStoppedError } from './errors';
import type { WorkerFactories } from './contract';
import type { ClusterRunner } from '../cluster/service';
import type { EmbedService } from '../embed/service';
import type { IngestService } from '../ingest/service';
import type { InteropService } from '../interop/service';
import type { ProjectionService } from '../workers/projection.worker';

/** The service each worker exposes. */
interface Services {
  ingest: IngestService;
  embed: EmbedService;
  cluster: ClusterRunner;
  projection: ProjectionService;
  interop: InteropService;
}

type Kind = keyof Services;

/** Worker names in messages people read. */
const LABELS: Record<Kind, string> = {
  ingest: 'file-reading',
  embed: 'embedding',
  cluster: 'clustering',
  projection: 'projection',
  interop: 'reference-import',
};

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
    case 'interop':
      return () =>
        new Worker(new URL('../workers/interop.worker.ts', import.meta.url), {
          type: 'module',
          name: 'strata-interop',
        });
  }
}

export class WorkerPool {
  readonly #factories: WorkerFactories;
  readonly #workers = new Map<Kind, Worker>();
  readonly #remotes = new Map<Kind, unknown>();
  /** aborted when that kind's current worker is terminated (then forgotten) */
  readonly #stopped = new Map<Kind, AbortController>();
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
      const make =
        (k !== 'projection' && k !== 'interop' ? this.#factories[k] : undefined) ??
        defaultFactory(k);
      const worker = make();
      this.#workers.set(kind, worker);
      const stopped = new AbortController();
      this.#stopped.set(kind, stopped);
      // A terminated worker never answers: whoever terminates it (close, a test, a watchdog),
      // its pending calls must end, and the next call must get a new worker.
      const terminate = worker.terminate.bind(worker);
      worker.terminate = () => {
        terminate();
        if (this.#workers.get(kind) === worker) {
          this.#workers.delete(kind);
          this.#remotes.delete(kind);
          this.#stopped.delete(kind);
        }
        stopped.abort();
      };
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
  interop(): Comlink.Remote<InteropService> {
    return this.#get('interop');
  }

  /**
   * Race a worker call against close() (AbortError) and, given the worker's kind, against that
   * worker being terminated (WorkerStoppedError).
   */
  guard<T>(p: Promise<T>, kind?: Kind): Promise<T> {
    const signal = this.#closer.signal;
    if (signal.aborted) return Promise.reject(new CancelledError('the workspace closed'));
    const stopped = kind ? this.#stopped.get(kind)?.signal : undefined;
    return new Promise<T>((resolve, reject) => {
      const onAbort = (): void => reject(new CancelledError('the workspace closed'));
      const onStop = (): void => {
        // close() terminates every worker too: that is a closed workspace, not a stopped worker.
        if (signal.aborted) return;
        reject(new WorkerStoppedError(`The ${LABELS[kind!]} worker stopped before it finished.`));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      stopped?.addEventListener('abort', onStop, { once: true });
      const done = (): void => {
        signal.removeEventListener('abort', onAbort);
        stopped?.removeEventListener('abort', onStop);
      };
      p.then(
        (v) => {
          done();
          resolve(v);
        },
        (e: unknown) => {
          done();
          reject(e);
        },
      );
    });
  }

  close(): void {
    this.#closer.abort();
    for (const w of [...this.#workers.values()]) w.terminate();
    this.#workers.clear();
    this.#remotes.clear();
    this.#stopped.clear();
  }
}
