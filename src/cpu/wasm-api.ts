/**
 * The slice of the WebAssembly JS API the CPU kernel uses, typed here because the Node-side
 * program (tsconfig.node.json: lib ES2023 + @types/node) declares no `WebAssembly` global while
 * the browser lib does. Narrow local types let the same files type-check in both programs.
 */

declare const moduleBrand: unique symbol;

/** A compiled module: cloneable to workers, instantiated once per thread. */
export interface WasmModule {
  readonly [moduleBrand]: true;
}

export interface WasmMemory {
  /** An ArrayBuffer, or a SharedArrayBuffer for a shared memory; re-read after every grow. */
  readonly buffer: ArrayBufferLike;
  grow(deltaPages: number): number;
}

export interface WasmInstance {
  readonly exports: Record<string, unknown>;
}

type Bytes = ArrayBuffer | ArrayBufferView<ArrayBuffer>;

interface WasmNamespace {
  readonly Memory: new (descriptor: {
    initial: number;
    maximum?: number;
    shared?: boolean;
  }) => WasmMemory;
  readonly Module: new (bytes: Bytes) => WasmModule;
  readonly Instance: new (
    module: WasmModule,
    imports: Record<string, Record<string, unknown>>,
  ) => WasmInstance;
  compile(bytes: Bytes): Promise<WasmModule>;
  validate(bytes: Bytes): boolean;
}

/** The engine's WebAssembly object, or undefined where there is none. */
export function webAssembly(): WasmNamespace | undefined {
  return (globalThis as unknown as { WebAssembly?: WasmNamespace }).WebAssembly;
}

/** One wasm page. */
export const PAGE_BYTES = 65536;

/** What the kernel module exports (see wasm/kernel-wat.ts for the meaning of each argument). */
export interface KernelExports {
  rows(): number;
  assign(
    xp: number,
    d4: number,
    rb0: number,
    rb1: number,
    cp: number,
    c2p: number,
    kb: number,
    labels: number,
    dist: number,
    state: number,
    kc: number,
  ): void;
  norms4(cp: number, mb: number, d4: number, out: number): void;
  distTo(
    xp: number,
    d4: number,
    rb0: number,
    rb1: number,
    cp: number,
    c2p: number,
    mb: number,
    out: number,
    stride: number,
  ): void;
}

/** Instantiates the kernel over `memory` (imported as env.memory) on the calling thread. */
export function instantiateKernel(module: WasmModule, memory: WasmMemory): KernelExports {
  const wasm = webAssembly();
  if (!wasm) throw new Error('this JavaScript engine has no WebAssembly');
  const { exports } = new wasm.Instance(module, { env: { memory } });
  for (const name of ['rows', 'assign', 'norms4', 'distTo']) {
    if (typeof exports[name] !== 'function') {
      throw new Error(`the k-means wasm module lacks the export "${name}" (stale build?)`);
    }
  }
  return exports as unknown as KernelExports;
}
