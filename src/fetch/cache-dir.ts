// The download cache root; the XDG rules live in src/util/xdg.ts (one place for every XDG dir).
import { cacheHome } from '../util/xdg';

/** $XDG_CACHE_HOME/borg-provision, else ~/.cache/borg-provision (XDG says: ignore relative paths). */
export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return cacheHome(env);
}
