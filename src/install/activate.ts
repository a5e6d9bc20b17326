// Activation and rollback. The order keeps the user's working borg until the new one has proved
// itself: first the staged build runs `borg.exe -V` where it lies (with the TMPDIR the wrapper
// would give a one-file build), while `current` and the wrapper still name the old borg, so a cron
// job never starts an untested build. Only then: rename it into `borg-dir-<version>` (a --force'd
// old copy is renamed aside just before, see replaceDir), switch `current`, write the wrapper and
// run the smoke test again through the wrapper, exactly as the user will; on any failure,
// including an interrupt, put every one of those back as it was.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { FilesystemError, filesystemError } from '../errors';
import { smokeTest, type SmokeResult } from './smoke';
import { ONEFILE_MARKER, readCurrent, removeEmptyDirs, removeTree, tmpName, versionDir, writeCurrent } from './store';
import {
  inspectWrapper,
  removeStaleWrapperTemps,
  writeWrapper,
  wrapperPath,
  wrapperScript,
  foreignWrapperError,
} from './wrapper';
import { makeDirs } from '../util/make-dirs';

export interface ActivateOptions {
  prefix: string;
  binDir: string;
  version: string;
  /** The complete staged build directory (manifest included), on the prefix's filesystem. */
  staged: string;
  /** Replace an installed copy of the same version. */
  replace: boolean;
  signal?: AbortSignal;
}

export interface ActivateResult {
  dir: string;
  previous: string | null;
  wrapper: string;
  smoke: SmokeResult;
}

export async function activate(o: ActivateOptions): Promise<ActivateResult> {
  const dir = versionDir(o.prefix, o.version);
  const previous = await readCurrent(o.prefix);
  const oldWrapper = await inspectWrapper(o.binDir);
  if (oldWrapper.state === 'foreign') throw foreignWrapperError(o.binDir);
  await smokeTestStaged(o.prefix, o.staged, o.version, previous, o.signal);
  let aside: string | null = null;
  let placed = false;
  try {
    if (o.replace && (await exists(dir))) aside = tmpName(o.prefix, 'old');
    await replaceDir(o.staged, dir, aside);
    placed = true;
    const smoke = await switchTo(o.prefix, o.binDir, o.version, previous, oldWrapper.text, o.signal);
    if (aside) await removeTree(aside);
    return { dir, previous, wrapper: wrapperPath(o.binDir), smoke };
  } catch (err) {
    await undoPlacement(dir, placed, aside);
    throw placementError(err, dir);
  }
}

/**
 * Points `current` and the wrapper at `version` and smoke-tests it; on failure restores the
 * previous `current` and wrapper text and rethrows. Used by `install` and `use`.
 */
export async function switchTo(
  prefix: string,
  binDir: string,
  version: string,
  previous: string | null,
  previousWrapper: string | null,
  signal?: AbortSignal,
): Promise<SmokeResult> {
  let createdBinDir: string | undefined;
  try {
    await ensureOneFileTmp(prefix, version);
    await writeCurrent(prefix, version);
    createdBinDir = await makeDirs(binDir).catch((err) => {
      throw filesystemError(err, 'create', binDir);
    });
    await removeStaleWrapperTemps(binDir);
    await writeWrapper(binDir, wrapperScript(prefix));
    return await smokeTest(wrapperPath(binDir), version, signal);
  } catch (err) {
    await writeCurrent(prefix, previous).catch(() => undefined);
    await writeWrapper(binDir, previousWrapper).catch(() => undefined);
    if (createdBinDir) await removeEmptyDirs(binDir, createdBinDir);
    if (err instanceof Error && err.name === 'SmokeTestError') {
      const back = previous ? `borg ${previous} is current again` : 'no borg is current';
      err.message = `${err.message}; rolled back: ${back}`;
    }
    throw err;
  }
}

/**
 * Renames `staged` to `dir`; with `aside`, the existing `dir` is renamed there first. rename(2)
 * cannot replace a non-empty directory, so the two renames follow each other with nothing in
 * between: for those microseconds `borg-dir-<version>` is missing and a `borg` started through the
 * wrapper right then fails with "not found" (exit 127) and can simply be run again. Every other
 * moment a complete build is in place. A crash between the renames leaves the `.old-*` copy,
 * which the next run puts back (restoreOrphanedOld) before removing stale temporaries.
 */
async function replaceDir(staged: string, dir: string, aside: string | null): Promise<void> {
  if (aside) await fs.rename(dir, aside);
  try {
    await fs.rename(staged, dir);
  } catch (err) {
    if (aside) await fs.rename(aside, dir).catch(() => undefined);
    throw err;
  }
}

/**
 * `<staged>/borg.exe -V` before anything the user runs changes, with the environment the wrapper
 * would give it (TMPDIR under the prefix for a one-file build). A failure changes nothing.
 */
async function smokeTestStaged(
  prefix: string,
  staged: string,
  version: string,
  previous: string | null,
  signal?: AbortSignal,
): Promise<void> {
  const oneFile = await exists(path.join(staged, ONEFILE_MARKER));
  const tmp = path.join(prefix, 'tmp');
  const hadTmp = await exists(tmp);
  try {
    const env = oneFile ? { ...process.env, TMPDIR: await ensureOneFileTmpDir(prefix) } : process.env;
    await smokeTest(path.join(staged, 'borg.exe'), version, signal, env);
  } catch (err) {
    if (oneFile && !hadTmp) await removeTree(tmp).catch(() => undefined);
    if (err instanceof Error && err.name === 'SmokeTestError') {
      err.message = `${err.message}; not activated: ${previous ? `borg ${previous} stays current` : 'no borg is current'}`;
    }
    throw err;
  }
}

/** One-file builds unpack into `<prefix>/tmp` (set as TMPDIR by the wrapper): private, exec-capable. */
async function ensureOneFileTmp(prefix: string, version: string): Promise<void> {
  if (await exists(path.join(versionDir(prefix, version), ONEFILE_MARKER))) await ensureOneFileTmpDir(prefix);
}

async function ensureOneFileTmpDir(prefix: string): Promise<string> {
  const tmp = path.join(prefix, 'tmp');
  try {
    await makeDirs(tmp, 0o700);
    await fs.chmod(tmp, 0o700);
  } catch (err) {
    throw filesystemError(err, 'create the one-file TMPDIR', tmp);
  }
  return tmp;
}

async function undoPlacement(dir: string, placed: boolean, aside: string | null): Promise<void> {
  if (!placed) return; // replaceDir put things back itself
  await removeTree(dir).catch(() => undefined);
  if (aside) await fs.rename(aside, dir).catch(() => undefined);
}

function placementError(err: unknown, dir: string): unknown {
  if (err instanceof Error && 'exitCode' in err) return err;
  if ((err as NodeJS.ErrnoException).code === 'ENOTEMPTY' || (err as NodeJS.ErrnoException).code === 'EEXIST') {
    return new FilesystemError(`${dir} already exists; use --force to replace it`);
  }
  return filesystemError(err, 'activate', dir);
}

async function exists(p: string): Promise<boolean> {
  return fs.lstat(p).then(
    () => true,
    () => false,
  );
}
