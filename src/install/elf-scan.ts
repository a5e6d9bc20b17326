// The compatibility check before activation: every ELF file of the unpacked build must be for the
// target's machine and need no GLIBC_x.y newer than the target's glibc release. This is what stops
// "GLIBC_2.38 not found" and "failed to map segment" from ever reaching the user.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { ArchiveError, CompatibilityError, InterruptedError, isProvisionError } from '../errors';
import type { ElfIdentity, ElfNeeds, Target } from '../target';
import { compareDotted, parseDotted } from '../util/dotted-version';

export interface ElfReader {
  isElfFileSync(file: string): boolean;
  readElfNeeds(file: string): Promise<ElfNeeds>;
}

export interface ElfScanResult {
  elfFiles: number;
  /** Highest GLIBC_x.y any file needs, or null when none needs one. */
  maxGlibcNeeded: string | null;
}

/** "GLIBC_2.34" -> "2.34"; null for GLIBC_PRIVATE, GLIBC_ABI_DT_RELR and non-glibc names. */
export function glibcVersionOf(need: string): string | null {
  const m = /^GLIBC_(.+)$/.exec(need);
  return m && parseDotted(m[1]) ? m[1] : null;
}

/**
 * The build's main executable, at the top of the scanned tree (borg-dir/borg.exe: the one-dir
 * build's program, or the one-file binary staged there). It must itself be an ELF file, so that it
 * goes through the same machine and glibc checks as the libraries: a script or other file there
 * would be run by the wrapper unchecked.
 */
export const MAIN_EXECUTABLE = 'borg.exe';

/**
 * ELF files read between two turns of the event loop. The target's reader reads synchronously
 * (a library at a time), so without a turn now and then an interrupt would be seen only after the scan.
 */
const FILES_PER_TURN = 8;

/**
 * Walks `root` (without following symlinks) and checks every ELF file; throws CompatibilityError.
 * Which files are ELF is found with synchronous 4-byte reads (most of a build is not ELF: Python
 * modules, data); only ELF files are read and parsed, one after another (the target's reader is
 * synchronous). Files are judged in walk order, so the error names the same file
 * each time.
 */
export async function scanElfTree(
  root: string,
  target: Pick<Target, 'glibc' | 'arch' | 'elf'>,
  reader: ElfReader,
  signal?: AbortSignal,
): Promise<ElfScanResult> {
  const files: string[] = [];
  for await (const file of regularFiles(root)) files.push(file);
  let elfFiles = 0;
  let maxGlibcNeeded: string | null = null;
  for (const file of files) {
    if (signal?.aborted) throw new InterruptedError();
    const rel = path.relative(root, file);
    if (!(await unreadable(rel, () => reader.isElfFileSync(file)))) {
      if (rel === MAIN_EXECUTABLE) throw await notElfMain(file);
      continue;
    }
    if (elfFiles > 0 && elfFiles % FILES_PER_TURN === 0) {
      await new Promise((resolve) => setImmediate(resolve));
      if (signal?.aborted) throw new InterruptedError();
    }
    const n = await unreadable(rel, () => reader.readElfNeeds(file));
    elfFiles++;
    checkMachine(n.elf, target, rel);
    for (const need of n.needs) {
      for (const v of need.versions) {
        const g = glibcVersionOf(v);
        if (!g) continue;
        if (compareDotted(g, target.glibc) > 0) {
          throw new CompatibilityError(
            `${rel} needs GLIBC_${g} (from ${need.library}) but the target has glibc ${target.glibc}; ` +
              'choose a build for an older glibc (see `borg-provision releases`)',
          );
        }
        if (maxGlibcNeeded === null || compareDotted(g, maxGlibcNeeded) > 0) maxGlibcNeeded = g;
      }
    }
  }
  return { elfFiles, maxGlibcNeeded };
}

/**
 * Runs one read of a file of the unpacked build. Whatever goes wrong (EACCES from a mode the
 * archive set, a truncated or corrupt ELF) is about the build's content, not the user's input or
 * the target: ArchiveError (exit 5), the build is refused. Not FilesystemError (6): the tree was
 * just written by us, so a file we cannot read or parse there is what the archive made it.
 */
async function unreadable<T>(rel: string, read: () => T | Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (err) {
    throw refusedRead(rel, err);
  }
}

function refusedRead(rel: string, err: unknown): ArchiveError {
  const why = isProvisionError(err) || err instanceof Error ? err.message : String(err);
  return new ArchiveError(`cannot read the ELF file ${rel} of the build (${why}); refusing it`);
}

async function notElfMain(file: string): Promise<ArchiveError> {
  const head = Buffer.alloc(64);
  const n = await fs.open(file, 'r').then(
    (h) =>
      h
        .read(head, 0, head.length, 0)
        .then((r) => r.bytesRead)
        .finally(() => h.close()),
    () => 0,
  );
  const text = head.subarray(0, n).toString('latin1');
  const what = text.startsWith('#!') ? `a script (${JSON.stringify(text.split('\n')[0])})` : 'not an ELF executable';
  return new ArchiveError(
    `${MAIN_EXECUTABLE}, the build's main executable, is ${what}; ` +
      `a borg build's ${MAIN_EXECUTABLE} is an ELF program for the target's arch: refusing the build`,
  );
}

function checkMachine(elf: ElfIdentity, target: Pick<Target, 'glibc' | 'arch' | 'elf'>, rel: string): void {
  if (!target.elf) return;
  if (elf.machine !== target.elf.machine || elf.class !== target.elf.class) {
    throw new CompatibilityError(
      `${rel} is built for another machine (ELF${elf.class}, e_machine ${elf.machine}) than the target's ${target.arch}; ` +
        'choose the build for this arch',
    );
  }
}

async function* regularFiles(dir: string): AsyncGenerator<string> {
  const entries = await fs.readdir(dir, { withFileTypes: true });
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) yield* regularFiles(p);
    else if (e.isFile()) yield p;
  }
}
