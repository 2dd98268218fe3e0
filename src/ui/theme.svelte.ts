/**
 * Light / dark / follow-the-system theme. The choice is kept in localStorage (a UI preference,
 * not data) and applied as data-theme on <html>, which global.css reads; "system" removes the
 * attribute so prefers-color-scheme decides.
 */
export type ThemeChoice = 'system' | 'light' | 'dark';

const KEY = 'strata.theme';
const ORDER: readonly ThemeChoice[] = ['system', 'light', 'dark'];

function readStored(): ThemeChoice {
  try {
    const v = localStorage.getItem(KEY);
    return v === 'light' || v === 'dark' ? v : 'system';
  } catch {
    // Storage can be blocked (privacy settings); the theme then just follows the system.
    return 'system';
  }
}

export class Theme {
  choice = $state<ThemeChoice>(readStored());
  #systemDark = $state(false);

  constructor() {
    const media = globalThis.matchMedia?.('(prefers-color-scheme: dark)');
    if (media) {
      this.#systemDark = media.matches;
      media.addEventListener('change', (e) => (this.#systemDark = e.matches));
    }
    this.#apply();
  }

  /** The theme actually shown. */
  get effective(): 'light' | 'dark' {
    if (this.choice === 'system') return this.#systemDark ? 'dark' : 'light';
    return this.choice;
  }

  set(choice: ThemeChoice): void {
    this.choice = choice;
    try {
      if (choice === 'system') localStorage.removeItem(KEY);
      else localStorage.setItem(KEY, choice);
    } catch {
      // Not persisted; still applied for this visit.
    }
    this.#apply();
  }

  /** system -> light -> dark -> system */
  cycle(): void {
    this.set(ORDER[(ORDER.indexOf(this.choice) + 1) % ORDER.length]);
  }

  #apply(): void {
    const root = globalThis.document?.documentElement;
    if (!root) return;
    if (this.choice === 'system') root.removeAttribute('data-theme');
    else root.setAttribute('data-theme', this.choice);
  }
}
