// One install/use/uninstall at a time per prefix: `<prefix>/.lock` is created exclusively and holds
// the owner's pid. A lock whose pid is gone (killed with SIGKILL, power loss) is stale and taken over.
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
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const h = await fs.open(file, 'wx', 0o644);
      await h.writeFile(`${process.pid}\n`);
      await h.close();
      return { file, release: () => fs.rm(file, { force: true }) };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw filesystemError(err, 'create the lock', file);
    }
    const owner = await readOwner(file);
    if (owner !== null && owner !== process.pid && isAlive(owner)) {
      throw new LockedError(
        `another borg-provision (pid ${owner}) is installing into ${prefix}; wait for it to finish, or remove ${file} if that process is gone`,
      );
    }
    // Stale (owner gone) or still being written by a racing process: remove only if unchanged.
    if (owner === null) await new Promise((r) => setTimeout(r, 50));
    if ((await readOwner(file)) === owner) await fs.rm(file, { force: true });
  }
  throw new LockedError(`cannot take the lock ${file}: it keeps changing; is another borg-provision running?`);
}

async function readOwner(file: string): Promise<number | null> {
  const text = await fs.readFile(file, 'utf8').catch(() => '');
  const pid = Number.parseInt(text.trim(), 10);
  return Number.isInteger(pid) && pid > 0 ? pid : null;
}
