// Which borg a job runs: the config's `borg`, else the wrapper `borg-provision install` put in its
// bin dir (so jobs follow `borg-provision use`), else `borg` on PATH.
// The bin dir is install's default (`defaultBinDir` in src/install/index.ts re-exports this same
// util/xdg rule; a test keeps the two equal). Not imported from the install stage itself: loading
// it (tar, the fetch and verify stages) would be most of a scheduled run's start-up.
import { accessSync, constants } from 'node:fs';
import * as path from 'node:path';
import { userBinDir as defaultBinDir } from '../util/xdg';

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
