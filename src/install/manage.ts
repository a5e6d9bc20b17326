// `list`, `use` and `uninstall`: the version store seen and changed from the CLI. `use` and
// `uninstall` take the prefix lock like `install`, so they never race it.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { BadInputError, UsageError, filesystemError } from '../errors';
import { switchTo } from './activate';
import { acquireLock } from './lock';
import {
  checkVersionString,
  listInstalled,
  readCurrent,
  recoverInterrupted,
  removeTree,
  tmpName,
  versionDir,
  writeCurrent,
  type InstalledVersion,
} from './store';
import { inspectWrapper, foreignWrapperError, removeStaleWrapperTemps, writeWrapper, wrapperScript } from './wrapper';

export interface ListResult {
  prefix: string;
  current: string | null;
  versions: InstalledVersion[];
}

export async function listVersions(prefix: string): Promise<ListResult> {
  return { prefix: path.resolve(prefix), current: await readCurrent(prefix), versions: await listInstalled(prefix) };
}

export interface UseResult {
  version: string;
  previous: string | null;
  smoke: string;
  changed: boolean;
}

export async function useVersion(
  prefix: string,
  binDir: string,
  version: string,
  signal?: AbortSignal,
): Promise<UseResult> {
  const v = checkVersionString(version);
  const wrapper = await inspectWrapper(binDir);
  if (wrapper.state === 'foreign') throw foreignWrapperError(binDir);
  await requireInstalled(prefix, v, true);
  const lock = await acquireLock(prefix);
  try {
    await recoverInterrupted(prefix);
    await requireInstalled(prefix, v);
    const previous = await readCurrent(prefix);
    const smoke = await switchTo(prefix, binDir, v, previous, wrapper.text, signal);
    return { version: v, previous, smoke: smoke.output, changed: previous !== v };
  } finally {
    await lock.release();
  }
}

export interface UninstallResult {
  version: string;
  removed: string;
  wasCurrent: boolean;
  current: string | null;
}

export async function uninstallVersion(
  prefix: string,
  binDir: string,
  version: string,
  force: boolean,
): Promise<UninstallResult> {
  const v = checkVersionString(version);
  await requireInstalled(prefix, v, true);
  const lock = await acquireLock(prefix);
  try {
    await recoverInterrupted(prefix);
    const dir = await requireInstalled(prefix, v);
    const current = await readCurrent(prefix);
    const wasCurrent = current === v;
    if (wasCurrent && !force) {
      // A refusal of what was asked, not a filesystem failure: exit 2, like any usage refusal.
      throw new UsageError(
        `borg ${v} is the current version: run borg-provision use OTHER-VERSION first, or pass --force to remove it and leave no current borg`,
      );
    }
    // Rename first so a half-deleted tree never carries a version's name. `.trash-*`, not `.old-*`:
    // a killed uninstall's copy is removed by the next run, never put back.
    const aside = tmpName(prefix, 'trash');
    await fs.rename(dir, aside).catch((err) => {
      throw filesystemError(err, 'remove', dir);
    });
    if (wasCurrent) {
      await writeCurrent(prefix, null);
      const w = await inspectWrapper(binDir);
      if (w.state === 'ours' && w.text === wrapperScript(prefix)) await writeWrapper(binDir, null);
    }
    await removeStaleWrapperTemps(binDir);
    await removeTree(aside);
    return { version: v, removed: dir, wasCurrent, current: wasCurrent ? null : current };
  } finally {
    await lock.release();
  }
}

/**
 * The version's directory, or BadInputError. `early` (before the lock) lets an interrupted --force
 * replace pass: its `.old-*` copy is put back under the lock, and checked again there.
 */
async function requireInstalled(prefix: string, version: string, early = false): Promise<string> {
  const dir = versionDir(prefix, version);
  if (early && (await fs.readdir(prefix).catch(() => [] as string[])).some((n) => n.startsWith('.old-'))) return dir;
  if (
    !(await fs.stat(dir).then(
      (s) => s.isDirectory(),
      () => false,
    ))
  ) {
    const have = (await listInstalled(prefix)).map((i) => i.version);
    throw new BadInputError(
      `borg ${version} is not installed in ${prefix}${have.length ? ` (installed: ${have.join(', ')})` : ''}`,
    );
  }
  return dir;
}
