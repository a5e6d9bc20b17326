// Which family of borg's published Linux builds fits a glibc release, without asking the network.
// Builds run where the host glibc is the same or newer than the one they were built on. The
// releases stage picks the actual asset per version (not every release carries every family).
import { compareDotted } from '../util/dotted-version';
/** The family of borg's published Linux builds that fits a target (no network involved). */
export interface BuildFit {
  /** The best fitting family, e.g. "borg-linux-glibc236". */
  assetFamily: string;
  glibcLevel: string;
  /** Locally built and OpenPGP-signed (true), or GitHub-built "-gh" without a signature. */
  signed: boolean;
  /** Older families that also run there, best first. */
  alsoFits: string[];
  note: string;
}

// Signed x86_64 families (borg 1.4.x naming; 1.2.x used linuxold64/linux64/linuxnew64/linuxnewer64).
const SIGNED_X86_64 = [
  { level: '2.41', family: 'borg-linux-glibc241', note: 'published for borg 1.4.2 and 1.4.3' },
  {
    level: '2.36',
    family: 'borg-linux-glibc236',
    note: 'published for borg 1.4.0 to 1.4.3, and for 1.2.7+ as borg-linuxnewer64',
  },
  { level: '2.31', family: 'borg-linux-glibc231', note: 'published for every borg 1.4 release' },
  { level: '2.28', family: 'borg-linux-glibc228', note: 'published for borg 1.4.0 and 1.4.1' },
];
const UNSIGNED_ARM64 = [
  { level: '2.39', family: 'borg-linux-glibc239-arm64-gh', note: 'published for borg 2.0.0b22' },
  { level: '2.35', family: 'borg-linux-glibc235-arm64-gh', note: 'published from borg 1.4.2 on' },
];

export function fittingBuild(release: string, arch: string): BuildFit | null {
  const table = arch === 'x86_64' ? SIGNED_X86_64 : arch === 'arm64' ? UNSIGNED_ARM64 : [];
  const fits = table.filter((row) => compareDotted(row.level, release) <= 0);
  if (fits.length === 0) return null;
  const [best, ...rest] = fits;
  return {
    assetFamily: best.family,
    glibcLevel: best.level,
    signed: arch === 'x86_64',
    alsoFits: rest.map((r) => r.family),
    note: best.note,
  };
}

/** The family that would be installed on a glibc target; null when none fits (or not glibc). */
export function fittingBuildFor(t: {
  libc: { family: string; release: string | null };
  arch: string;
}): BuildFit | null {
  return t.libc.family === 'glibc' && t.libc.release ? fittingBuild(t.libc.release, t.arch) : null;
}
