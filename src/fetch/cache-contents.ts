// What the download cache holds, and its cleaning: one folder per release under cacheDir()
// (`<cache>/<tag>/`, see cacheSubdir in download.ts; `url-<hash>/` for other URLs). The `build/`
// folder holds `build --vagrant` work directories and `autocomplete/` the shell completion cache
// (oclif's cache dir is ours): not downloads, neither listed nor cleaned.
// A folder with a live `<file>.part.lock` (its pid still running) is being downloaded into and is
// never removed.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { cacheDir, downloadWriteError } from './cache-dir';
import { lockInUse } from '../util/pid-lock';

export interface CachedFile {
  name: string;
  size: number;
  /** A `.part` left by an interrupted download (resumed by the next one). */
  partial: boolean;
}

export interface CachedRelease {
  /** The folder name: the release tag (e.g. 1.4.2), or url-<hash>. */
  name: string;
  dir: string;
  bytes: number;
  files: CachedFile[];
  /** A download into it is running now (a live lock). */
  inUse: boolean;
}

export interface CacheListing {
  dir: string;
  bytes: number;
  releases: CachedRelease[];
}

const NOT_DOWNLOADS = new Set(['build', 'autocomplete']);

export async function listCache(root: string = cacheDir()): Promise<CacheListing> {
  const names = await fs.readdir(root, { withFileTypes: true }).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return [];
    throw downloadWriteError(err, 'read the download cache', root);
  });
  const releases: CachedRelease[] = [];
  for (const d of names.sort((a, b) => a.name.localeCompare(b.name))) {
    if (d.isDirectory() && !NOT_DOWNLOADS.has(d.name)) releases.push(await describe(path.join(root, d.name)));
  }
  return { dir: root, bytes: releases.reduce((n, r) => n + r.bytes, 0), releases };
}

async function describe(dir: string): Promise<CachedRelease> {
  const files: CachedFile[] = [];
  let inUse = false;
  for (const e of await fs.readdir(dir, { withFileTypes: true })) {
    const file = path.join(dir, e.name);
    if (e.name.endsWith('.lock')) {
      inUse ||= await lockInUse(file);
      continue;
    }
    if (e.name.includes('.lock.')) continue; // the lock's own temporaries (util/pid-lock), not a download
    const st = await fs.lstat(file).catch(() => null);
    if (st?.isFile()) files.push({ name: e.name, size: st.size, partial: e.name.endsWith('.part') });
  }
  return { name: path.basename(dir), dir, bytes: files.reduce((n, f) => n + f.size, 0), files, inUse };
}

export interface CleanResult {
  dir: string;
  removed: CachedRelease[];
  kept: { release: CachedRelease; why: string }[];
  freedBytes: number;
}

/** Removes every release folder, except those `keep` names (with its reason) and those in use. */
export async function cleanCache(
  o: { root?: string; keep?: (name: string) => string | null } = {},
): Promise<CleanResult> {
  const listing = await listCache(o.root);
  const out: CleanResult = { dir: listing.dir, removed: [], kept: [], freedBytes: 0 };
  for (const r of listing.releases) {
    const why = r.inUse ? 'a download into it is running' : (o.keep?.(r.name) ?? null);
    if (why) {
      out.kept.push({ release: r, why });
      continue;
    }
    await fs.rm(r.dir, { recursive: true, force: true }).catch((err) => {
      throw downloadWriteError(err, 'remove', r.dir);
    });
    out.removed.push(r);
    out.freedBytes += r.bytes;
  }
  return out;
}
