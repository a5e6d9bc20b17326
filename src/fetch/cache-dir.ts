// The download cache root; the XDG rules live in src/util/xdg.ts (one place for every XDG dir).
import * as path from 'node:path';
import { cacheHome } from '../util/xdg';

/** $XDG_CACHE_HOME/borg-provision, else ~/.cache/borg-provision (XDG says: ignore relative paths). */
export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return cacheHome(env);
}

/** What to do when the disk under a download path fills up: our cache moves with XDG_CACHE_HOME. */
export function fullDiskAdvice(file: string, env: NodeJS.ProcessEnv = process.env): string {
  return file.startsWith(`${cacheDir(env)}${path.sep}`) ? 'point XDG_CACHE_HOME at a roomier place' : 'download into another folder';
}
