// Where the schedulers keep their files on this machine, and who we are. The system files are
// looked for under BORG_PROVISION_SCHEDULE_ROOT (default /), so tests and chroots can point the
// TrueNAS markers, /run/systemd/system, /etc/systemd/system and /etc/cron.d at another tree; a
// user's systemd units follow XDG_CONFIG_HOME as systemd itself does.
import * as os from 'node:os';
import * as path from 'node:path';

export interface Places {
  root: string;
  /** The system unit directory: <root>/etc/systemd/system. */
  systemUnitDir: string;
  /** The user unit directory: $XDG_CONFIG_HOME/systemd/user, else ~/.config/systemd/user. */
  userUnitDir: string;
  /** Where Persistent=true timers keep their last run: <root>/var/lib/systemd/timers. */
  systemTimerStamps: string;
  /** The same for a user manager: $XDG_DATA_HOME/systemd/timers, else ~/.local/share/systemd/timers. */
  userTimerStamps: string;
  /** <root>/etc/cron.d. */
  cronDir: string;
  isRoot: boolean;
  /** The login name cron and the middleware run the job as. */
  user: string;
  env: NodeJS.ProcessEnv;
}

export function placesFrom(env: NodeJS.ProcessEnv = process.env): Places {
  const given = env.BORG_PROVISION_SCHEDULE_ROOT;
  const root = given && path.isAbsolute(given) ? given : '/';
  const home = env.HOME || os.homedir();
  const xdgConfig =
    env.XDG_CONFIG_HOME && path.isAbsolute(env.XDG_CONFIG_HOME) ? env.XDG_CONFIG_HOME : path.join(home, '.config');
  const xdgData =
    env.XDG_DATA_HOME && path.isAbsolute(env.XDG_DATA_HOME) ? env.XDG_DATA_HOME : path.join(home, '.local', 'share');
  return {
    root,
    systemTimerStamps: path.join(root, 'var', 'lib', 'systemd', 'timers'),
    userTimerStamps: path.join(xdgData, 'systemd', 'timers'),
    systemUnitDir: path.join(root, 'etc', 'systemd', 'system'),
    userUnitDir: path.join(xdgConfig, 'systemd', 'user'),
    cronDir: path.join(root, 'etc', 'cron.d'),
    isRoot: process.getuid?.() === 0,
    user: os.userInfo().username,
    env,
  };
}

/** A file under the root, e.g. inRoot(places, '/etc/version'). */
export function inRoot(places: Places, file: string): string {
  return path.join(places.root, file);
}
