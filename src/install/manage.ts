// `list`, `use` and `uninstall`: the version store seen and changed from the CLI. `use` and
// `uninstall` take the prefix lock like `install`, so they never race it.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { BadInputError, FilesystemError, filesystemError } from '../errors';
import { switchTo } from './activate';
import { acquireLock } from './lock';
import { checkVersionString, listInstalled, readCurrent, removeTree, tmpName, versionDir, writeCurrent, type InstalledVersion } from './store';
import { inspectWrapper, foreignWrapperError, writeWrapper, wrapperScript } from './wrapper';

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

export async function useVersion(prefix: string, binDir: string, version: string, signal?: AbortSignal): Promise<UseResult> {
  const v = checkVersionString(version);
  await requireInstalled(prefix, v);
  const wrapper = await inspectWrapper(binDir);
  if (wrapper.state === 'foreign') throw foreignWrapperError(binDir);
  const lock = await acquireLock(prefix);
  try {
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

export async function uninstallVersion(prefix: string, binDir: string, version: string, force: boolean): Promise<UninstallResult> {
  const v = checkVersionString(version);
  const dir = await requireInstalled(prefix, v);
  const lock = await acquireLock(prefix);
  try {
    const current = await readCurrent(prefix);
    const wasCurrent = current === v;
    if (wasCurrent && !force) {
      throw new FilesystemError(`borg ${v} is the current version; switch first (borg-provision use OTHER) or pass --force to remove it and leave no current borg`);
    }
    // Rename first so a half-deleted tree never carries a version's name.
    const aside = tmpName(prefix, 'old');
    await fs.rename(dir, aside).catch((err) => {
      throw filesystemError(err, 'remove', dir);
    });
    if (wasCurrent) {
      await writeCurrent(prefix, null);
      const w = await inspectWrapper(binDir);
      if (w.state === 'ours' && w.text === wrapperScript(prefix)) await writeWrapper(binDir, null);
    }
    await removeTree(aside);
    return { version: v, removed: dir, wasCurrent, current: wasCurrent ? null : current };
  } finally {
    await lock.release();
  }
}

async function requireInstalled(prefix: string, version: string): Promise<string> {
  const dir = versionDir(prefix, version);
  if (!(await fs.stat(dir).then((s) => s.isDirectory(), () => false))) {
    const have = (await listInstalled(prefix)).map((i) => i.version);
    throw new BadInputError(`borg ${version} is not installed in ${prefix}${have.length ? ` (installed: ${have.join(', ')})` : ''}`);
  }
  return dir;
}
