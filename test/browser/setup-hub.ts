/**
 * A stand-in for a model hub, for the browser tests of remote model loading: a Node HTTP server
 * on 127.0.0.1 (a different origin from the test page, so downloads are real cross-origin
 * fetches) that serves the bundled model under Hugging Face's URL layout,
 * /{org}/{repo}/resolve/{revision}/{path}, with the headers such a hub sends (CORS, CORP,
 * Content-Length). Registered as the browser project's globalSetup; tests read its address
 * with inject('hubUrl').
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    hubUrl: string;
  }
}

const MODEL = join(import.meta.dirname, '../../public/models/mobilenet-v2-1.4/model.onnx');

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // Read on first request, not here: a missing model (assets not built) must fail only the
  // tests that download it, not every browser test.
  let files: Record<string, Buffer> | undefined;
  const load = (): Record<string, Buffer> => {
    if (files) return files;
    const model = readFileSync(MODEL);
    // A copy with one flipped byte: same size, wrong sha-256.
    const damaged = Buffer.from(model);
    damaged[damaged.length >> 1] ^= 0xff;
    files = {
      '/strata-test/mobilenet-v2-1.4/resolve/main/onnx/model.onnx': model,
      '/strata-test/damaged/resolve/main/onnx/model.onnx': damaged,
    };
    return files;
  };
  const hits = new Map<string, number>();
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://hub').pathname;
    res.setHeader('Access-Control-Allow-Origin', '*');
    res.setHeader('Cross-Origin-Resource-Policy', 'cross-origin');
    if (path === '/__hits') {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(Object.fromEntries(hits)));
      return;
    }
    hits.set(path, (hits.get(path) ?? 0) + 1);
    let body: Buffer | undefined;
    try {
      body = load()[path];
    } catch {
      res.statusCode = 500;
      res.end('public/models/mobilenet-v2-1.4/model.onnx is missing: run npm run assets');
      return;
    }
    if (!body) {
      res.statusCode = 404;
      res.statusMessage = 'Not Found';
      res.end('Entry not found');
      return;
    }
    res.setHeader('content-type', 'application/octet-stream');
    res.setHeader('content-length', String(body.length));
    // Send in slices so the page sees several progress events, as with a real download.
    let at = 0;
    const step = 512 * 1024;
    const pump = (): void => {
      if (at >= body.length) return void res.end();
      const more = res.write(body.subarray(at, at + step));
      at += step;
      if (more) setImmediate(pump);
      else res.once('drain', pump);
    };
    pump();
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as AddressInfo;
  project.provide('hubUrl', `http://127.0.0.1:${port}`);
  return () => new Promise<void>((ok) => server.close(() => ok()));
}
