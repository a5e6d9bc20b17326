// `self-install`: the running single-file executable copied into a bin directory as
// `borg-provision`, atomically (nothing appears under the name until the copy is whole), and only
// into a place where it can run: the same noexec and read-only checks as install's --bin-dir.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { filesystemError } from '../errors';
import { copyFileAtomic } from '../util/atomic-write';
import { checkPlace } from './places';
import { onPath } from './wrapper';
import { makeDirs } from '../util/make-dirs';

export interface SelfInstallResult {
  from: string;
  path: string;
  /** Whether the bin directory is on PATH (if not, the command says how to run it). */
  onPath: boolean;
}

export async function selfInstall(o: { executable: string; binDir: string }): Promise<SelfInstallResult> {
  const binDir = path.resolve(o.binDir);
  const { pathReport } = await import('../target');
  await checkPlace('--bin-dir', binDir, pathReport);
  const to = path.join(binDir, 'borg-provision');
  try {
    await makeDirs(binDir);
    if (path.resolve(o.executable) !== to) await copyFileAtomic(o.executable, to);
    await fs.chmod(to, 0o755);
  } catch (err) {
    throw filesystemError(err, 'install borg-provision into', binDir, 'choose another --bin-dir');
  }
  return { from: o.executable, path: to, onPath: onPath(binDir) };
}
