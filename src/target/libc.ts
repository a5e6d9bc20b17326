// Inspecting one libc file and the verdicts built on it.
import { basename } from 'node:path';
import { BadInputError, UnsupportedTargetError } from '../errors';
import { maxDotted, sortDotted } from '../util/dotted-version';
import { archOf } from './arch';
import { parseElf } from './elf-file';
import { glibcVersionsOf, readVersionDefinitions, readVersionNeeds } from './elf-versions';
import { findGlibcRelease } from './glibc-release';
import { readInputFile } from './read-file';
import type { ElfNeeds, LibcFile } from './types';

// musl's dynamic loader is its libc; its name, and the path file it reads, carry this marker.
const MUSL_MARKER = 'ld-musl-';

/** Parses one libc (read once into memory). ElfFormatError/BadInputError (exit 2) on bad input. */
export async function inspectLibc(libcPath: string): Promise<LibcFile> {
  return libcFromBytes(await readInputFile(libcPath), libcPath);
}

/** inspectLibc on bytes already in memory (the fuzz test drives this directly). */
export function libcFromBytes(buf: Buffer, libcPath: string): LibcFile {
  const image = parseElf(buf, libcPath);
  const names = archOf(image.identity, image.header.flags);
  const target = (family: 'glibc' | 'musl', versions: string[], release: string | null, build: string | null) => ({
    libc: { path: libcPath, family, release, maxSymbolVersion: maxDotted(versions), versions, build },
    arch: names.arch,
    kernelArch: names.kernelArch,
    elf: image.identity,
  });
  const versions = sortDotted(glibcVersionsOf(readVersionDefinitions(image)));
  const release = findGlibcRelease(buf);
  if (versions.length > 0 || release)
    return target('glibc', versions, release?.release ?? null, release?.build ?? null);
  if (basename(libcPath).includes('musl') || buf.includes(MUSL_MARKER)) return target('musl', [], null, null);
  // Neither glibc nor musl: the user named the wrong file (e.g. /bin/ls), which is bad input (2),
  // not an unsupported target (3).
  throw new BadInputError(
    `${libcPath} is an ELF file but not a C library (no GNU C Library release string and no GLIBC_ version definitions): ` +
      "pass the target's libc.so.6",
  );
}

/** The target itself when it is a glibc with a known release; UnsupportedTargetError (exit 3) otherwise. */
export function requireGlibc<T extends LibcFile>(t: T): T {
  if (t.libc.family !== 'glibc') {
    throw new UnsupportedTargetError(
      `${t.libc.path} is ${t.libc.family} libc; borg's Linux builds need glibc (use a glibc system, or borg from the distribution's packages)`,
    );
  }
  if (!t.libc.release) {
    throw new UnsupportedTargetError(
      `${t.libc.path} embeds no glibc release string, so compatibility cannot be judged; pass the target's own libc.so.6`,
    );
  }
  return t;
}

/** What an ELF file needs from each library (.gnu.version_r). ElfFormatError if not a valid ELF. */
export async function readElfNeeds(file: string): Promise<ElfNeeds> {
  return needsFromBytes(await readInputFile(file), file);
}

export function needsFromBytes(buf: Buffer, file: string): ElfNeeds {
  const image = parseElf(buf, file);
  return { elf: image.identity, needs: readVersionNeeds(image) };
}
