/**
 * Several inference lanes behind one EmbedSession: each lane is a worker with its own
 * onnxruntime-web wasm session (lane.ts), and `run` sends a batch to the lane with the fewest
 * batches in flight. The embed service keeps at most two batches per lane in flight, so memory
 * stays bounded (a 224 px batch of 8 is 4.8 MB) while no lane waits for the next batch.
 *
 * A lane whose worker dies (crash, out of memory) is dropped: its batch is run again on a lane
 * that is still alive, and when none is left the run stops with a message that says so, keeping
 * every row already delivered.
 */
import * as Comlink from 'comlink';
import type { EmbedLane } from './lane';
import type { ModelSpec } from './models';
import type { EmbedSession, SessionTuning } from './session';

export interface LaneOptions {
  lanes: number;
  /** wasm threads inside each lane */
  threads: number;
  tuning?: SessionTuning;
  /** how a lane's worker is started (tests swap it) */
  factory?: () => Worker;
  /** called once no lane is left, so the owner drops this session and a resume starts anew */
  onDead?: () => void;
}

/** An EmbedSession spread over several workers; `lanes` x `threads` cores at most. */
export interface LaneSession extends EmbedSession {
  readonly lanes: number;
  readonly threads: number;
}

export function laneWorker(): Worker {
  return new Worker(new URL('../workers/embed-lane.worker.ts', import.meta.url), {
    type: 'module',
    name: 'strata-embed-lane',
  });
}

interface Lane {
  worker: Worker;
  api: Comlink.Remote<EmbedLane>;
  busy: number;
  /** rejects (and stays rejected) once the worker has died */
  died: Promise<never>;
  dead?: string;
}

function startLane(factory: () => Worker): Lane {
  const worker = factory();
  const lane = { worker, api: Comlink.wrap<EmbedLane>(worker), busy: 0 } as Lane;
  lane.died = new Promise<never>((_, reject) => {
    const fail = (why: string): void => {
      lane.dead ??= why;
      reject(new Error(why));
    };
    worker.addEventListener('error', (e) => {
      e.preventDefault();
      fail(`an embedding worker stopped: ${e.message || 'it crashed (out of memory?)'}`);
    });
    worker.addEventListener('messageerror', () =>
      fail('an embedding worker stopped: a message could not be read'),
    );
  });
  lane.died.catch(() => undefined);
  return lane;
}

export async function openLanes(
  bytes: Uint8Array,
  spec: ModelSpec,
  opts: LaneOptions,
): Promise<LaneSession> {
  const factory = opts.factory ?? laneWorker;
  const lanes = Array.from({ length: Math.max(1, opts.lanes) }, () => startLane(factory));
  let opened: { inputName: string; threads: number }[];
  try {
    opened = await Promise.all(
      lanes.map((l) =>
        Promise.race([l.api.open(bytes.slice(), spec, opts.threads, opts.tuning ?? {}), l.died]),
      ),
    );
  } catch (err) {
    for (const l of lanes) l.worker.terminate();
    throw err;
  }
  const live = (): Lane[] => lanes.filter((l) => !l.dead);

  const runOn = async (
    lane: Lane,
    input: Float32Array,
    n: number,
  ): Promise<{ rows: Float32Array; dim: number }> => {
    lane.busy++;
    try {
      // A copy per call: the caller may run the same input again (the provider probe does).
      const part = input.slice(0, n * 3 * spec.inputSize ** 2);
      return await Promise.race([
        lane.api.run(Comlink.transfer(part, [part.buffer]), n),
        lane.died,
      ]);
    } finally {
      lane.busy--;
    }
  };

  return {
    provider: 'wasm',
    inputName: opened[0].inputName,
    lanes: lanes.length,
    threads: opened[0].threads,
    async run(input, n) {
      let last = '';
      for (;;) {
        const ready = live();
        if (ready.length === 0) {
          opts.onDead?.();
          throw new Error(
            `${last || 'every embedding worker stopped'}; the images embedded so far are kept, ` +
              'and running again embeds only the rest.',
          );
        }
        const lane = ready.reduce((a, b) => (b.busy < a.busy ? b : a));
        try {
          return await runOn(lane, input, n);
        } catch (err) {
          // A model error is the model's: the same batch would fail on every lane.
          if (!lane.dead) throw err;
          last = lane.dead;
          lane.worker.terminate();
        }
      }
    },
    async release() {
      await Promise.all(live().map((l) => l.api.release().catch(() => undefined)));
      for (const l of lanes) l.worker.terminate();
    },
  };
}
