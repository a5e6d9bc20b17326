// One install/use/uninstall at a time per prefix: `<prefix>/.lock` names its owner (util/pid-lock).
// A lock whose owner is gone (killed with SIGKILL, power loss, a reboot) is stale and taken over;
// a live owner means LockedError.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { LockedError, filesystemError } from '../errors';
import { parseOwner, takeOverStale as breakStale, tryLock } from '../util/pid-lock';

export const LOCK_FILE = '.lock';

export interface PrefixLock {
  file: string;
  release(): Promise<void>;
}

export async function acquireLock(prefix: string): Promise<PrefixLock> {
  const file = path.join(prefix, LOCK_FILE);
  for (let attempt = 0; attempt < 5; attempt++) {
    const got = await tryLock(file, 0o644).catch((err: unknown) => {
      throw filesystemError(err, 'create the lock', file);
    });
    if ('release' in got) return { file, release: got.release };
    if (got.owner !== null) {
      throw new LockedError(
        `another borg-provision (pid ${got.owner}) is installing into ${prefix}; wait for it to finish, or remove ${file} if that process is gone`,
      );
    }
    // Another run is creating or breaking the lock this instant: look again shortly.
    await sleep(50 * (attempt + 1));
  }
  throw new LockedError(`cannot take the lock ${file}: it keeps changing; is another borg-provision running?`);
}

/**
 * Removes the lock judged stale (owned by `staleOwner`, or empty for null) so that a new lock can
 * be created; false when the lock is gone or now names someone else (another taker was first).
 */
export async function takeOverStale(file: string, staleOwner: number | null): Promise<boolean> {
  const text = await fs.readFile(file, 'utf8').catch(() => null);
  if (text === null || (parseOwner(text)?.pid ?? null) !== staleOwner) return false;
  return breakStale(file, text).catch((err: unknown) => {
    throw filesystemError(err, 'take over the stale lock', file);
  });
}
