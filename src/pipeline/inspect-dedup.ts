/**
 * The explorer's "duplicates" query: a run's near-duplicate groups as rows of its matrix, the
 * largest groups first, paged (a pool of near-copies can hold tens of thousands of groups).
 */
import type { Db } from '../store/db';
import { getDedup } from '../store/dedup';
import type { RunRecord } from '../store/schema';
import type { DuplicateGroups } from './explore-types';

export async function duplicateGroups(
  db: Db,
  run: RunRecord,
  offset: number,
  limit: number,
): Promise<DuplicateGroups | null> {
  if (run.settings.dedup == null) return null;
  const d = await getDedup(db, run.id);
  if (!d) return null;
  const members: number[][] = Array.from({ length: d.groups }, () => []);
  for (let r = 0; r < d.group.length; r++) if (d.group[r] >= 0) members[d.group[r]].push(r);
  // Largest first; equal sizes by group id, so pages are stable.
  const order = members
    .map((_, g) => g)
    .sort((a, b) => members[b].length - members[a].length || a - b);
  const page = order.slice(offset, offset + limit).map((g) => {
    const rep = d.representative[g];
    return { id: g, representative: rep, rows: [rep, ...members[g].filter((r) => r !== rep)] };
  });
  return { threshold: d.threshold, total: d.groups, removed: d.removed, groups: page };
}
