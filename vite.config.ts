import { defineConfig } from 'vitest/config';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { playwright } from '@vitest/browser-playwright';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from './test/chromium.ts';
import { strataServiceWorker } from './src/sw/vite-plugin.ts';
import { strataCurate } from './test/browser/strata-cli-command.ts';

/** Cross-origin isolation: SharedArrayBuffer for multi-threaded wasm (ORT and the CPU k-means). */
const isolation = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

export default defineConfig({
  // Relative base: the built folder works from any static host and any sub-path.
  base: './',
  // The service worker (sw.js: offline + cross-origin isolation on any host) and the CSP: builds only.
  plugins: [svelte(), strataServiceWorker()],
  worker: { format: 'es' },
  server: { headers: isolation },
  preview: { headers: isolation },
  optimizeDeps: { exclude: ['onnxruntime-web'] },
  build: { target: 'es2022', chunkSizeWarningLimit: 2048 },
  test: {
    // The hostile-input report (test/hostile/) prints its case lines and totals after the run.
    reporters: ['default', './test/hostile/reporter.ts'],
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          environment: 'node',
          testTimeout: 60_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'browser',
          include: ['test/browser/**/*.test.ts'],
          // A hub-like HTTP server on another origin for the remote model-loading tests.
          globalSetup: ['test/browser/setup-hub.ts'],
          testTimeout: 120_000,
          browser: {
            enabled: true,
            headless: true,
            screenshotFailures: false,
            provider: playwright({
              launchOptions: { executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS },
            }),
            instances: [{ browser: 'chromium' }],
            // The command line in Node, for tests that hold the app against it.
            commands: { strataCurate },
          },
        },
      },
      {
        extends: true,
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          environment: 'node',
          testTimeout: 300_000,
          hookTimeout: 300_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
