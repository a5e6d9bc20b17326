// Whether a path on the running machine can hold executables: the mount it lives on, from
// /proc/self/mountinfo (noexec is a per-mount option; read-only may be per mount or per superblock).
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { PathReport } from './types';

export interface MountEntry {
  mountPoint: string;
  options: string[];
  superOptions: string[];
}

/** Parses mountinfo text (see proc(5)); later lines are mounted on top of earlier ones. */
export function parseMountInfo(text: string): MountEntry[] {
  const mounts: MountEntry[] = [];
  for (const line of text.split('\n')) {
    const fields = line.split(' ');
    const sep = fields.indexOf('-', 6);
    if (fields.length < 7 || sep < 0) continue;
    mounts.push({
      mountPoint: unescapeOctal(fields[4]),
      options: fields[5].split(','),
      superOptions: (fields[sep + 3] ?? '').split(','),
    });
  }
  return mounts;
}

// mountinfo writes space, tab, newline and backslash in paths as \040, \011, \012, \134.
function unescapeOctal(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

export async function readMountInfo(): Promise<MountEntry[] | null> {
  try {
    return parseMountInfo(await fs.readFile('/proc/self/mountinfo', 'utf8'));
  } catch {
    return null; // not Linux, or /proc not mounted
  }
}

/** The mount holding an absolute real path: the longest mount point above it, topmost if stacked. */
export function mountOf(mounts: readonly MountEntry[], realPath: string): MountEntry | null {
  let best: MountEntry | null = null;
  for (const m of mounts) {
    const inside = m.mountPoint === '/' || realPath === m.mountPoint || realPath.startsWith(`${m.mountPoint}/`);
    if (inside && (!best || m.mountPoint.length >= best.mountPoint.length)) best = m;
  }
  return best;
}

/** The real path of p, or of its nearest existing ancestor when p does not exist yet. */
async function nearestRealPath(p: string): Promise<{ real: string; exists: boolean }> {
  let current = path.resolve(p);
  for (;;) {
    try {
      const real = await fs.realpath(current);
      return { real, exists: current === path.resolve(p) };
    } catch {
      const parent = path.dirname(current);
      if (parent === current) return { real: '/', exists: false };
      current = parent;
    }
  }
}

/**
 * exists/noexec/readonly of a path on the running machine. A path that does not exist yet (an
 * install prefix) is judged by the mount of its nearest existing ancestor, where it would be created.
 * `mounts` null means the table could not be read: the flags are then reported as not known
 * (flagsKnown false, noexec/readonly false) rather than silently as exec and writable.
 */
export async function pathReport(p: string, mounts?: readonly MountEntry[] | null): Promise<PathReport> {
  const table = mounts === undefined ? await readMountInfo() : mounts;
  const { real, exists } = await nearestRealPath(p);
  const m = table ? mountOf(table, real) : null;
  return {
    path: p,
    exists,
    noexec: m ? m.options.includes('noexec') : false,
    readonly: m ? m.options.includes('ro') || m.superOptions.includes('ro') : false,
    flagsKnown: m !== null,
    mountPoint: m ? m.mountPoint : null,
  };
}
