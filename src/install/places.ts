// Where things go: default prefix and bin-dir, and the check that the prefix can hold programs
// that run. A noexec or read-only prefix is refused before anything is downloaded.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { FilesystemError } from '../errors';
import type { PathReport } from '../target';

// The defaults are the shared XDG rules (src/util/xdg.ts), under the names commands import.
export { dataHome as defaultPrefix, userBinDir as defaultBinDir } from '../util/xdg';

/** The path itself if it exists, else its nearest existing ancestor (what a mkdir would land on). */
export async function nearestExisting(p: string): Promise<string> {
  let cur = path.resolve(p);
  for (;;) {
    if (
      await fs.lstat(cur).then(
        () => true,
        () => false,
      )
    )
      return cur;
    const up = path.dirname(cur);
    if (up === cur) return cur;
    cur = up;
  }
}

const EXEC_ADVICE =
  'choose an exec-capable place with --prefix, e.g. /root/.local/share/borg-provision or a dataset on a pool (/mnt/<pool>/...) on TrueNAS';

/**
 * Refuses a place on a noexec or read-only mount, naming the mount, and a place whose mount flags
 * cannot be read (no /proc/self/mountinfo): fail closed, since borg unpacked on a noexec mount
 * fails only later, at its first run.
 */
export async function checkPlace(
  what: '--prefix' | '--bin-dir',
  p: string,
  pathReport: (p: string) => Promise<PathReport>,
): Promise<void> {
  const probe = await nearestExisting(p);
  const r = await pathReport(probe);
  if (!r.flagsKnown) {
    throw new FilesystemError(
      `cannot tell whether ${what} ${p} is mounted noexec or read-only: /proc/self/mountinfo is unreadable; ` +
        'mount /proc (or run where it is mounted), then install again',
    );
  }
  const mount = r.mountPoint ? ` (mount ${r.mountPoint})` : '';
  if (r.readonly) {
    throw new FilesystemError(
      `${what} ${p} is on a read-only filesystem${mount}; ${what === '--prefix' ? EXEC_ADVICE : 'choose a writable --bin-dir, e.g. /root/.local/bin'}`,
    );
  }
  if (r.noexec) {
    throw new FilesystemError(
      `${what} ${p} is on a noexec mount${mount}, where borg cannot run; ${what === '--prefix' ? EXEC_ADVICE : 'choose a --bin-dir on an exec-capable mount, e.g. /root/.local/bin'}`,
    );
  }
}
