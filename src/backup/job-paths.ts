// Where a backup job lives: one directory per job, <base>/backups/<name>/, holding config.yaml and
// the job's secrets. The base is --config-dir, else $XDG_CONFIG_HOME/borg-provision (on TrueNAS
// root's ~/.config, which survives upgrades). The schedule stage finds jobs through this too.
import { createHash } from 'node:crypto';
import { existsSync, realpathSync } from 'node:fs';
import * as path from 'node:path';
import { UsageError } from '../errors';
import { configHome } from '../util/xdg';

/** A job name is one path segment that is safe in a file name, a unit name and a cron line. */
const JOB_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export function assertJobName(name: string): string {
  if (!JOB_NAME.test(name)) {
    throw new UsageError(`bad job name '${name}'`, {
      hint: 'use 1-64 letters, digits, dots, dashes or underscores, starting with a letter or digit',
    });
  }
  return name;
}

/** The directory that holds every job: <base>/backups. */
export function backupsDir(configDir?: string): string {
  return path.join(configDir ? path.resolve(configDir) : configHome(), 'backups');
}

/** The directory of one job (the name is checked first). */
export function jobDir(name: string, configDir?: string): string {
  return path.join(backupsDir(configDir), assertJobName(name));
}

export function jobConfigFile(name: string, configDir?: string): string {
  return path.join(jobDir(name, configDir), 'config.yaml');
}

/** Whether a job of that name has a config.yaml. */
export function jobExists(name: string, configDir?: string): boolean {
  return existsSync(jobConfigFile(name, configDir));
}

/**
 * The name a job's lock, state and run logs go by under $XDG_STATE_HOME: the job's name and a
 * digest of the real directory that holds it. The same job keeps one key whichever way its
 * directory is named (the default, --config-dir, a symlink), and two jobs of one name in two
 * directories never share a lock, a check's last run or their logs. Job names cannot hold '@', so
 * a key is never another job's name.
 */
export function stateKey(name: string, configDir?: string): string {
  const dir = backupsDir(configDir);
  let real = dir;
  try {
    real = realpathSync(dir);
  } catch {
    // Not there (yet): the job cannot be run, and its name as given is all there is.
  }
  return `${assertJobName(name)}@${createHash('sha256').update(real).digest('hex').slice(0, 8)}`;
}
