// The backup stage for the `backup` commands: its bundle (scripts/bundle.js) through the V8 code
// cache when the build has a current one, else the modules one by one. WHY: a scheduled run pays
// this start-up every time on top of borg's own; compiling zod, yaml and the stage from source
// was ~100 ms of a ~1.4 s small backup (bench/backup.bench.js). The cache is saved once a command
// has done its work (what was compiled by then goes in).
import * as path from 'node:path';
import { existsSync } from 'node:fs';
import { bundleIsCurrent, requireCached, type CachedModule } from '../util/code-cache';

type Stage = typeof import('../backup');

let loaded: { stage: Stage; bundle: CachedModule | null } | null = null;

export function backupStage(): Stage {
  if (loaded) return loaded.stage;
  const file = path.join(__dirname, '..', 'bundle', 'backup.js');
  if (process.env.BORG_PROVISION_BUNDLE !== '0' && existsSync(file)) {
    try {
      if (bundleIsCurrent(path.dirname(file))) {
        const bundle = requireCached(file);
        loaded = { stage: bundle.exports as Stage, bundle };
        return loaded.stage;
      }
    } catch {
      // A damaged bundle: the modules one by one.
    }
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  loaded = { stage: require('../backup') as Stage, bundle: null };
  return loaded.stage;
}

/** Saves the bundle's code cache for the next run (no-op without a bundle, or when it was used). */
export function saveBackupStageCache(): void {
  loaded?.bundle?.saveCache();
}
