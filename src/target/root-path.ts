// Resolving a path inside a target root the way the target itself would see it: symbolic links
// are followed inside the root, absolute link targets and ".." are re-rooted, so nothing we read
// ever lies outside the root (a hostile image cannot point us at the host's /etc or libc).
import { lstatSync, promises as fs, readlinkSync } from 'node:fs';
import * as path from 'node:path';
import { BadInputError } from '../errors';

// The kernel's own limit on links followed in one lookup (MAXSYMLINKS).
const MAX_LINKS = 40;

/**
 * The host path of `targetPath` (absolute, as the target sees it) inside `root`, with every
 * symlink resolved inside the root, or null when some component does not exist.
 * `root` must already be a real path (see realRoot).
 * Synchronous calls: a lookup is a few lstat/readlink of local metadata, microseconds each, where a
 * trip to the thread pool per component made finding this machine's libc several times slower,
 * more so while an install loads its modules alongside (the event loop is busy).
 */
export async function resolveInRoot(root: string, targetPath: string): Promise<string | null> {
  const pending = split(targetPath);
  const done: string[] = [];
  let links = 0;
  while (pending.length > 0) {
    const part = pending.shift() as string;
    if (part === '..') {
      done.pop(); // never above the root: popping an empty list is a no-op
      continue;
    }
    const host = path.join(root, ...done, part);
    let st;
    try {
      st = lstatSync(host);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return null;
      throw new BadInputError(`cannot read ${host} (${code ?? (err as Error).message})`, { cause: err });
    }
    if (!st.isSymbolicLink()) {
      done.push(part);
      continue;
    }
    if (++links > MAX_LINKS) throw new BadInputError(`too many symbolic links resolving ${targetPath} under ${root}`);
    const target = readlinkSync(host);
    if (path.posix.isAbsolute(target)) done.length = 0;
    pending.unshift(...split(target));
  }
  return path.join(root, ...done);
}

function split(p: string): string[] {
  return p.split('/').filter((s) => s !== '' && s !== '.');
}

/** The real path of a --root directory, or BadInputError (exit 2) naming what is wrong with it. */
export async function realRoot(root: string): Promise<string> {
  let real: string;
  try {
    real = await fs.realpath(root);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'does not exist'
        : code === 'EACCES'
          ? 'is not readable (permission denied)'
          : `cannot be read (${code})`;
    throw new BadInputError(`--root ${root} ${why}`, { cause: err });
  }
  if (!(await fs.stat(real)).isDirectory()) throw new BadInputError(`--root ${root} is not a directory`);
  return real;
}

/** Host path -> the path the target sees, for reports about a --root. */
export function targetView(root: string, hostPath: string): string {
  const rel = path.relative(root, hostPath);
  return rel === '' ? '/' : `/${rel}`;
}
