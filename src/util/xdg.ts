// Where borg-provision keeps its files, per the XDG base directory spec: a relative XDG_* value is
// ignored (the spec says so), and HOME wins over the passwd entry so tests and sudo -H behave.
import * as os from 'node:os';
import * as path from 'node:path';

type Env = NodeJS.ProcessEnv;

function home(env: Env): string {
  return env.HOME || os.homedir();
}

function xdg(env: Env, variable: string, fallback: string[]): string {
  const value = env[variable];
  const base = value && path.isAbsolute(value) ? value : path.join(home(env), ...fallback);
  return path.join(base, 'borg-provision');
}

/** Downloads: $XDG_CACHE_HOME/borg-provision, else ~/.cache/borg-provision. */
export const cacheHome = (env: Env = process.env): string => xdg(env, 'XDG_CACHE_HOME', ['.cache']);
/** The refreshed signing key: $XDG_CONFIG_HOME/borg-provision, else ~/.config/borg-provision. */
export const configHome = (env: Env = process.env): string => xdg(env, 'XDG_CONFIG_HOME', ['.config']);
/** Backup logs and run state: $XDG_STATE_HOME/borg-provision, else ~/.local/state/borg-provision. */
export const stateHome = (env: Env = process.env): string => xdg(env, 'XDG_STATE_HOME', ['.local', 'state']);
/** Installed versions: $XDG_DATA_HOME/borg-provision, else ~/.local/share/borg-provision. */
export const dataHome = (env: Env = process.env): string => xdg(env, 'XDG_DATA_HOME', ['.local', 'share']);
/** The wrapper's default directory: ~/.local/bin (XDG names no variable for it). */
export const userBinDir = (env: Env = process.env): string => path.join(home(env), '.local', 'bin');
