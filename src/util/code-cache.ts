// Loads a bundled CommonJS file (scripts/bundle.js) through a V8 code cache kept beside it. WHY:
// Node 20 has no compile cache of its own, and compiling the ~95 modules of an install (and
// openpgp.js in the verification worker) cost ~60 ms of CPU per run on a 2-core machine where
// every millisecond of CPU shows on the clock (bench/install.bench.js). A cache holds the code V8
// compiled in an earlier run, functions compiled lazily included, so this run compiles almost
// nothing.
//
// A code cache is code: V8 checks only that it was made by this V8 with these flags for a source of
// the same length, not what it holds. So it is trusted exactly as far as the bundle beside it:
// read only when it is owned by the bundle's owner and writable by nobody else, written only by
// that owner (atomically, temp file then rename). Whoever could plant a cache could rewrite the
// bundle itself. Any problem with a cache (missing, refused by V8, unreadable) means compiling
// from source, as without one; a failure to write one is ignored.
import { lstatSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire, wrap } from 'node:module';
import * as path from 'node:path';
import { Script } from 'node:vm';

/** Larger than any cache of ours (~1 MB); a bound against reading something else by mistake. */
const MAX_CACHE_BYTES = 64 << 20;

export interface CachedModule {
  exports: unknown;
  /** True when V8 took the cache: this run compiled (almost) nothing. */
  readonly fromCache: boolean;
  /**
   * Writes the cache for the next run when there was none or V8 refused it, once. Call it once the
   * code has done its work: what has been compiled by then goes in.
   */
  saveCache(): void;
}

/**
 * The cache file of a bundle as it is now. Its name carries the bundle's inode and modification
 * time: V8 checks a cache only against the length of the source, so a bundle rewritten to the same
 * length must not find the old cache.
 */
export function cacheFileOf(file: string): string {
  const st = statSync(file);
  return `${file}.${st.ino}-${Math.trunc(st.mtimeMs)}.cache`;
}

/** Every cache file of `file`, whatever bundle it was made for. */
function cacheFilesOf(file: string): string[] {
  const base = path.basename(file);
  return readdirSync(path.dirname(file))
    .filter((f) => f.startsWith(`${base}.`) && f.endsWith('.cache'))
    .map((f) => path.join(path.dirname(file), f));
}

/** Loads `file` as a CommonJS module (fresh, not through require's cache) with its code cache. */
export function requireCached(file: string): CachedModule {
  const source = readFileSync(file, 'utf8');
  const cache = readTrustedCache(file);
  const script = new Script(wrap(source), { filename: file, cachedData: cache ?? undefined });
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
      writeCache(file, script);
    },
  };
}

/** The cache beside `file`, if there is one we may trust (see the top of this file). */
function readTrustedCache(file: string): Buffer | null {
  try {
    const owner = statSync(file).uid;
    const st = lstatSync(cacheFileOf(file));
    if (!st.isFile() || st.uid !== owner || (st.mode & 0o022) !== 0 || st.size > MAX_CACHE_BYTES) return null;
    return readFileSync(cacheFileOf(file));
  } catch {
    return null;
  }
}

/** Writes the cache, when this process runs as the bundle's owner; silently not otherwise. */
function writeCache(file: string, script: Script): void {
  const target = cacheFileOf(file);
  const tmp = `${target}.${process.pid}.tmp`;
  try {
    if (statSync(file).uid !== process.geteuid?.()) return;
    // Caches of earlier builds of this bundle are of no use any more.
    for (const old of cacheFilesOf(file)) if (old !== target) rmSync(old, { force: true });
    writeFileSync(tmp, script.createCachedData(), { mode: 0o644, flag: 'wx' });
    renameSync(tmp, target);
  } catch {
    rmSync(tmp, { force: true });
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
  save?.();
}
