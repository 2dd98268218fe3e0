/**
 * What a link carries, and the rules for reading one.
 *
 * A link holds the view, the chosen model (by catalogue id), the run settings the person set
 * explicitly, and the demo selection. It never holds local data: there is no field for file
 * names, folder names, dataset ids or embeddings, and `formatHash` writes only schema fields.
 *
 * Format (readable, hand-editable):  #/<view>?key=value&key=value
 *   #/demo?toy=rings&seed=3
 *   #/curate?model=mobilenet-v2-1.4&k=1000,200,40&r=1,5,3&target=5000&seed=7
 *
 * Reading is all or nothing: a hash that fails the schema (unknown view or key, a key twice,
 * a value out of range, a hash too long) opens the app with its defaults, and `notice` says
 * which part was rejected. Partly applying a link would silently run something else than what
 * the sender meant.
 */
import * as v from 'valibot';
import type {
  BackendChoice,
  LeafStrategy,
  Normalisation,
  ProviderChoice,
  ResampleStrategy,
} from '../../core/settings';

export const VIEWS = ['curate', 'demo', 'about'] as const;
export type View = (typeof VIEWS)[number];

export const TOYS = ['fig3', 'rings'] as const;
export type DemoToy = (typeof TOYS)[number];

/** Demo page selection: which toy, and the sliders of the hierarchical-with-resampling panel. */
export interface DemoSelection {
  readonly toy: DemoToy;
  /** levels of the hierarchical k-means with resampling (paper: 3) */
  readonly levels: number;
  /** resampling steps per level (paper: 10) */
  readonly steps: number;
  readonly seed: number;
  /** full Lloyd iterations (50, the paper's) instead of the demo's quick setting */
  readonly full: boolean;
}

/** Run settings a link may carry; names and meaning follow RunSettings in src/core/settings.ts. */
export interface SharedSettings {
  readonly provider?: ProviderChoice;
  readonly batchSize?: number;
  readonly normalisation?: Normalisation;
  readonly k?: readonly number[];
  readonly r?: readonly number[];
  readonly resamplingSteps?: number;
  readonly resampleStrategy?: ResampleStrategy;
  readonly iterations?: number;
  readonly target?: number;
  readonly leafStrategy?: LeafStrategy;
  readonly seed?: number;
  readonly backend?: BackendChoice;
}

export interface ShareState {
  readonly view: View;
  /** catalogue model id, or null for the app's default */
  readonly model: string | null;
  /** only the settings the person chose; the app's automatic defaults fill the rest */
  readonly settings: SharedSettings;
  readonly demo: DemoSelection;
}

export const DEFAULT_DEMO: DemoSelection = {
  toy: 'fig3',
  levels: 3,
  steps: 10,
  seed: 0,
  full: false,
};

export const DEFAULT_STATE: ShareState = {
  view: 'curate',
  model: null,
  settings: {},
  demo: DEFAULT_DEMO,
};

/** Longer hashes are not links this app wrote: refuse before parsing anything. */
export const MAX_HASH_LENGTH = 1024;
/** The most levels a link may ask for (the paper uses 4 on 743M images). */
export const MAX_LEVELS = 8;

const digits = (max: number) => new RegExp(`^(0|[1-9][0-9]{0,${String(max).length - 1}})$`);

/** A whole number written in plain decimal digits, within [min, max]. */
function int(min: number, max: number) {
  return v.pipe(
    v.string(),
    v.regex(digits(max), `must be a whole number from ${min} to ${max}`),
    v.transform(Number),
    v.minValue(min, `must be a whole number from ${min} to ${max}`),
    v.maxValue(max, `must be a whole number from ${min} to ${max}`),
  );
}

/** A comma-separated list of 1..MAX_LEVELS whole numbers within [min, max]. */
function intList(min: number, max: number) {
  const message = `must be 1 to ${MAX_LEVELS} comma-separated whole numbers from ${min} to ${max}`;
  return v.pipe(
    v.string(),
    v.maxLength(MAX_LEVELS * 10, message),
    v.transform((s) => s.split(',')),
    v.array(int(min, max), message),
    v.minLength(1, message),
    v.maxLength(MAX_LEVELS, message),
  );
}

const flag = v.pipe(
  v.picklist(['0', '1'], 'must be 0 or 1'),
  v.transform((s) => s === '1'),
);

// Catalogue ids are short slugs; anything else (URLs, file names) never belongs in a link.
const modelId = v.pipe(
  v.string(),
  v.regex(/^[a-z0-9][a-z0-9._-]{0,63}$/i, 'must be a model id from the catalogue'),
);

const SEED_MAX = 4_294_967_295;

/** The query part of the hash, as strings in, typed values out. Unknown keys are refused. */
const QuerySchema = v.pipe(
  v.strictObject({
    v: v.optional(v.literal('1', 'this link was made by a newer version of Strata')),
    model: v.optional(modelId),
    provider: v.optional(v.picklist(['auto', 'webgpu', 'wasm'], 'must be auto, webgpu or wasm')),
    batchSize: v.optional(int(1, 256)),
    normalisation: v.optional(
      v.picklist(['center-l2', 'l2', 'none'], 'must be center-l2, l2 or none'),
    ),
    k: v.optional(intList(1, 1_000_000)),
    r: v.optional(intList(1, 10_000)),
    resamplingSteps: v.optional(int(0, 100)),
    resampleStrategy: v.optional(v.picklist(['closest', 'random'], 'must be closest or random')),
    iterations: v.optional(int(1, 1000)),
    target: v.optional(int(1, 100_000_000)),
    leafStrategy: v.optional(
      v.picklist(['random', 'closest', 'furthest'], 'must be random, closest or furthest'),
    ),
    seed: v.optional(int(0, SEED_MAX)),
    backend: v.optional(v.picklist(['auto', 'webgpu', 'cpu'], 'must be auto, webgpu or cpu')),
    toy: v.optional(v.picklist(TOYS, `must be ${TOYS.join(' or ')}`)),
    levels: v.optional(int(1, 4)),
    steps: v.optional(int(0, 10)),
    demoSeed: v.optional(int(0, 9999)),
    full: v.optional(flag),
  }),
  v.check(
    (q) => !q.k || q.k.every((k, i) => i === 0 || k < q.k![i - 1]),
    'k: clusters per level must shrink from one level to the next',
  ),
  v.check((q) => !q.k || !q.r || q.k.length === q.r.length, 'r: needs one value per level of k'),
);

export interface ParsedHash {
  readonly state: ShareState;
  /** set when the hash was rejected; says what was wrong, for a visible notice */
  readonly notice: string | null;
}

function reject(reason: string): ParsedHash {
  return {
    state: DEFAULT_STATE,
    notice: `This link's settings could not be used (${reason}), so Strata opened with its defaults.`,
  };
}

/** Reads a location.hash (with or without the leading '#'). Never throws. */
export function parseHash(hash: string): ParsedHash {
  const raw = hash.startsWith('#') ? hash.slice(1) : hash;
  if (raw === '' || raw === '/') return { state: DEFAULT_STATE, notice: null };
  if (raw.length > MAX_HASH_LENGTH)
    return reject(`the link is longer than ${MAX_HASH_LENGTH} characters`);
  const q = raw.indexOf('?');
  const path = q < 0 ? raw : raw.slice(0, q);
  const query = q < 0 ? '' : raw.slice(q + 1);
  // "#demo" (no slash) is how earlier builds linked to the demo page: keep those links working.
  const viewName = path.startsWith('/') ? path.slice(1) : path;
  if (isAnchor(hash)) return { state: DEFAULT_STATE, notice: null };
  const view = VIEWS.find((name) => name === viewName);
  if (!view) {
    return reject(`unknown page "${viewName.slice(0, 40)}"; pages are ${VIEWS.join(', ')}`);
  }
  let params: URLSearchParams;
  try {
    params = new URLSearchParams(query);
  } catch {
    return reject('the settings part is not valid');
  }
  const entries = [...params.entries()];
  const seen = new Set<string>();
  for (const [key] of entries) {
    if (seen.has(key)) return reject(`"${key.slice(0, 40)}" appears twice`);
    seen.add(key);
  }
  // Object.fromEntries defines own properties, so a key like "__proto__" stays a plain (and
  // then refused) key instead of touching the object's prototype.
  const parsed = v.safeParse(QuerySchema, Object.fromEntries(entries));
  if (!parsed.success) {
    const issue = parsed.issues[0];
    const key = v.getDotPath(issue)?.split('.')[0];
    if (issue.kind === 'schema' && issue.type === 'strict_object' && key !== undefined) {
      return reject(`unknown setting "${key.slice(0, 40)}"`);
    }
    return reject(key ? `${key}: ${issue.message}` : issue.message);
  }
  const o = parsed.output;
  const settings: Record<string, unknown> = {};
  for (const key of SETTING_KEYS) if (o[key] !== undefined) settings[key] = o[key];
  return {
    state: {
      view,
      model: o.model ?? null,
      settings: settings as SharedSettings,
      demo: {
        toy: o.toy ?? DEFAULT_DEMO.toy,
        levels: o.levels ?? DEFAULT_DEMO.levels,
        steps: o.steps ?? DEFAULT_DEMO.steps,
        seed: o.demoSeed ?? DEFAULT_DEMO.seed,
        full: o.full ?? DEFAULT_DEMO.full,
      },
    },
    notice: null,
  };
}

/**
 * An in-page anchor such as "#main" (a skip link's target), not a link of ours: it carries no
 * state and is no error. Our links always start with "#/" (or are a bare view name).
 */
export function isAnchor(hash: string): boolean {
  const raw = hash.startsWith('#') ? hash.slice(1) : hash;
  return /^[A-Za-z][\w-]*$/.test(raw) && !VIEWS.some((view) => view === raw);
}

/** Settings keys in the order a link lists them. */
export const SETTING_KEYS = [
  'provider',
  'batchSize',
  'normalisation',
  'k',
  'r',
  'resamplingSteps',
  'resampleStrategy',
  'iterations',
  'target',
  'leafStrategy',
  'seed',
  'backend',
] as const satisfies readonly (keyof SharedSettings)[];

/**
 * Writes the hash for a state ('' for the defaults). Only schema fields are written, and the
 * demo selection only when it differs from the default, so links stay short. A model id that
 * `isShareableModel` refuses (a person's own model file, say) is left out.
 */
export function formatHash(
  state: ShareState,
  isShareableModel: (id: string) => boolean = () => true,
): string {
  const params = new URLSearchParams();
  if (state.model !== null && isShareableModel(state.model)) params.set('model', state.model);
  for (const key of SETTING_KEYS) {
    const value = state.settings[key];
    if (value === undefined) continue;
    params.set(key, Array.isArray(value) ? value.join(',') : String(value));
  }
  const d = state.demo;
  if (d.toy !== DEFAULT_DEMO.toy) params.set('toy', d.toy);
  if (d.levels !== DEFAULT_DEMO.levels) params.set('levels', String(d.levels));
  if (d.steps !== DEFAULT_DEMO.steps) params.set('steps', String(d.steps));
  if (d.seed !== DEFAULT_DEMO.seed) params.set('demoSeed', String(d.seed));
  if (d.full !== DEFAULT_DEMO.full) params.set('full', d.full ? '1' : '0');
  const query = params.toString().replace(/%2C/g, ',');
  if (state.view === DEFAULT_STATE.view && query === '') return '';
  return `#/${state.view}${query ? `?${query}` : ''}`;
}

/** True when a parsed value round-trips: used to keep a state the schema would refuse out of links. */
export function isValidState(state: ShareState): boolean {
  const hash = formatHash(state);
  return parseHash(hash).notice === null;
}
