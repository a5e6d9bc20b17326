// Files that ship with borg-provision: the signing key and the Vagrant build templates. In the npm
// package they sit beside the code; in the single executable they are SEA assets (nothing on disk).
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import * as sea from 'node:sea';

export const PACKAGE_FILES = ['keys/borg-signing-key.asc', 'vagrant/provision.sh', 'vagrant/borg-dir.spec'] as const;
export type PackageFile = (typeof PACKAGE_FILES)[number];

/** Both src/util (ts-jest) and dist/util (the built CLI) are two levels below the package root. */
const PACKAGE_ROOT = path.resolve(__dirname, '..', '..');

/** Whether this process is the single-file executable (Node's single executable application). */
export function isSingleExecutable(): boolean {
  return sea.isSea();
}

export function readPackageFile(name: PackageFile): Buffer {
  if (isSingleExecutable()) return Buffer.from(sea.getAsset(name));
  return readFileSync(path.join(PACKAGE_ROOT, name));
}

/** Where a packaged file comes from, for people: its path, or `<executable>:<name>` inside the executable. */
export function packageFileLabel(name: PackageFile): string {
  return isSingleExecutable() ? `${process.execPath}:${name}` : path.join(PACKAGE_ROOT, name);
}
