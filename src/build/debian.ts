// Which Debian release (and which official Vagrant box) a build runs on, chosen from the target.
// A PyInstaller build runs only where glibc is the same or newer than the build machine's, so the
// build VM must use the target's own Debian release (or an older one), never a newer one.
import { UnsupportedTargetError, UsageError } from '../errors';
import { compareDotted } from '../util/dotted-version';

export const DEBIAN_RELEASES = ['bullseye', 'bookworm', 'trixie'] as const;
export type DebianRelease = (typeof DEBIAN_RELEASES)[number];

interface DebianInfo {
  version: string;
  glibc: string;
  /** Python major.minor Debian ships as python3: used directly when it is what borg pins. */
  python: string;
  /** Official Debian box on Vagrant Cloud (published by the Debian cloud team). */
  box: string;
}

// debian/trixie64 rather than the debian/testing64 borg's own Vagrantfile names: since trixie
// became stable (2025-08), testing64 tracks forky, whose newer glibc would not run on trixie.
export const DEBIAN: Record<DebianRelease, DebianInfo> = {
  bullseye: { version: '11', glibc: '2.31', python: '3.9', box: 'debian/bullseye64' },
  bookworm: { version: '12', glibc: '2.36', python: '3.11', box: 'debian/bookworm64' },
  trixie: { version: '13', glibc: '2.41', python: '3.13', box: 'debian/trixie64' },
};

export function parseDebianRelease(name: string): DebianRelease {
  const n = name.trim().toLowerCase();
  const byNumber = DEBIAN_RELEASES.find((r) => DEBIAN[r].version === n);
  const found = byNumber ?? DEBIAN_RELEASES.find((r) => r === n);
  if (!found) throw new UsageError(`unknown Debian release "${name}": use bullseye, bookworm or trixie`);
  return found;
}

/**
 * The newest supported Debian release whose glibc is not newer than the target's: glibc 2.31 ->
 * bullseye, 2.36 -> bookworm, 2.41 (or newer) -> trixie. Older than 2.31 cannot be served.
 */
export function debianForGlibc(glibc: string): DebianRelease {
  const fitting = DEBIAN_RELEASES.filter((r) => compareDotted(DEBIAN[r].glibc, glibc) <= 0);
  const newest = fitting[fitting.length - 1];
  if (!newest) {
    throw new UnsupportedTargetError(
      `glibc ${glibc} is older than any Debian release the build supports (bullseye has 2.31): no Vagrant build can run there`,
    );
  }
  return newest;
}
