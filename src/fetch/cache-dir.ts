// The download cache root; the XDG rules live in src/util/xdg.ts (one place for every XDG dir).
import * as path from 'node:path';
import { filesystemError, type ProvisionError } from '../errors';
import { cacheHome } from '../util/xdg';

/** $XDG_CACHE_HOME/borg-provision, else ~/.cache/borg-provision (XDG says: ignore relative paths). */
export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return cacheHome(env);
}

/** What to do when the disk under a download path fills up: our cache moves with XDG_CACHE_HOME. */
function fullDiskAdvice(file: string, env: NodeJS.ProcessEnv = process.env): string {
  const cache = cacheDir(env);
  return file === cache || file.startsWith(`${cache}${path.sep}`)
    ? 'point XDG_CACHE_HOME at a roomier place'
    : 'download into another folder';
}

/** A failed write (or create) at `file`, a download's or the cache's: the disk-full advice fits where it is. */
export function downloadWriteError(err: unknown, action: string, file: string): ProvisionError {
  return filesystemError(err, action, file, fullDiskAdvice(file));
}
