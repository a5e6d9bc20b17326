// The version store under the prefix:
//   <prefix>/borg-dir-<version>/            one unpacked build per version (borg.exe inside)
//   <prefix>/borg-dir-<version>/borg-provision.json   what was installed, from where, verified how
//   <prefix>/current                        one line "borg-dir-<version>", replaced by rename
//   <prefix>/tmp/                           exec-capable TMPDIR for one-file builds (0700)
//   <prefix>/.staging-*, .old-*, .trash-*  temporary names, removed before any command returns
//                                           (a killed run's are cleaned by the next, see recoverInterrupted)
// `current` is a plain file, not a symlink, so the wrapper runs the real path of borg.exe
// (PyInstaller and old sudo dislike symlinked executables) and the switch is one rename.
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { BadInputError, filesystemError } from '../errors';
import { writeFileAtomic } from '../util/atomic-write';

export const MANIFEST_FILE = 'borg-provision.json';
export const CURRENT_FILE = 'current';
export const ONEFILE_MARKER = '.onefile';

export type InstallSource = 'release' | 'file' | 'built locally';

export interface InstallManifest {
  version: string;
  asset: string;
  kind: 'onedir' | 'onefile';
  /** glibc level of the build (from the asset name or build manifest), or null if unknown. */
  glibc: string | null;
  /** Highest GLIBC_x.y any ELF file of the build needs (measured at install). */
  glibcNeeded: string | null;
  arch: string;
  signer: { fingerprint: string | null; primaryFingerprint: string | null; verdict: string; keySource: string | null };
  size: number;
  sha256: string;
  installedAt: string;
  source: InstallSource;
  from: string;
}

export interface InstalledVersion extends InstallManifest {
  dir: string;
  current: boolean;
}

const VERSION_RE = /^[0-9][0-9A-Za-z.+_-]*$/;

export function checkVersionString(version: string): string {
  const v = version.replace(/^v(?=\d)/, '');
  if (!VERSION_RE.test(v)) throw new BadInputError(`"${version}" is not a borg version (e.g. 1.4.2)`);
  return v;
}

export function versionDirName(version: string): string {
  return `borg-dir-${checkVersionString(version)}`;
}

export function versionDir(prefix: string, version: string): string {
  return path.join(prefix, versionDirName(version));
}

export function tmpName(prefix: string, kind: 'staging' | 'old' | 'trash' | 'tmp'): string {
  return path.join(prefix, `.${kind}-${process.pid}-${randomBytes(4).toString('hex')}`);
}

/** The version `current` names, or null when there is none (or it is unreadable garbage). */
export async function readCurrent(prefix: string): Promise<string | null> {
  let text: string;
  try {
    text = await fs.readFile(path.join(prefix, CURRENT_FILE), 'utf8');
  } catch {
    return null;
  }
  const m = /^borg-dir-(\S+)\n?$/.exec(text);
  return m && VERSION_RE.test(m[1]) ? m[1] : null;
}

/** Atomically points `current` at a version (or removes it when version is null). */
export async function writeCurrent(prefix: string, version: string | null): Promise<void> {
  const file = path.join(prefix, CURRENT_FILE);
  try {
    if (version === null) {
      await fs.rm(file, { force: true });
      return;
    }
    await writeFileAtomic(file, `${versionDirName(version)}\n`, { mode: 0o644 });
  } catch (err) {
    throw filesystemError(err, 'switch', file);
  }
}

export async function writeManifest(dir: string, m: InstallManifest): Promise<void> {
  await fs.writeFile(path.join(dir, MANIFEST_FILE), `${JSON.stringify(m, null, 2)}\n`, { mode: 0o644 });
}

export async function readManifest(dir: string): Promise<InstallManifest | null> {
  try {
    return JSON.parse(await fs.readFile(path.join(dir, MANIFEST_FILE), 'utf8')) as InstallManifest;
  } catch {
    return null;
  }
}

/** Every installed version, oldest first by install date; entries without a manifest are still listed. */
export async function listInstalled(prefix: string): Promise<InstalledVersion[]> {
  let names: string[];
  try {
    names = await fs.readdir(prefix);
  } catch {
    return [];
  }
  const current = await readCurrent(prefix);
  const out: InstalledVersion[] = [];
  for (const name of names) {
    const m = /^borg-dir-(.+)$/.exec(name);
    if (!m || !VERSION_RE.test(m[1])) continue;
    const dir = path.join(prefix, name);
    if (
      !(await fs.stat(dir).then(
        (s) => s.isDirectory(),
        () => false,
      ))
    )
      continue;
    const manifest = (await readManifest(dir)) ?? unknownManifest(m[1]);
    out.push({ ...manifest, version: m[1], dir, current: m[1] === current });
  }
  return out.sort((a, b) => a.installedAt.localeCompare(b.installedAt) || a.version.localeCompare(b.version));
}

function unknownManifest(version: string): InstallManifest {
  return {
    version,
    asset: 'unknown',
    kind: 'onedir',
    glibc: null,
    glibcNeeded: null,
    arch: 'unknown',
    signer: { fingerprint: null, primaryFingerprint: null, verdict: 'unknown', keySource: null },
    size: 0,
    sha256: '',
    installedAt: '',
    source: 'file',
    from: 'unknown',
  };
}

/**
 * Repairs what a killed run (SIGKILL, power loss) left under the prefix. Call with the lock held.
 * First a `.old-*` copy whose `borg-dir-<version>` is missing is renamed back: a --force replace
 * died between its two renames and that copy is the only one (`current` may name it). Then the
 * remaining stale temporaries are removed.
 */
export async function recoverInterrupted(prefix: string): Promise<{ restored: string[] }> {
  const restored = await restoreOrphanedOld(prefix);
  await removeStaleTemps(prefix);
  return { restored };
}

async function restoreOrphanedOld(prefix: string): Promise<string[]> {
  const restored: string[] = [];
  for (const { name } of await staleTemps(prefix)) {
    if (!name.startsWith('.old-')) continue;
    const old = path.join(prefix, name);
    const manifest = await readManifest(old);
    let dir: string;
    try {
      dir = versionDir(prefix, manifest?.version ?? '');
    } catch {
      continue; // no readable version: nothing to put it back as
    }
    if (
      await fs.lstat(dir).then(
        () => true,
        () => false,
      )
    )
      continue;
    await fs.rename(old, dir).then(
      () => restored.push(manifest!.version),
      (err) => {
        throw filesystemError(err, "restore the interrupted install's copy", old);
      },
    );
  }
  return restored;
}

/** Temporary names under the prefix whose process is gone (never our own, never a live one's). */
async function staleTemps(prefix: string): Promise<{ name: string; pid: number }[]> {
  let names: string[] = [];
  try {
    names = await fs.readdir(prefix);
  } catch {
    return [];
  }
  const out: { name: string; pid: number }[] = [];
  for (const name of names) {
    const m =
      /^\.(?:staging|old|trash|tmp)-(\d+)-[0-9a-f]+$/.exec(name) ??
      /^current\.tmp-(\d+)-/.exec(name) ??
      /^\.current\.(\d+)\.[0-9a-f]+\.tmp$/.exec(name) ??
      /^\.lock\.(?:break\.)?(?:stale|tmp)-(\d+)-[0-9a-f]+$/.exec(name);
    if (!m) continue;
    const pid = Number(m[1]);
    if (pid !== process.pid && !isAlive(pid)) out.push({ name, pid });
  }
  return out;
}

/** Removes leftovers of an interrupted run of an older process (never our own live temp dirs). */
export async function removeStaleTemps(prefix: string): Promise<void> {
  for (const { name } of await staleTemps(prefix))
    await fs.rm(path.join(prefix, name), { recursive: true, force: true });
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export async function removeTree(p: string): Promise<void> {
  await fs.rm(p, { recursive: true, force: true, maxRetries: 3, retryDelay: 50 });
}

/** Undoes a `mkdir -p` that created `top`: rmdir from `dir` up to `top`, while they are empty. */
export async function removeEmptyDirs(dir: string, top: string): Promise<void> {
  for (let d = dir; d.startsWith(top); d = path.dirname(d)) {
    if (
      !(await fs.rmdir(d).then(
        () => true,
        () => false,
      ))
    )
      return;
    if (d === top) return;
  }
}
