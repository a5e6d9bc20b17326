// Loads a bundled CommonJS file (scripts/bundle.js) through a V8 code cache kept beside it. WHY:
// Node 20 has no compile cache of its own, and compiling the ~95 modules of an install (and
// openpgp.js in the verification worker) cost ~60 ms of CPU per run on a 2-core machine where
// every millisecond of CPU shows on the clock (bench/install.bench.js). A cache holds the code V8
// compiled in an earlier run, functions compiled lazily included, so this run compiles almost
// nothing.
//
// A code cache is code, and V8 checks little of it: that this V8 with these flags made it, for a
// source of the same length; not the bytes (no checksum by default), not the source's content. So:
// - each cache starts with the SHA-256 of the exact source it was made from and of its own bytes,
//   both checked before V8 sees it: a stale cache (the bundle rebuilt, even to the same length) or
//   a damaged one (a power cut, bit rot) is compiled around, never run;
// - it is trusted exactly as far as the bundle beside it: read only when the bundle's owner owns
//   it, nobody else can write it, it is no symlink and has no other name (no hard link); written
//   only by a process running as that owner (temp file, fsync, rename). Whoever could plant a cache
//   could rewrite the bundle itself, which Node loads with no check at all.
// Any problem with a cache means compiling from source, as without one; saving one never fails
// the run (an unwritable directory, a stray file in the way: no cache, that is all).
import { createHash } from 'node:crypto';
import { closeSync, constants, fstatSync, fsyncSync, openSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { createRequire, wrap } from 'node:module';
import * as path from 'node:path';
import { Script } from 'node:vm';

/** Larger than any cache of ours (~1 MB); a bound against reading something else by mistake. */
const MAX_CACHE_BYTES = 64 << 20;
const MAGIC = Buffer.from('borg-provision code cache 1\n');
const HEADER_BYTES = MAGIC.length + 64;

export interface CachedModule {
  exports: unknown;
  /** True when V8 took the cache: this run compiled (almost) nothing. */
  readonly fromCache: boolean;
  /**
   * Writes the cache for the next run when there was none or it was refused, once. Call it once
   * the code has done its work: what has been compiled by then goes in. Never throws.
   */
  saveCache(): void;
}

/**
 * Whether node_modules still holds the dependency versions the bundles in `bundleDir` were made
 * from (its deps.json, written by scripts/bundle.js). A bundle carries its dependencies inside, so
 * after an update without a rebuild it would run the old ones: the modules are loaded instead.
 */
export function bundleIsCurrent(bundleDir: string): boolean {
  try {
    const root = path.resolve(bundleDir, '..', '..');
    const deps = JSON.parse(readFileSync(path.join(bundleDir, 'deps.json'), 'utf8')) as Record<string, string>;
    return Object.entries(deps).every(([pkg, version]) => (JSON.parse(readFileSync(path.join(root, pkg), 'utf8')) as { version?: string }).version === version);
  } catch {
    return false;
  }
}

/** The cache file of a bundle. */
export function cacheFileOf(file: string): string {
  return `${file}.cache`;
}

/** Loads `file` as a CommonJS module (fresh, not through require's cache) with its code cache. */
export function requireCached(file: string): CachedModule {
  const bytes = readFileSync(file);
  const sourceHash = sha256(bytes);
  const owner = statSync(file).uid;
  const cache = readTrustedCache(file, owner, sourceHash);
  const script = new Script(wrap(bytes.toString('utf8')), { filename: file, cachedData: cache ?? undefined });
  const fromCache = cache !== null && script.cachedDataRejected === false;
  const module = { exports: {} as unknown };
  const run = script.runInThisContext() as (e: unknown, r: NodeJS.Require, m: unknown, f: string, d: string) => void;
  run.call(module.exports, module.exports, createRequire(file), module, file, path.dirname(file));
  let saved = fromCache;
  return {
    get exports() {
      return module.exports;
    },
    fromCache,
    saveCache() {
      if (saved) return;
      saved = true;
      if (owner !== process.geteuid?.()) return;
      try {
        writeCache(file, sourceHash, script.createCachedData());
      } catch {
        // no cache this time
      }
    },
  };
}

function sha256(b: Uint8Array): Buffer {
  return createHash('sha256').update(b).digest();
}

/** The cache's V8 data, if there is a cache we may trust and it was made from this very source. */
function readTrustedCache(file: string, owner: number, sourceHash: Buffer): Buffer | null {
  let fd: number;
  try {
    fd = openSync(cacheFileOf(file), constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch {
    return null; // none (or a symlink)
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile() || st.uid !== owner || (st.mode & 0o022) !== 0 || st.nlink !== 1 || st.size > MAX_CACHE_BYTES) return null;
    const all = readFileSync(fd);
    if (all.length < HEADER_BYTES || !all.subarray(0, MAGIC.length).equals(MAGIC)) return null;
    const data = all.subarray(HEADER_BYTES);
    const made = all.subarray(MAGIC.length, MAGIC.length + 32);
    const check = all.subarray(MAGIC.length + 32, HEADER_BYTES);
    return made.equals(sourceHash) && check.equals(sha256(data)) ? data : null;
  } catch {
    return null;
  } finally {
    closeSync(fd);
  }
}

/** Writes the cache atomically (temp file, fsync, rename); removes temp files earlier runs left. */
function writeCache(file: string, sourceHash: Buffer, data: Buffer): void {
  const target = cacheFileOf(file);
  const tmp = `${target}.${process.pid}.tmp`;
  for (const name of readdirSync(path.dirname(file))) {
    if (name.startsWith(`${path.basename(target)}.`) && name.endsWith('.tmp')) quietly(() => rmSync(path.join(path.dirname(file), name), { force: true }));
  }
  let fd: number | null = null;
  try {
    fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o644);
    for (const part of [MAGIC, sourceHash, sha256(data), data]) {
      for (let at = 0; at < part.length; ) at += writeSync(fd, part, at);
    }
    fsyncSync(fd);
    closeSync(fd);
    fd = null;
    renameSync(tmp, target);
  } catch {
    if (fd !== null) quietly(() => closeSync(fd as number));
    quietly(() => rmSync(tmp, { force: true }));
  }
}

function quietly(f: () => void): void {
  try {
    f();
  } catch {
    // nothing to do about it: there is simply no cache
  }
}

// The verification worker saves its cache once it has judged a signature (its code is warm then);
// the worker's loader registers how (scripts/bundle.js), the worker says when.
let onWarm: (() => void) | null = null;

/** Registers what to do once the code is warm (see warm()). */
export function whenWarm(save: () => void): void {
  onWarm = save;
}

/** The code is warm: save what was registered, once. A no-op when nothing was (not loaded from a bundle). */
export function warm(): void {
  const save = onWarm;
  onWarm = null;
  if (save) quietly(save);
}
