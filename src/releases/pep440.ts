// PEP 440 versions as borg tags them (1.4.0b1, 1.4.0rc1, 2.0.0b22), compared through semver after
// mapping the pre-release letters: a -> alpha, b -> beta, rc/c -> rc; ".devN" sorts before all
// of them ("0dev" sorts below "alpha" in semver's ASCII order), ".postN" after the release.
import { SemVer, compare as semverCompare } from 'semver';

const PEP440 =
  /^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:[-_.]?(a|alpha|b|beta|rc|c|pre|preview)[-_.]?(\d*))?(?:[-_.]?post[-_.]?(\d*))?(?:[-_.]?dev[-_.]?(\d*))?$/i;

const PRE: Record<string, string> = {
  a: 'alpha',
  alpha: 'alpha',
  b: 'beta',
  beta: 'beta',
  rc: 'rc',
  c: 'rc',
  pre: 'rc',
  preview: 'rc',
};

interface Parsed {
  semver: SemVer;
  post: number;
}

function parse(version: string): Parsed | null {
  const m = PEP440.exec(version.trim());
  if (!m) return null;
  const [, major, minor = '0', patch = '0', preLetter, preNum, post, dev] = m;
  const pre: string[] = [];
  if (preLetter) pre.push(PRE[preLetter.toLowerCase()], String(Number(preNum || 0)));
  if (dev !== undefined) pre.push('0dev', String(Number(dev || 0)));
  const text = `${Number(major)}.${Number(minor)}.${Number(patch)}${pre.length ? `-${pre.join('.')}` : ''}`;
  return { semver: new SemVer(text), post: post === undefined ? -1 : Number(post || 0) };
}

/** The semver spelling of a PEP 440 version ("1.4.0b1" -> "1.4.0-beta.1"), or null. */
export function pep440ToSemver(version: string): string | null {
  return parse(version)?.semver.version ?? null;
}

export function isPep440(version: string): boolean {
  return parse(version) !== null;
}

/** Orders PEP 440 versions; versions that do not parse sort before all that do, by text. */
export function comparePep440(a: string, b: string): number {
  const pa = parse(a);
  const pb = parse(b);
  if (!pa || !pb) {
    if (pa) return 1;
    if (pb) return -1;
    return a < b ? -1 : a > b ? 1 : 0;
  }
  return semverCompare(pa.semver, pb.semver) || Math.sign(pa.post - pb.post);
}

/** True for a, b, rc and dev versions. */
export function isPrerelease(version: string): boolean {
  const p = parse(version);
  return p !== null && p.semver.prerelease.length > 0;
}
