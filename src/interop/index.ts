/**
 * Interop with the reference distributed pipeline, the browser-safe part (no DOM, no Node
 * built-ins): what the page's "export distributed job" and "import reference output" use.
 * The Node side (disk) is in node-files.ts; the commands are in src/cli.
 */
export * from './config.ts';
export * from './overview.ts';
export * from './files.ts';
export * from './import.ts';
export * from './job-bundle.ts';
export { PickleError, DEFAULT_PICKLE_LIMITS, type PickleLimits } from './pickle.ts';
export * from './reference-layout.ts';
export * from './sorted-clusters.ts';
