// When a release has no build for the target: which other releases, as the server lists them, have
// a signed build that fits. Derived from the release list (assets and all), never from a table of
// what once was published, so it names only assets the server really has.
import { listReleasesWithAssets } from './github-api';
import { comparePep440, isPep440, isPrerelease } from './pep440';
import { selectAsset } from './select';
import type { ApiOptions, OtherFit, Release, SelectionTarget } from './types';

/** How many releases the list is read for (one page). */
const LOOKED_AT = 100;

/**
 * The newest stable release of each series (1.4, 1.2, ...) other than `version` whose chosen
 * build fits `target` and is signed, newest series first, at most `max`.
 */
export function otherFits(version: string, releases: Release[], target: SelectionTarget, max = 2): OtherFit[] {
  const bare = version.replace(/^v(?=\d)/, '');
  const candidates = releases
    .filter((r) => isPep440(r.version) && !r.prerelease && !isPrerelease(r.version) && r.version !== bare)
    .sort((a, b) => comparePep440(b.version, a.version));
  const out: OtherFit[] = [];
  const series = new Set<string>();
  for (const r of candidates) {
    const s = r.version.split('.').slice(0, 2).join('.');
    if (series.has(s)) continue;
    const chosen = selectAsset(r, target).selected;
    if (!chosen?.signed) continue;
    series.add(s);
    out.push({ version: r.version, asset: chosen.name, glibc: chosen.glibc });
    if (out.length >= max) break;
  }
  return out;
}

/** otherFits over the server's release list; an empty list when it cannot be read (the advice is a bonus). */
export async function findOtherFits(version: string, target: SelectionTarget, o: ApiOptions): Promise<OtherFit[]> {
  try {
    return otherFits(version, await listReleasesWithAssets({ ...o, limit: LOOKED_AT }), target);
  } catch (err) {
    if (o.signal?.aborted) throw err;
    return [];
  }
}
