/**
 * Files of a bundle or layout, produced chunk by chunk so that nothing large is built in memory.
 * The same list feeds a zip writer or a folder picker in the page (via `toReadableStream`) and
 * plain files in Node (src/interop/node-files.ts). Pure: no DOM, no Node built-ins.
 */

export interface BundleFile {
  /** path inside the bundle, '/'-separated, no leading slash */
  readonly path: string;
  /** exact size in bytes, known before streaming (zip headers, progress) */
  readonly size: number;
  /** the content, in order; call once (a streamed source may not be replayable) */
  content(): AsyncIterable<Uint8Array>;
}

/** A small file whose bytes are already in memory. */
export function bytesFile(path: string, bytes: Uint8Array): BundleFile {
  return {
    path,
    size: bytes.length,
    async *content() {
      yield bytes;
    },
  };
}

/** A UTF-8 text file. */
export function textFile(path: string, text: string): BundleFile {
  return bytesFile(path, new TextEncoder().encode(text));
}

/** A web ReadableStream over a file's chunks (client-zip, Response, FileSystemWritableFileStream). */
export function toReadableStream(file: BundleFile): ReadableStream<Uint8Array> {
  const it = file.content()[Symbol.asyncIterator]();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { value, done } = await it.next();
        if (done) controller.close();
        else controller.enqueue(value);
      } catch (e) {
        controller.error(e);
      }
    },
    async cancel(reason) {
      await it.return?.(reason);
    },
  });
}

/** All of a file's bytes (for tests and small files). */
export async function collectBytes(file: BundleFile): Promise<Uint8Array> {
  const out = new Uint8Array(file.size);
  let w = 0;
  for await (const chunk of file.content()) {
    if (w + chunk.length > out.length) {
      throw new Error(`${file.path}: content is longer than its declared ${file.size} bytes`);
    }
    out.set(chunk, w);
    w += chunk.length;
  }
  if (w !== out.length) {
    throw new Error(`${file.path}: content is ${w} bytes, declared ${file.size}`);
  }
  return out;
}
