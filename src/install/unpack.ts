// Safe extraction of a verified archive into a staging directory. Every entry is checked before
// tar writes it; one bad entry aborts the whole extraction (we never skip and carry on), and the
// caller removes the staging directory. node-tar has its own guards (preservePaths: false, symlink
// checks); ours come first so the verdict does not depend on tar's warning behaviour.
import { createHash } from 'node:crypto';
import { createReadStream, promises as fs } from 'node:fs';
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
import { MANIFEST_FILE } from './store';

const ALLOWED_TYPES = new Set(['File', 'OldFile', 'ContiguousFile', 'Directory', 'SymbolicLink', 'Link']);

export interface EntryInfo {
  path: string;
  type: string;
  linkpath?: string;
}

/** Symlinks followed while resolving one path before we call it a loop (Linux allows 40). */
const MAX_LINK_DEPTH = 40;

/** Longest name of one path component, in bytes (NAME_MAX of ext4, xfs, zfs, btrfs, tmpfs). */
const MAX_NAME_BYTES = 255;
/** Longest path the kernel takes, in bytes with its NUL (PATH_MAX). */
const MAX_PATH_BYTES = 4096;
/** Directories deep an entry may be; a borg build nests about ten. */
const MAX_DEPTH = 64;
/** Where install writes its manifest after the unpack: no archive entry may be (or be under) it. */
const RESERVED = `borg-dir/${MANIFEST_FILE}`;

/**
 * Refuses, from the entry's header before tar writes it, what the filesystem would refuse with a
 * raw ENAMETOOLONG, and what would collide with install's own manifest (EISDIR, or overwritten):
 * these are defects of the archive, reported as such (exit 5) and naming the entry.
 */
export function checkEntryLimits(rel: string, dest: string, original: string = rel): void {
  const parts = rel.split('/');
  const long = parts.find((p) => Buffer.byteLength(p) > MAX_NAME_BYTES);
  if (long !== undefined) {
    throw new ArchiveError(
      `archive entry ${quote(original)} has a name of ${Buffer.byteLength(long)} bytes ` +
        `(${quote(long.slice(0, 40))}...); ` +
        `filesystems allow ${MAX_NAME_BYTES}: refusing the archive`,
    );
  }
  if (parts.length > MAX_DEPTH) {
    throw new ArchiveError(
      `archive entry ${quote(clip(original))} is nested ${parts.length} levels deep ` +
        `(at most ${MAX_DEPTH}): refusing the archive`,
    );
  }
  const full = Buffer.byteLength(path.join(dest, rel)) + 1;
  if (full > MAX_PATH_BYTES) {
    throw new ArchiveError(
      `archive entry ${quote(clip(original))} would be a path of ${full} bytes under the install directory ` +
        `(at most ${MAX_PATH_BYTES}): refusing the archive`,
    );
  }
  if (rel === RESERVED || rel.startsWith(`${RESERVED}/`)) {
    throw new ArchiveError(
      `archive entry ${quote(original)} collides with the install manifest ${RESERVED}, which borg-provision writes: ` +
        'refusing the archive',
    );
  }
}

/** A long entry name shortened for a one-line message: its start and its end. */
function clip(s: string): string {
  return s.length <= 120 ? s : `${s.slice(0, 60)}...${s.slice(-50)}`;
}

/**
 * Tracks what the archive has created so far, to catch a symlink (inside or out) that a later
 * entry would write through (`a -> .` followed by `a/../../etc/x` style tricks), and symlinks
 * whose targets escape only once the links they pass through are followed
 * (`a/b/s1 -> ../..`, then `a/b/s2 -> s1/../../../..`). Link targets are resolved component by
 * component through the symlinks recorded so far, as the kernel would; and since a later link can
 * change how an earlier one resolves, every recorded link is re-resolved when a link is added.
 */
export class EntryGuard {
  /** Archive-relative path -> link target text. */
  private readonly symlinks = new Map<string, string>();
  private readonly files = new Set<string>();

  /** Throws ArchiveError when the entry is unsafe; returns its normalized relative path. */
  check(e: EntryInfo): string {
    const rel = normalizeEntryPath(e.path);
    if (!ALLOWED_TYPES.has(e.type)) {
      throw new ArchiveError(
        `archive entry ${quote(e.path)} is a ${describeType(e.type)}; a borg build holds only files, directories and links`,
      );
    }
    this.refuseThroughSymlink(e.path, rel);
    if (e.type === 'SymbolicLink') {
      const target = e.linkpath ?? '';
      if (path.posix.isAbsolute(target)) throw escaping(e, `symlink to absolute path ${quote(target)}`);
      this.symlinks.set(rel, target);
      // tar replaces whatever was at `rel`: it is no file a later hard link may point at any more.
      this.files.delete(rel);
      for (const [link, text] of this.symlinks) {
        if (this.resolveLink(link, text) === null) {
          this.symlinks.delete(rel);
          const why =
            link === rel
              ? `symlink pointing outside (${quote(target)})`
              : `symlink that makes ${quote(link)} point outside`;
          throw escaping(e, why);
        }
      }
    } else if (e.type === 'Link') {
      // Hard link targets are archive-root relative and must be a regular file seen earlier (a hard
      // link to a symlink would copy the link text to another directory, where it means something else).
      const target = normalizeEntryPath(e.linkpath ?? '', e);
      if (!this.files.has(target))
        throw escaping(e, `hard link to ${quote(e.linkpath ?? '')}, which is not a file in the archive`);
      this.refuseThroughSymlink(e.path, target);
      this.files.add(rel);
      this.symlinks.delete(rel);
    } else if (e.type !== 'Directory') {
      this.files.add(rel);
      this.symlinks.delete(rel);
    }
    // A Directory over a symlink stays recorded as a symlink: refusing too much is safe.
    return rel;
  }

  /** Where the link at `link` points, as archive-relative components, or null if outside (or a loop). */
  private resolveLink(link: string, text: string): string[] | null {
    const parent = link.split('/').slice(0, -1);
    return this.resolve(parent, text, 0);
  }

  /** Resolves `text` from the directory `base` (already resolved) through recorded symlinks. */
  private resolve(base: string[], text: string, depth: number): string[] | null {
    if (depth > MAX_LINK_DEPTH) return null;
    const stack = [...base];
    for (const part of text.split('/')) {
      if (part === '' || part === '.') continue;
      if (part === '..') {
        if (stack.length === 0) return null;
        stack.pop();
        continue;
      }
      const candidate = [...stack, part].join('/');
      const target = this.symlinks.get(candidate);
      if (target === undefined) {
        stack.push(part);
        continue;
      }
      if (path.posix.isAbsolute(target)) return null;
      const resolved = this.resolve(stack, target, depth + 1);
      if (resolved === null) return null;
      stack.splice(0, stack.length, ...resolved);
    }
    return stack;
  }

  private refuseThroughSymlink(original: string, rel: string): void {
    const parts = rel.split('/');
    for (let i = 1; i < parts.length; i++) {
      const ancestor = parts.slice(0, i).join('/');
      if (this.symlinks.has(ancestor)) {
        throw new ArchiveError(
          `archive entry ${quote(original)} is written through the symlink ${quote(ancestor)}; refusing the archive`,
        );
      }
    }
  }
}

/** `./borg-dir//x` -> `borg-dir/x`; refuses absolute paths and any `..` component. */
export function normalizeEntryPath(p: string, e: EntryInfo = { path: p, type: 'File' }): string {
  if (p.startsWith('/') || /^[A-Za-z]:/.test(p) || p.includes('\\')) throw escaping(e, 'absolute path');
  const parts = p.split('/').filter((s) => s !== '' && s !== '.');
  if (parts.includes('..')) throw escaping(e, '".." component');
  if (parts.length === 0) return '.';
  return parts.join('/');
}

function escaping(e: EntryInfo, why: string): ArchiveError {
  return new ArchiveError(
    `archive entry ${quote(e.path)} escapes the install directory (${why}); refusing the archive`,
  );
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
  /** The decompression-bomb bound (default MAX_UNPACKED_BYTES); tests set a small one. */
  maxUnpackedBytes?: number;
}

let tarModule: Promise<typeof import('tar')> | null = null;

/**
 * Loads node-tar once. The install pipeline calls it while the archive
 * downloads, when this thread mostly waits, so that unpacking does not wait for it later.
 */
export function loadTar(): Promise<typeof import('tar')> {
  tarModule ??= import('tar');
  return tarModule;
}

/**
 * Extracts a gzip (or plain) tar archive; rejects with ArchiveError/ChecksumError/FilesystemError/
 * InterruptedError. The caller removes `dest` on failure (entries may already be written).
 *
 * WHY node-tar's UnpackSync, fed by an asynchronous gunzip: node-tar's async Unpack makes five or
 * six thread-pool round trips per entry (lstat, mkdir, open, write, futimes, close), which took
 * 0.09-0.15 s for the ~100 small files of a one-dir build, against 0.01 s for GNU tar; with
 * synchronous calls the same tree takes ~0.03 s, and a 30 MB build unpacks 15-35% faster.
 * Decompression stays on the thread pool, overlapping the writes. Every entry an archive chunk
 * holds is on disk when `write()` returns, so no completion event is awaited (UnpackSync never
 * emits one after an entry error: its pending count goes below zero).
 */
export async function unpackArchive(o: UnpackOptions): Promise<{ entries: number; sha256: string }> {
  const tar = await loadTar();
  if (o.signal?.aborted) throw new InterruptedError();
  const gzipped = await hasGzipMagic(o.archive);
  const guard = new EntryGuard();
  let entries = 0;
  let failure: unknown;
  return new Promise((resolve, reject) => {
    const file = createReadStream(o.archive, { highWaterMark: 1 << 20 });
    // Hash exactly the chunks that feed gunzip/tar (a second 'data' listener sees the same chunks
    // as the pipe). SHA-256 with SHA-NI costs far less than gunzip and the writes.
    const hash = createHash('sha256');
    const fileDone = new Promise<string>((res, rej) => {
      file.on('end', () => res(hash.digest('hex')));
      file.on('error', rej);
      file.on('close', () => rej(new Error(`${path.basename(o.archive)} was not read to its end`))); // no-op after 'end'
    });
    fileDone.catch(() => undefined); // awaited only on the success path
    file.on('data', (chunk) => hash.update(chunk as Buffer));
    // 1 MiB output chunks: each is one trip to the thread pool and one write per file it spans;
    // 256 KiB chunks made the unpack of a 30 MB build ~25% slower (bench/install.bench.js).
    const source = gzipped ? file.pipe(zlib.createGunzip({ chunkSize: 1 << 20 })) : file;
    const unpack = new tar.UnpackSync({
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
          stop(err);
          return false;
        }
        // Never create setuid/setgid/sticky files, whatever the archive says.
        if (typeof e.mode === 'number') e.mode &= 0o777;
        entries++;
        return true;
      },
    });
    let settled = false;
    // On a failure (ours or tar's, reported synchronously from inside write()), nothing more is fed
    // to tar: later entries are never written, and what is on disk is for the caller to remove.
    const stop = (err: unknown): void => {
      if (failure) return;
      failure = err;
      file.destroy();
      if (source !== file) source.destroy();
      // Not from inside tar's write(): let it unwind first. Then end tar's input, so that it closes
      // the file it was writing (it refuses every entry from now on: the filter says no).
      setImmediate(() => {
        try {
          unpack.end();
        } catch {
          // the failure is reported already
        }
        finish();
      });
    };
    const onAbort = (): void => stop(new InterruptedError());
    o.signal?.addEventListener('abort', onAbort, { once: true });
    unpack.on('error', (err: unknown) => stop(err));
    // node-tar silently ignores entries of unknown types; we refuse them.
    unpack.on('ignoredEntry', (e: import('tar').ReadEntry) => {
      if (!failure)
        stop(
          new ArchiveError(`archive entry ${quote(e.path)} has an unsupported type "${e.type}"; refusing the archive`),
        );
    });
    let unpacked = 0;
    const maxUnpacked = o.maxUnpackedBytes ?? MAX_UNPACKED_BYTES;
    // Chunks are handed to tar from the event loop, not from gunzip's callback: gunzip then starts
    // inflating the next chunk on the thread pool while this thread writes the last one.
    const queue: Buffer[] = [];
    let ended = false;
    let draining = false;
    const drain = (): void => {
      draining = false;
      try {
        while (queue.length > 0 && !failure) unpack.write(queue.shift()!);
        if (source.isPaused() && !failure) source.resume();
        if (!ended || failure) return;
        unpack.end(); // a truncated archive is reported from in here
      } catch (err) {
        return stop(err); // node-tar reports through 'error'; anything thrown still fails the unpack
      }
      if (!failure) finish();
    };
    const schedule = (): void => {
      if (draining) return;
      draining = true;
      setImmediate(drain);
    };
    source.on('data', (chunk: Buffer) => {
      if (failure) return;
      unpacked += chunk.length;
      if (unpacked > maxUnpacked) return stop(tooBig(o.archive, unpacked, maxUnpacked));
      queue.push(chunk);
      // A guard only: gunzip delivers one chunk per trip to the thread pool, and the queue is
      // drained on the same turn of the event loop, so it holds one chunk in practice.
      if (queue.length >= 4) source.pause();
      schedule();
    });
    source.on('end', () => {
      ended = true;
      schedule();
    });
    file.on('error', (err) => stop(err));
    source.on('error', (err: Error) => stop(err));
    function finish(): void {
      if (settled) return;
      settled = true;
      o.signal?.removeEventListener('abort', onAbort);
      if (failure !== undefined) return reject(toUnpackError(failure, o));
      // The digest needs the whole file (trailing bytes after the tar end included), which the
      // read stream has normally delivered by now; if not, read the rest for the hash only.
      if (!file.readableEnded) file.resume();
      fileDone
        .then(async (sha256) => {
          if (o.expectSha256 !== undefined && sha256 !== o.expectSha256)
            throw changedAfterVerification(o.archive, sha256, o.expectSha256);
          // Belt and braces after the entry checks: what the kernel makes of every link on disk.
          await refuseLinksOutside(o.dest);
          resolve({ entries, sha256 });
        })
        .catch((e: unknown) => reject(toUnpackError(e, o)));
    }
  });
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
