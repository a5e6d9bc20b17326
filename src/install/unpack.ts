// Safe extraction of a verified archive into a staging directory. Every entry is checked before
// tar writes it; one bad entry aborts the whole extraction (we never skip and carry on), and the
// caller removes the staging directory. node-tar has its own guards (preservePaths: false, symlink
// checks); ours come first so the verdict does not depend on tar's warning behaviour.
import { createHash } from 'node:crypto';
import { createReadStream, promises as fs } from 'node:fs';
import * as zlib from 'node:zlib';
import * as path from 'node:path';
import { ArchiveError, ChecksumError, InterruptedError, filesystemError, isProvisionError } from '../errors';

const ALLOWED_TYPES = new Set(['File', 'OldFile', 'ContiguousFile', 'Directory', 'SymbolicLink', 'Link']);

export interface EntryInfo {
  path: string;
  type: string;
  linkpath?: string;
}

/**
 * Tracks what the archive has created so far, to catch a symlink (inside or out) that a later
 * entry would write through: `a -> .` followed by `a/../../etc/x` style tricks.
 */
export class EntryGuard {
  private readonly symlinks = new Set<string>();
  private readonly files = new Set<string>();

  /** Throws ArchiveError when the entry is unsafe; returns its normalised relative path. */
  check(e: EntryInfo): string {
    const rel = normaliseEntryPath(e.path);
    if (!ALLOWED_TYPES.has(e.type)) {
      throw new ArchiveError(`archive entry ${quote(e.path)} is a ${describeType(e.type)}; a borg build holds only files, directories and links`);
    }
    this.refuseThroughSymlink(e.path, rel);
    if (e.type === 'SymbolicLink') {
      const target = e.linkpath ?? '';
      if (path.posix.isAbsolute(target)) throw escaping(e, `symlink to absolute path ${quote(target)}`);
      const resolved = path.posix.normalize(path.posix.join(path.posix.dirname(rel), target));
      if (resolved === '..' || resolved.startsWith('../')) throw escaping(e, `symlink pointing outside (${quote(target)})`);
      this.symlinks.add(rel);
    } else if (e.type === 'Link') {
      // Hard link targets are archive-root relative and must be a regular file seen earlier.
      const target = normaliseEntryPath(e.linkpath ?? '', e);
      if (!this.files.has(target)) throw escaping(e, `hard link to ${quote(e.linkpath ?? '')}, which is not a file in the archive`);
      this.refuseThroughSymlink(e.path, target);
      this.files.add(rel);
    } else if (e.type !== 'Directory') {
      this.files.add(rel);
      this.symlinks.delete(rel);
    }
    return rel;
  }

  private refuseThroughSymlink(original: string, rel: string): void {
    const parts = rel.split('/');
    for (let i = 1; i < parts.length; i++) {
      const ancestor = parts.slice(0, i).join('/');
      if (this.symlinks.has(ancestor)) {
        throw new ArchiveError(`archive entry ${quote(original)} is written through the symlink ${quote(ancestor)}; refusing the archive`);
      }
    }
  }
}

/** `./borg-dir//x` -> `borg-dir/x`; refuses absolute paths and any `..` component. */
export function normaliseEntryPath(p: string, e: EntryInfo = { path: p, type: 'File' }): string {
  if (p.startsWith('/') || /^[A-Za-z]:/.test(p) || p.includes('\\')) throw escaping(e, 'absolute path');
  const parts = p.split('/').filter((s) => s !== '' && s !== '.');
  if (parts.includes('..')) throw escaping(e, '".." component');
  if (parts.length === 0) return '.';
  return parts.join('/');
}

function escaping(e: EntryInfo, why: string): ArchiveError {
  return new ArchiveError(`archive entry ${quote(e.path)} escapes the install directory (${why}); refusing the archive`);
}

function describeType(type: string): string {
  const names: Record<string, string> = {
    CharacterDevice: 'character device',
    BlockDevice: 'block device',
    FIFO: 'FIFO',
  };
  return names[type] ?? `entry of unsupported type "${type}"`;
}

function quote(s: string): string {
  return JSON.stringify(s);
}

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
}

/**
 * Extracts a gzip (or plain) tar archive; rejects with ArchiveError/ChecksumError/FilesystemError/
 * InterruptedError. The caller removes `dest` on failure (entries may already be written).
 */
export async function unpackArchive(o: UnpackOptions): Promise<{ entries: number; sha256: string }> {
  const tar = await import('tar');
  if (o.signal?.aborted) throw new InterruptedError();
  const gzipped = await hasGzipMagic(o.archive);
  const guard = new EntryGuard();
  let entries = 0;
  let failure: unknown;
  return new Promise((resolve, reject) => {
    // Gunzip with Node's zlib stream (decompression runs on the libuv thread pool, overlapping
    // node-tar's parsing and writes on the main thread) rather than node-tar's inline minizlib.
    const file = createReadStream(o.archive, { highWaterMark: 1 << 20 });
    // Hash exactly the chunks that feed gunzip/tar (a second 'data' listener sees the same chunks
    // as the pipe). SHA-256 with SHA-NI costs ~20 ms per 30 MB, well under gunzip + writes.
    const hash = createHash('sha256');
    const fileDone = new Promise<string>((res, rej) => {
      file.on('end', () => res(hash.digest('hex')));
      file.on('error', rej);
      file.on('close', () => rej(new Error(`${path.basename(o.archive)} was not read to its end`))); // no-op after 'end'
    });
    fileDone.catch(() => undefined); // awaited only on the success path
    file.on('data', (chunk) => hash.update(chunk as Buffer));
    const source = gzipped ? file.pipe(zlib.createGunzip({ chunkSize: 256 << 10 })) : file;
    let unpacked = 0;
    source.on('data', (chunk: Buffer) => {
      unpacked += chunk.length;
      if (unpacked > MAX_UNPACKED_BYTES) stop(new ArchiveError(`${path.basename(o.archive)} unpacks to more than ${MAX_UNPACKED_BYTES >> 30} GiB; refusing it`));
    });
    file.on('error', (err) => finish(err));
    const unpack = new tar.Unpack({
      cwd: o.dest,
      strict: true,
      preservePaths: false,
      preserveOwner: false,
      // Never create setuid/setgid/sticky files, whatever the archive says.
      filter: (_p, entry) => {
        const e = entry as import('tar').ReadEntry;
        try {
          guard.check({ path: e.path, type: e.type, linkpath: e.linkpath });
        } catch (err) {
          stop(err);
          return false;
        }
        if (typeof e.mode === 'number') e.mode &= 0o777;
        entries++;
        return true;
      },
    });
    const stop = (err: unknown): void => {
      if (failure) return;
      failure = err;
      file.destroy();
      source.destroy();
      unpack.abort(err instanceof Error ? err : new Error(String(err)));
    };
    const onAbort = (): void => stop(new InterruptedError());
    o.signal?.addEventListener('abort', onAbort, { once: true });
    // node-tar silently ignores entries of unknown types; we refuse them.
    unpack.on('ignoredEntry', (e: import('tar').ReadEntry) => {
      if (!failure) stop(new ArchiveError(`archive entry ${quote(e.path)} has an unsupported type "${e.type}"; refusing the archive`));
    });
    let settled = false;
    const finish = (err?: unknown): void => {
      if (settled) return;
      settled = true;
      o.signal?.removeEventListener('abort', onAbort);
      const cause = failure ?? err;
      if (cause !== undefined) return reject(toUnpackError(cause, o));
      // tar is done; the digest needs the whole file (trailing bytes after the tar end included),
      // which a finished tar has normally read already; if not, read the rest for the hash only.
      if (!file.readableEnded) file.resume();
      fileDone.then((sha256) => {
        if (o.expectSha256 === undefined || sha256 === o.expectSha256) return resolve({ entries, sha256 });
        reject(changedAfterVerification(o.archive, sha256, o.expectSha256));
      }, (e: unknown) => reject(toUnpackError(e, o)));
    };
    source.on('error', (err: Error) => finish(err));
    unpack.on('error', (err: unknown) => finish(err));
    unpack.on('close', () => finish());
    // Destroying the source on abort may leave the parser waiting; settle once it is closed.
    source.on('close', () => {
      // Give writes already in flight a moment to land, so the caller's cleanup removes them.
      if (failure) setTimeout(() => finish(), 50);
    });
    source.pipe(unpack);
  });
}

/** A borg build is ~80 MB unpacked; anything near this is a decompression bomb. */
const MAX_UNPACKED_BYTES = 4 * 1024 ** 3;

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
  const code = (err as NodeJS.ErrnoException).code;
  if (code && /^E[A-Z]+$/.test(code) && code !== 'EEXIST') return filesystemError(err, 'unpack into', o.dest);
  const msg = err instanceof Error ? err.message : String(err);
  return new ArchiveError(`${path.basename(o.archive)} is not a valid tar.gz archive (${msg}); download it again`);
}
