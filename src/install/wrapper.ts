// The `<bin-dir>/borg` wrapper: a POSIX sh script, never a symlink. sudo < 1.9.14 (TrueNAS 25.04)
// fails with "argv[0] mismatch" on a symlinked PyInstaller binary, and a script can set TMPDIR for
// one-file builds, which unpack themselves into TMPDIR at every start: /tmp is noexec on TrueNAS
// and /run/user/<uid> does not exist under sudo (whose env_reset drops TMPDIR anyway).
// The wrapper reads `<prefix>/current` at each run, so switching versions never rewrites it.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { FilesystemError, filesystemError } from '../errors';
import { writeFileAtomic } from '../util/atomic-write';
import { shQuote } from '../util/text';
import { CURRENT_FILE, ONEFILE_MARKER, isAlive } from './store';
import { makeDirs } from '../util/make-dirs';

export const WRAPPER_MARK = '# borg-provision wrapper';

export function wrapperScript(prefix: string): string {
  return [
    '#!/bin/sh',
    `${WRAPPER_MARK}: runs the current borg installed under the prefix below.`,
    '# Managed by borg-provision (install / use / uninstall); edits are overwritten.',
    `prefix=${shQuote(prefix)}`,
    `if ! IFS= read -r current 2>/dev/null < "$prefix/${CURRENT_FILE}" || [ -z "$current" ]; then`,
    '  echo "borg: no current borg under $prefix; run: borg-provision use VERSION" >&2',
    '  exit 127',
    'fi',
    'dir="$prefix/$current"',
    '# A one-file build unpacks itself at each start: give it an exec-capable TMPDIR of its own.',
    `if [ -e "$dir/${ONEFILE_MARKER}" ]; then`,
    '  TMPDIR="$prefix/tmp"',
    '  export TMPDIR',
    'fi',
    'exec "$dir/borg.exe" "$@"',
    '',
  ].join('\n');
}

export function wrapperPath(binDir: string): string {
  return path.join(binDir, 'borg');
}

/** What is at `<bin-dir>/borg` now: nothing, our wrapper (with its text), or something else. */
export async function inspectWrapper(
  binDir: string,
): Promise<{ state: 'absent' | 'ours' | 'foreign'; text: string | null }> {
  const file = wrapperPath(binDir);
  const st = await fs.lstat(file).catch(() => null);
  if (!st) return { state: 'absent', text: null };
  if (!st.isFile()) return { state: 'foreign', text: null };
  const text = await fs.readFile(file, 'utf8').catch(() => '');
  return text.includes(WRAPPER_MARK) ? { state: 'ours', text } : { state: 'foreign', text: null };
}

export function foreignWrapperError(binDir: string): FilesystemError {
  return new FilesystemError(
    `${wrapperPath(binDir)} exists and was not installed by borg-provision; move it away or choose another --bin-dir`,
  );
}

/** Installs (or restores, given older text) the wrapper atomically; null text removes it. */
export async function writeWrapper(binDir: string, text: string | null): Promise<void> {
  const file = wrapperPath(binDir);
  try {
    if (text === null) {
      await fs.rm(file, { force: true });
      return;
    }
    await makeDirs(binDir);
    await writeFileAtomic(file, text, { mode: 0o755 });
  } catch (err) {
    throw filesystemError(err, 'write the wrapper', file);
  }
}

/**
 * Removes the temporary files a killed run's atomic wrapper write left in the bin dir:
 * `.borg.<pid>.<random>.tmp` (util/atomic-write) and the older `borg.tmp-<pid>-<random>`, only
 * when that pid is gone. Never touches anything else there (the bin dir is shared with other tools).
 */
export async function removeStaleWrapperTemps(binDir: string): Promise<void> {
  const names = await fs.readdir(binDir).catch(() => [] as string[]);
  for (const name of names) {
    const m = /^\.borg\.(\d+)\.[0-9a-f]+\.tmp$/.exec(name) ?? /^borg\.tmp-(\d+)-[0-9a-f]+$/.exec(name);
    if (!m) continue;
    const pid = Number(m[1]);
    if (pid === process.pid || isAlive(pid)) continue;
    const file = path.join(binDir, name);
    // Only regular files: a directory or link of that name is not ours.
    if ((await fs.lstat(file).catch(() => null))?.isFile()) await fs.rm(file, { force: true });
  }
}

/** True when `binDir` is one of the directories of PATH. */
export function onPath(binDir: string, envPath = process.env.PATH ?? ''): boolean {
  const want = path.resolve(binDir);
  return envPath.split(':').some((d) => d !== '' && path.resolve(d) === want);
}
