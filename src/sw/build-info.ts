/**
 * What the build tells the service worker (written into sw.js by vite-plugin.ts): the files to
 * keep for offline use and the security headers to add. Shared by the plugin and the worker.
 */
export interface SwFile {
  /** path relative to the app's folder (the worker's scope), e.g. "assets/index-3f2a.js" */
  readonly url: string;
  /** short content hash: a file whose rev did not change is reused from the previous cache */
  readonly rev: string;
  readonly bytes: number;
  /** needed to start the app (cached before the worker takes over); the rest follows after */
  readonly shell: boolean;
}

export interface SwBuild {
  /** hash over every file's rev: names the cache, and changes sw.js so browsers update it */
  readonly version: string;
  readonly files: readonly SwFile[];
  /** Content-Security-Policy for documents and workers (a meta tag does not reach workers) */
  readonly csp: string;
}
