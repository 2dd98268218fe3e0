/**
 * The current view, shared settings, model and demo selection, kept in step with the URL hash.
 *
 * ```ts
 * const url = new UrlState();          // reads location.hash now (defaults + notice if bad)
 * const stop = url.connect();          // follow back/forward and hand edits; write changes back
 * url.view = 'demo';                   // a new history entry: the Back button returns
 * url.settings = { ...url.settings, target: 5000 };   // replaces the current entry
 * url.link;                            // absolute link to share
 * ```
 *
 * Views change with pushState (Back goes to the previous page of the app); settings change with
 * replaceState, so dragging a slider does not fill the history. A rejected hash is replaced by
 * the defaults' hash, and `notice` holds the reason until `dismissNotice()`.
 */
import {
  DEFAULT_DEMO,
  formatHash,
  isAnchor,
  parseHash,
  type DemoSelection,
  type SharedSettings,
  type ShareState,
  type View,
} from './hash';

export interface UrlStateOptions {
  /** the window whose location/history to follow (default: globalThis.window) */
  readonly window?: Window;
  /**
   * Which model ids may appear in a link (catalogue models). A person's own model file is
   * local data and never goes into a link. Default: any id the schema accepts.
   */
  readonly isShareableModel?: (id: string) => boolean;
}

export class UrlState {
  view = $state<View>('curate');
  model = $state<string | null>(null);
  settings = $state<SharedSettings>({});
  demo = $state<DemoSelection>(DEFAULT_DEMO);
  /** why the link's settings were not used; null when the hash was fine */
  notice = $state<string | null>(null);

  readonly #win: Window;
  readonly #isShareableModel: (id: string) => boolean;

  constructor(options: UrlStateOptions = {}) {
    this.#win = options.window ?? window;
    this.#isShareableModel = options.isShareableModel ?? (() => true);
    this.#read();
  }

  /** Plain snapshot of the shareable state. */
  get state(): ShareState {
    return { view: this.view, model: this.model, settings: this.settings, demo: this.demo };
  }

  /** The hash for the current state ('' for the defaults). */
  get hash(): string {
    return formatHash(this.state, this.#isShareableModel);
  }

  /** The absolute link to the current state: page address (without any old hash) + hash. */
  get link(): string {
    const href = this.#win.location.href;
    const hashAt = href.indexOf('#');
    return (hashAt < 0 ? href : href.slice(0, hashAt)) + this.hash;
  }

  dismissNotice(): void {
    this.notice = null;
  }

  /**
   * Starts following the URL: hashchange/popstate re-read it, and every change of the state is
   * written back. Call once (e.g. in the root component's script); returns the stop function.
   */
  connect(): () => void {
    const onNavigate = () => {
      const hash = this.#win.location.hash;
      // A skip link or other in-page anchor moves focus; the app's state stays as it is.
      if (isAnchor(hash)) return;
      if (hash !== this.hash) this.#read();
    };
    this.#win.addEventListener('hashchange', onNavigate);
    this.#win.addEventListener('popstate', onNavigate);
    let lastView = this.view;
    const stopEffects = $effect.root(() => {
      $effect(() => {
        const hash = this.hash;
        const view = this.view;
        const current = this.#win.location.hash;
        if (hash === current || (hash === '' && (current === '' || current === '#'))) return;
        const url = `${this.#win.location.pathname}${this.#win.location.search}${hash}`;
        if (view !== lastView) this.#win.history.pushState(null, '', url);
        else this.#win.history.replaceState(null, '', url);
        lastView = view;
      });
    });
    return () => {
      stopEffects();
      this.#win.removeEventListener('hashchange', onNavigate);
      this.#win.removeEventListener('popstate', onNavigate);
    };
  }

  #read(): void {
    const { state, notice } = parseHash(this.#win.location.hash);
    let modelNotice: string | null = null;
    let model = state.model;
    if (model !== null && !this.#isShareableModel(model)) {
      modelNotice = `This link names a model Strata does not know ("${model}"), so the default model is used.`;
      model = null;
    }
    this.view = state.view;
    this.model = model;
    this.settings = state.settings;
    this.demo = state.demo;
    this.notice = notice ?? modelNotice;
  }
}
