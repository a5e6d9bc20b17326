// One install/use/uninstall at a time per prefix: `<prefix>/.lock` is created exclusively and holds
// the owner's pid. A lock whose pid is gone (killed with SIGKILL, power loss) is stale and taken over.
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { LockedError, filesystemError } from '../errors';
import { isAlive } from './store';

export const LOCK_FILE = '.lock';

export interface PrefixLock {
  file: string;
  release(): Promise<void>;
}

export async function acquireLock(prefix: string): Promise<PrefixLock> {
  const file = path.join(prefix, LOCK_FILE);
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      const h = await fs.open(file, 'wx', 0o644);
      await h.writeFile(`${process.pid}\n`);
      await h.close();
      return { file, release: () => releaseLock(file) };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw filesystemError(err, 'create the lock', file);
    }
    let owner = await readOwner(file);
    if (owner === null) {
      // Just created by a racing process that has not written its pid yet, or left empty by a crash.
      await new Promise((r) => setTimeout(r, 50));
      owner = await readOwner(file);
    }
    if (owner !== null && owner !== process.pid && isAlive(owner)) {
      throw new LockedError(
        `another borg-provision (pid ${owner}) is installing into ${prefix}; wait for it to finish, or remove ${file} if that process is gone`,
      );
    }
    await takeOverStale(file, owner);
  }
  throw new LockedError(`cannot take the lock ${file}: it keeps changing; is another borg-provision running?`);
}

/**
 * Removes the lock judged stale (owned by `staleOwner`, or empty for null) so that a new O_EXCL
 * create can follow. Reading, comparing and removing is not atomic: two takers that both judged
 * it stale could each remove what the other has just created. So the lock is first renamed to a
 * unique name, which only one taker can do to a given file; the taker then reads what it moved
 * and, if that is not the stale lock (another taker replaced it in between), links it back into
 * place. Returns true when the stale lock was removed by this call.
 */
export async function takeOverStale(file: string, staleOwner: number | null): Promise<boolean> {
  const moved = `${file}.stale-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await fs.rename(file, moved);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false; // another taker moved it
    throw filesystemError(err, 'take over the stale lock', file);
  }
  const owner = await readOwner(moved);
  if (owner === staleOwner) {
    await fs.rm(moved, { force: true });
    return true;
  }
  // A live lock, created after we judged the old one: put it back (link fails if a new one exists).
  await fs.link(moved, file).catch(() => undefined);
  await fs.rm(moved, { force: true });
  return false;
}

/** Removes the lock only while it is still ours. */
async function releaseLock(file: string): Promise<void> {
  if ((await readOwner(file)) === process.pid) await fs.rm(file, { force: true });
}

async function readOwner(file: string): Promise<number | null> {
  const text = await fs.readFile(file, 'utf8').catch(() => '');
  const pid = Number.parseInt(text.trim(), 10);
  return Number.isInteger(pid) && pid > 0 ? pid : null;
}
