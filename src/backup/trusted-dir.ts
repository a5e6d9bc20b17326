// Who may change the way to a job. Whoever may rename entries in any folder on the path to
// config.yaml can swap it (or a folder above it) for their own between any check and its use, and
// its hooks run as the user running the job: every folder from / down must be that user's or
// root's, and writable by nobody else. The path is the real one (symlinks resolved), each folder
// checked with lstat, from / down, so no folder can be replaced once its parent passed.
import { promises as fs, type Stats } from 'node:fs';
import * as path from 'node:path';
import { InsecureJobError, filesystemError } from '../errors';
import { shQuoteForDisplay as q } from '../util/text';

const STICKY = 0o1000;

export function modeString(m: number): string {
  return (m & 0o7777).toString(8).padStart(4, '0');
}

/** Every folder from / down to `dir` (an absolute, real path), / first. */
export function foldersDown(dir: string): string[] {
  const out: string[] = [];
  for (let d = dir; ; d = path.dirname(d)) {
    out.unshift(d);
    if (path.dirname(d) === d) return out;
  }
}

/**
 * Refuses `real` (the real path of a job's directory) when a folder on it, or it, may be changed by
 * another user. A sticky folder (/tmp) above the jobs folder is fine: others may add entries there
 * but not rename or remove ours. The jobs folder and the job's own folder get no such leave.
 */
export async function assertTrustedDir(real: string, uid: number): Promise<void> {
  const folders = foldersDown(real);
  for (const [i, d] of folders.entries()) {
    const st = await fs.lstat(d).catch((err: unknown) => {
      throw filesystemError(err, 'check', d);
    });
    const stickyOk = i < folders.length - 2 && (st.mode & STICKY) !== 0;
    refuseFolder(d, st, uid, stickyOk);
  }
}

function refuseFolder(d: string, st: Stats, uid: number, stickyOk: boolean): void {
  if (!st.isDirectory()) {
    // realpath said it was a folder: it was replaced while being checked.
    throw new InsecureJobError(`${d} changed while the job's path was checked (it is no folder now)`, {
      hint: 'find out who changes it; run the job again once nothing does',
    });
  }
  const othersWrite = (st.mode & 0o022) !== 0 && !stickyOk;
  if ((st.uid !== uid && st.uid !== 0) || othersWrite) {
    throw new InsecureJobError(
      `${d} may be changed by another user (owner uid ${st.uid}, mode ${modeString(st.mode)}); it holds the job`,
      {
        // Safe as given: d is a real folder whose parent passed, so nobody can make it a link.
        hint: `chown ${uid} ${q(d)} && chmod go-w ${q(d)}, or keep jobs under a --config-dir only you and root can change`,
      },
    );
  }
}
