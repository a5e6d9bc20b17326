// The archive-entry rules: every entry of a build's archive is judged from its header, before tar
// writes it. A borg build holds files, directories and links that stay inside the install
// directory; anything else (devices, `..`, absolute paths, links out or written through, names the
// filesystem would refuse, the install manifest's own path) is an ArchiveError (exit 5) naming the entry.
import * as path from 'node:path';
import { ArchiveError } from '../errors';
import { MANIFEST_FILE } from './store';

const ALLOWED_TYPES = new Set(['File', 'OldFile', 'ContiguousFile', 'Directory', 'SymbolicLink', 'Link']);

export interface EntryInfo {
  path: string;
  type: string;
  linkpath?: string;
}

/** Symlinks followed while resolving one path before we call it a loop (Linux allows 40). */
export const MAX_LINK_DEPTH = 40;

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

export function quote(s: string): string {
  return JSON.stringify(s);
}
