// Which borg a job runs: the config's `borg`, else the wrapper `borg-provision install` put in its
// bin dir (so jobs follow `borg-provision use`), else `borg` on PATH.
import { accessSync, constants } from 'node:fs';
import * as path from 'node:path';
import { defaultBinDir } from '../install';

export function defaultBorg(env: NodeJS.ProcessEnv = process.env): string {
  const wrapper = path.join(defaultBinDir(env), 'borg');
  try {
    accessSync(wrapper, constants.X_OK);
    return wrapper;
  } catch {
    return 'borg';
  }
}

export function borgOf(job: { borg: string | null }, env: NodeJS.ProcessEnv = process.env): string {
  return job.borg ?? defaultBorg(env);
}
