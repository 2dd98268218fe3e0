/**
 * What the scale bench watches inside the app's page, installed before any of the app's code
 * runs (page.addInitScript; scale/app.ts transpiles this file with TypeScript): every long
 * main-thread task (PerformanceObserver 'longtask', buffered), the peak of the main thread's JS
 * heap (performance.memory, sampled every 250 ms; Chromium gives exact figures with
 * --enable-precise-memory-info), and helpers the driver calls afterwards: the storage estimate,
 * bytes per object store of every IndexedDB database, and the newest run record.
 * It only reads; it changes nothing the app stores.
 */
export {};

interface LongTask {
  /** performance.now() milliseconds */
  readonly start: number;
  readonly duration: number;
  /**
   * epoch milliseconds of the start, taken from Date.now() when the entry is reported: the
   * run record's stage times are Date.now() values, and performance.timeOrigin + start drifted
   * from them by about 20 s over a 40-minute run here
   */
  readonly at: number;
}

interface StoreSize {
  readonly db: string;
  readonly store: string;
  readonly records: number;
  /** estimated from the first SAMPLE (200) records: blobs by size, typed arrays by bytes, the rest as JSON */
  readonly bytes: number;
  readonly blobBytes: number;
}

interface ScaleProbe {
  readonly longTasks: LongTask[];
  heapPeak: number;
  estimate(): Promise<{ usage: number | null; details: Record<string, number> | null }>;
  storeSizes(): Promise<StoreSize[]>;
  latestRun(): Promise<unknown>;
}

declare global {
  interface Window {
    __scale: ScaleProbe;
  }
  interface Performance {
    readonly memory?: { readonly usedJSHeapSize: number };
  }
}

/**
 * Records read per store to estimate its size; the rest are counted. 200 chunks of a 1M x 384
 * dataset are 77 MiB read through the main thread; 2,000 would be 770 MiB.
 */
const SAMPLE = 200;

function request<T>(r: IDBRequest<T>): Promise<T> {
  return new Promise((ok, fail) => {
    r.onsuccess = () => ok(r.result);
    r.onerror = () => fail(r.error);
  });
}

/** Bytes a stored value takes, roughly: what dominates is blobs and typed arrays. */
function sizeOf(v: unknown, blobs: { bytes: number }): number {
  if (v instanceof Blob) {
    blobs.bytes += v.size;
    return v.size;
  }
  if (ArrayBuffer.isView(v)) return v.byteLength;
  if (v instanceof ArrayBuffer) return v.byteLength;
  if (typeof v === 'string') return v.length;
  if (typeof v !== 'object' || v === null) return 8;
  let s = 0;
  for (const [k, x] of Object.entries(v)) s += k.length + sizeOf(x, blobs);
  return s;
}

async function storeSize(db: IDBDatabase, name: string, store: string): Promise<StoreSize> {
  const tx = db.transaction(store, 'readonly');
  const os = tx.objectStore(store);
  const records = await request(os.count());
  const blobs = { bytes: 0 };
  let bytes = 0;
  let seen = 0;
  await new Promise<void>((ok, fail) => {
    const cursor = os.openCursor();
    cursor.onerror = () => fail(cursor.error);
    cursor.onsuccess = () => {
      const c = cursor.result;
      if (!c || seen >= SAMPLE) return ok();
      bytes += sizeOf(c.value, blobs);
      seen++;
      c.continue();
    };
  });
  const scale = seen > 0 ? records / seen : 0;
  return {
    db: name,
    store,
    records,
    bytes: Math.round(bytes * scale),
    blobBytes: Math.round(blobs.bytes * scale),
  };
}

function open(name: string): Promise<IDBDatabase> {
  return request(indexedDB.open(name));
}

const probe: ScaleProbe = {
  longTasks: [],
  heapPeak: 0,
  async estimate() {
    const e = (await navigator.storage.estimate()) as StorageEstimate & {
      usageDetails?: Record<string, number>;
    };
    return { usage: e.usage ?? null, details: e.usageDetails ?? null };
  },
  async storeSizes() {
    const out: StoreSize[] = [];
    for (const { name } of await indexedDB.databases()) {
      if (!name) continue;
      const db = await open(name);
      try {
        for (const store of Array.from(db.objectStoreNames)) {
          out.push(await storeSize(db, name, store));
        }
      } finally {
        db.close();
      }
    }
    return out;
  },
  async latestRun() {
    const db = await open('strata');
    try {
      const runs = await request(db.transaction('runs').objectStore('runs').getAll());
      return runs.sort((a, b) => b.createdAt - a.createdAt)[0] ?? null;
    } finally {
      db.close();
    }
  },
};
window.__scale = probe;

new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    const at = Date.now() - (performance.now() - e.startTime);
    probe.longTasks.push({ start: e.startTime, duration: e.duration, at });
  }
}).observe({ type: 'longtask', buffered: true });

setInterval(() => {
  const used = performance.memory?.usedJSHeapSize ?? 0;
  if (used > probe.heapPeak) probe.heapPeak = used;
}, 250);
