// The toolchain borg itself uses for each release series (its Vagrantfile at the matching tags):
// the Python minor version and the PyInstaller version it pins, and the FUSE extra its binaries use.
import { NoCompatibleBuildError, UsageError } from '../errors';

export type Series = '1.2' | '1.4' | '2.0';

export interface Toolchain {
  series: Series;
  /** Python major.minor; the newest patch release is used (pyenv latest), or Debian's python3. */
  python: string;
  pyinstaller: string;
  /** pip extra that adds FUSE (borg mount) support, and the Debian package it builds against. */
  fuseExtra: string;
  fuseDevPackage: string;
}

const TOOLCHAINS: Record<Series, Toolchain> = {
  '1.2': { series: '1.2', python: '3.9', pyinstaller: '4.10', fuseExtra: 'llfuse', fuseDevPackage: 'libfuse-dev' },
  '1.4': { series: '1.4', python: '3.11', pyinstaller: '6.7.0', fuseExtra: 'llfuse', fuseDevPackage: 'libfuse-dev' },
  // borg 2.0 is in beta and we found no pin we could confirm: 6.11.1 is our choice, a PyInstaller
  // release that supports Python 3.13 (PyInstaller 6.10+). Documented as such in docs/building.md.
  '2.0': { series: '2.0', python: '3.13', pyinstaller: '6.11.1', fuseExtra: 'pyfuse3', fuseDevPackage: 'libfuse3-dev' },
};

const PEP440 = /^(\d+)\.(\d+)\.(\d+)((?:a|b|rc)\d+)?(\.post\d+)?(\.dev\d+)?$/;

/** Normalizes "v1.4.2" to "1.4.2" and refuses anything that is not a PEP 440 release version. */
export function normalizeVersion(version: string): string {
  const v = version.trim().replace(/^v/, '');
  if (!PEP440.test(v)) throw new UsageError(`"${version}" is not a borg version (e.g. 1.4.2 or 2.0.0b22)`);
  return v;
}

export function toolchainFor(version: string): Toolchain {
  const m = PEP440.exec(normalizeVersion(version))!;
  const series = `${m[1]}.${m[2]}` as Series;
  const t = TOOLCHAINS[series];
  if (!t) {
    throw new NoCompatibleBuildError(
      `cannot build borg ${version}: the Vagrant build knows the 1.2, 1.4 and 2.0 series only`,
    );
  }
  return t;
}
