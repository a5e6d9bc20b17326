// Safe extraction of a verified archive into a staging directory. Every entry is judged by the
// entry guard (entry-guard.ts) before tar writes it; one bad entry stops the whole extraction (we
// never skip and carry on), and the caller removes the staging directory. node-tar has its own
// guards (preservePaths: false, symlink checks); ours come first so the verdict does not depend on
// tar's warning behaviour.
import { createHash } from 'node:crypto';
import { createReadStream, promises as fs, type ReadStream } from 'node:fs';
import * as zlib from 'node:zlib';
import * as path from 'node:path';
import {
  ArchiveError,
  ChecksumError,
  InterruptedError,
  filesystemError,
  isErrnoError,
  isProvisionError,
} from '../errors';
import { EntryGuard, MAX_LINK_DEPTH, checkEntryLimits, quote } from './entry-guard';

export interface UnpackOptions {
  archive: string;
  /** An existing, empty directory on the prefix's filesystem. */
  dest: string;
  /**
   * SHA-256 (hex) of the bytes that were verified. The raw archive bytes are hashed as tar reads
   * them, and the unpack fails with ChecksumError unless they are exactly those bytes: whatever
   * happened to the file after verification, only what was verified is ever accepted. Optional
   * only for callers that unpack for inspection (build's artifact check); install always sets it.
   */
  expectSha256?: string;
  signal?: AbortSignal;
  /** The decompression-bomb bound (default MAX_UNPACKED_BYTES); tests set a small one. */
  maxUnpackedBytes?: number;
}

let tarModule: Promise<typeof import('tar')> | null = null;

/** Loads node-tar once. */
export function loadTar(): Promise<typeof import('tar')> {
  tarModule ??= import('tar');
  return tarModule;
}

/**
 * Extracts a gzip (or plain) tar archive with node-tar's streaming `Unpack`; rejects with
 * ArchiveError/ChecksumError/FilesystemError/InterruptedError. The caller removes `dest` on failure
 * (entries before the failure may be written): this settles only once node-tar has closed every
 * file it was writing (its 'close' event), so nothing is still being written when `dest` goes.
 *
 * The raw bytes are hashed as they are read, and decompressed here (not by node-tar) so that the
 * unpacked size is counted and bounded. On a failure (an entry the guard refuses, one of tar's own
 * errors, too many bytes, an interrupt) nothing more is fed to tar: it refuses every later entry
 * (the filter says no), its input is ended, and its close is awaited.
 */
export async function unpackArchive(o: UnpackOptions): Promise<{ entries: number; sha256: string }> {
  const tar = await loadTar();
  if (o.signal?.aborted) throw new InterruptedError();
  const gzipped = await hasGzipMagic(o.archive);
  const guard = new EntryGuard();
  let entries = 0;
  let failure: unknown;
  // Where the failed entry stands in the archive (-1: no entry's, e.g. an interrupt). tar writes in
  // the background, so its error for an entry can come after a later entry has failed (refused by
  // the guard, or written sooner): the first in archive order is the one reported, every time.
  let failedAt = -1;
  const position = new WeakMap<object, number>();

  const file = createReadStream(o.archive, { highWaterMark: 1 << 20 });
  const digest = hashAsRead(file, o.archive);
  // 1 MiB output chunks: each is one trip to the thread pool; smaller ones made the unpack of a
  // 30 MB build slower (bench/install.bench.js).
  const source = gzipped ? file.pipe(zlib.createGunzip({ chunkSize: 1 << 20 })) : file;
  const unpack = new tar.Unpack({
    cwd: o.dest,
    strict: true,
    preservePaths: false,
    preserveOwner: false,
    filter: (_p, entry) => {
      const e = entry as import('tar').ReadEntry;
      if (failure) return false;
      try {
        const rel = guard.check({ path: e.path, type: e.type, linkpath: e.linkpath });
        checkEntryLimits(rel, o.dest, e.path);
      } catch (err) {
        stop(err, entries);
        return false;
      }
      // Never create setuid/setgid/sticky files, whatever the archive says.
      if (typeof e.mode === 'number') e.mode &= 0o777;
      position.set(e, entries++);
      return true;
    },
  });
  const closed = new Promise<void>((resolve) => unpack.on('close', resolve));

  let tarEnded = false;
  const endTar = (): void => {
    if (tarEnded) return;
    tarEnded = true;
    unpack.end();
  };
  // The first failure wins; called from inside tar's write() too, so tar's input is ended after it unwinds.
  const stop = (err: unknown, at = -1): void => {
    if (failure) return;
    failure = err;
    failedAt = at;
    file.destroy();
    if (source !== file) source.destroy();
    setImmediate(endTar);
  };
  const onAbort = (): void => stop(new InterruptedError());
  o.signal?.addEventListener('abort', onAbort, { once: true });
  unpack.on('error', (err: Error & { entry?: object; tarCode?: string }) => {
    const at = err.entry ? position.get(err.entry) : undefined;
    if (at === undefined) return stop(err);
    // Not the "truncated" that ending tar's input early causes: that is no failure of its own.
    if (failure && at < failedAt && err.tarCode !== 'TAR_BAD_ARCHIVE') [failure, failedAt] = [err, at];
    else stop(err, at);
  });
  file.on('error', stop);
  source.on('error', stop);

  const count = unpackedBytesGuard(o);
  source.on('data', (chunk: Buffer) => {
    if (failure) return;
    const refused = count(chunk);
    if (refused) return stop(refused);
    if (!unpack.write(chunk)) source.pause();
  });
  unpack.on('drain', () => {
    if (!failure) source.resume();
  });
  source.on('end', () => {
    if (!failure) endTar();
  });

  await closed;
  o.signal?.removeEventListener('abort', onAbort);
  if (failure !== undefined) throw toUnpackError(failure, o);
  try {
    // The digest needs the whole file (trailing bytes after the tar end included); read the rest if need be.
    if (!file.readableEnded) file.resume();
    const sha256 = await digest;
    if (o.expectSha256 !== undefined && sha256 !== o.expectSha256)
      throw changedAfterVerification(o.archive, sha256, o.expectSha256);
    // Belt and braces after the entry checks: what the kernel makes of every link on disk.
    await refuseLinksOutside(o.dest);
    return { entries, sha256 };
  } catch (err) {
    throw toUnpackError(err, o);
  }
}

/** SHA-256 of exactly the chunks read (a second 'data' listener sees the same chunks as the pipe). */
function hashAsRead(file: ReadStream, archive: string): Promise<string> {
  const hash = createHash('sha256');
  file.on('data', (chunk) => hash.update(chunk as Buffer));
  const digest = new Promise<string>((resolve, reject) => {
    file.on('end', () => resolve(hash.digest('hex')));
    file.on('error', reject);
    file.on('close', () => reject(new Error(`${path.basename(archive)} was not read to its end`))); // no-op after 'end'
  });
  digest.catch(() => undefined); // awaited only on the success path
  return digest;
}

/**
 * Counts the tar stream's bytes against the decompression-bomb bound, and refuses a stream that
 * is itself compressed (a .tgz inside the .tgz): node-tar would inflate that on its own, past the count.
 */
function unpackedBytesGuard(o: UnpackOptions): (chunk: Buffer) => ArchiveError | null {
  const max = o.maxUnpackedBytes ?? MAX_UNPACKED_BYTES;
  let unpacked = 0;
  let head = Buffer.alloc(0);
  return (chunk) => {
    if (head.length < 4) {
      head = Buffer.concat([head, chunk.subarray(0, 4 - head.length)]);
      if (startsCompressed(head))
        return new ArchiveError(
          `${path.basename(o.archive)} holds a compressed stream, not a tar archive; refusing it`,
        );
    }
    unpacked += chunk.length;
    return unpacked > max ? tooBig(o.archive, unpacked, max) : null;
  };
}

/** gzip (1f 8b) or zstd (28 b5 2f fd) magic, which node-tar sniffs and decompresses by itself. */
function startsCompressed(head: Buffer): boolean {
  const zstd = [0x28, 0xb5, 0x2f, 0xfd];
  return (head[0] === 0x1f && head[1] === 0x8b) || (head.length === 4 && zstd.every((b, i) => head[i] === b));
}

/**
 * Refuses the unpacked tree if any symlink in it resolves (as the kernel resolves it, chains and
 * all) outside `root`. A dangling link is judged by where its text leads from its real directory.
 */
export async function refuseLinksOutside(root: string): Promise<void> {
  const top = await fs.realpath(root);
  const inside = (p: string): boolean => p === top || p.startsWith(`${top}${path.sep}`);
  for (const link of await symlinksUnder(root)) {
    const where = await whereLinkLeads(link);
    if (where === null || !inside(where)) {
      const rel = path.relative(root, link);
      throw new ArchiveError(
        `archive entry ${quote(rel)} is a symlink that resolves outside the install directory${where ? ` (to ${where})` : ' (a loop)'}; refusing the archive`,
      );
    }
  }
}

async function symlinksUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await fs.readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isSymbolicLink()) out.push(p);
    else if (e.isDirectory()) out.push(...(await symlinksUnder(p)));
  }
  return out;
}

/** Where a link leads, component by component on disk as the kernel walks it; null for a loop. */
async function whereLinkLeads(link: string): Promise<string | null> {
  return walkLink(await fs.realpath(path.dirname(link)), await fs.readlink(link), 0);
}

/**
 * Resolves `text` from the real directory `dir`. Links met on the way are followed; from the first
 * missing component on, the rest is taken as text (a dangling link is judged by where it would
 * lead if that name appeared).
 */
async function walkLink(dir: string, text: string, depth: number): Promise<string | null> {
  if (depth > MAX_LINK_DEPTH) return null;
  let cur = path.isAbsolute(text) ? '/' : dir;
  const parts = text.split('/');
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i];
    if (part === '' || part === '.') continue;
    if (part === '..') {
      cur = path.dirname(cur);
      continue;
    }
    const next = path.join(cur, part);
    const st = await fs.lstat(next).catch(() => null);
    if (!st) return path.resolve(next, ...parts.slice(i + 1));
    if (!st.isSymbolicLink()) {
      cur = next;
      continue;
    }
    const target = await walkLink(cur, await fs.readlink(next), depth + 1);
    if (target === null) return null;
    cur = target;
  }
  return cur;
}

/** A borg build is ~80 MB unpacked; anything near this is a decompression bomb. */
const MAX_UNPACKED_BYTES = 4 * 1024 ** 3;

function tooBig(archive: string, unpacked: number, limit: number): ArchiveError {
  return new ArchiveError(
    `${path.basename(archive)} unpacks to more than ${sizeText(limit)} ` +
      '(the limit for a borg build, which is about 80 MB): ' +
      `stopped at ${sizeText(unpacked)}; refusing it`,
  );
}

/** 4 GiB, 80.5 MiB, 1.2 KiB, 300 bytes (binary units, exact for whole numbers). */
function sizeText(n: number): string {
  const units: [number, string][] = [
    [1024 ** 3, 'GiB'],
    [1024 ** 2, 'MiB'],
    [1024, 'KiB'],
  ];
  for (const [size, unit] of units) if (n >= size) return `${Number((n / size).toFixed(1))} ${unit}`;
  return `${n} bytes`;
}

async function hasGzipMagic(file: string): Promise<boolean> {
  const h = await fs.open(file, 'r').catch((err) => {
    throw new ArchiveError(`cannot read ${file}: ${(err as Error).message}`);
  });
  try {
    const { buffer, bytesRead } = await h.read(Buffer.alloc(2), 0, 2, 0);
    return bytesRead === 2 && buffer[0] === 0x1f && buffer[1] === 0x8b;
  } finally {
    await h.close();
  }
}

/** The bytes unpacked are not the bytes verified: the file changed in between (or is changing). */
export function changedAfterVerification(archive: string, got: string, verified: string): ChecksumError {
  return new ChecksumError(
    `${path.basename(archive)} changed after it was verified (SHA-256 ${got.slice(0, 16)}… unpacked, ${verified.slice(0, 16)}… verified); ` +
      'nothing was installed: check who writes to that file, then install again',
  );
}

function toUnpackError(err: unknown, o: UnpackOptions): unknown {
  if (isProvisionError(err)) return err;
  // node-tar's own link rule, stricter than ours: a link whose target passes through a symlink
  // already on disk (`l2 -> l1/x` where l1 is a link) is refused even when it stays inside.
  const t = err as { code?: string; entry?: { path?: string }; symlink?: string };
  if (t.code === 'TAR_SYMLINK_ERROR' && t.entry?.path) {
    const through = t.symlink ? ` ${quote(path.relative(o.dest, t.symlink))}` : '';
    return new ArchiveError(
      `archive entry ${quote(t.entry.path)} is a link whose target passes through the symlink${through}; refusing the archive`,
    );
  }
  // A name this filesystem allows less of than checkEntryLimits does (eCryptfs: 143 bytes): still the archive's name.
  if (isErrnoError(err) && err.code === 'ENAMETOOLONG') {
    const where = err.path ? quote(path.relative(o.dest, err.path)) : 'an entry';
    return new ArchiveError(
      `archive entry ${where} has a name too long for the filesystem of ${o.dest}: refusing the archive`,
    );
  }
  if (isErrnoError(err) && err.code !== 'EEXIST') return filesystemError(err, 'unpack into', o.dest);
  const msg = err instanceof Error ? err.message : String(err);
  return new ArchiveError(`${path.basename(o.archive)} is not a valid tar.gz archive (${msg}); download it again`);
}
