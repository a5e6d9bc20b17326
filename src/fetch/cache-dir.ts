import * as os from 'node:os';
import * as path from 'node:path';

/** $XDG_CACHE_HOME/borg-provision, else ~/.cache/borg-provision (XDG says: ignore relative paths). */
export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_CACHE_HOME;
  const root = xdg && path.isAbsolute(xdg) ? xdg : path.join(env.HOME || os.homedir(), '.cache');
  return path.join(root, 'borg-provision');
}
