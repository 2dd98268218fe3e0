/**
 * Settings edits and the automatic plan: a hierarchy setting the person sets (by hand or from a
 * link) is theirs from then on, so it leaves `autoPlan` and the run keeps it as given; the ones
 * left as suggested are planned again for the items the run clusters.
 */
import type { RunSettings } from '../../pipeline/contract';

/** Which automatic fields an edited setting takes over: k and r go together (one table). */
const TAKES: Partial<Record<keyof RunSettings, readonly string[]>> = {
  k: ['k', 'r'],
  r: ['k', 'r'],
  iterations: ['iterations'],
};

/** `settings` with `patch` applied, the patched hierarchy settings no longer automatic. */
export function withEdits(settings: RunSettings, patch: Partial<RunSettings>): RunSettings {
  const taken = new Set(
    (Object.keys(patch) as (keyof RunSettings)[]).flatMap((key) => TAKES[key] ?? []),
  );
  const next = { ...settings, ...patch };
  if (taken.size === 0 || !settings.autoPlan) return next;
  return { ...next, autoPlan: settings.autoPlan.filter((f) => !taken.has(f)) };
}
