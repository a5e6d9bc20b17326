// The JSON manifest `build --vagrant` writes beside `borg-dir-<version>.tgz`, and `install --from`
// reads to check a locally built (unsigned) archive. The path convention is fixed here so both
// sides agree: `<dir>/borg-dir-<version>.tgz` + `<dir>/borg-dir-<version>.manifest.json`.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { BadInputError } from '../errors';

export const MANIFEST_KIND = 'borg-provision-build';

export interface BuildManifest {
  kind: typeof MANIFEST_KIND;
  /** borg's version as released (PEP 440), e.g. "1.4.2". */
  borgVersion: string;
  /** File name of the archive beside the manifest, e.g. "borg-dir-1.4.2.tgz". */
  artifact: string;
  /** Lower-case hex SHA-256 of the archive, computed inside the VM. */
  sha256: string;
  debian: 'bullseye' | 'bookworm' | 'trixie';
  arch: string;
  /** glibc release of the build VM: the oldest glibc the build can run on. */
  glibc: string;
  python: string;
  pyinstaller: string;
  builtAt: string;
}

export function artifactName(version: string): string {
  return `borg-dir-${version}.tgz`;
}

/** `<dir>/borg-dir-1.4.2.tgz` -> `<dir>/borg-dir-1.4.2.manifest.json` */
export function manifestPathFor(artifactPath: string): string {
  return artifactPath.replace(/\.tgz$/, '') + '.manifest.json';
}

export async function readBuildManifest(file: string): Promise<BuildManifest> {
  let data: unknown;
  try {
    data = JSON.parse(await fs.readFile(file, 'utf8'));
  } catch (err) {
    throw new BadInputError(`cannot read build manifest ${file}: ${(err as Error).message}`);
  }
  const m = data as Partial<BuildManifest>;
  const strings = ['borgVersion', 'artifact', 'sha256', 'debian', 'arch', 'glibc', 'python', 'pyinstaller'] as const;
  const missing = strings.filter((k) => typeof m[k] !== 'string');
  if (m.kind !== MANIFEST_KIND || missing.length > 0) {
    throw new BadInputError(
      `${file} is not a borg-provision build manifest (missing: ${missing.join(', ') || 'kind'})`,
    );
  }
  if (!/^[0-9a-f]{64}$/.test(m.sha256!)) throw new BadInputError(`${file}: sha256 is not 64 hex digits`);
  if (path.basename(m.artifact!) !== m.artifact) throw new BadInputError(`${file}: artifact must be a plain file name`);
  return m as BuildManifest;
}
