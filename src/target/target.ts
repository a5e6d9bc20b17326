// The target as the stages after this one see it, resolved once (compare uv's Platform): the glibc
// release builds are judged against, the arch, the ELF identity every file of a build must have,
// and the libc file it was read from (its family, release, the GLIBC_ versions it defines, its
// build), if one was read.
import { elfIdentityForArch } from './arch';
import { requireGlibc } from './libc';
import type { ElfIdentity, LibcFile } from './types';

export interface Target {
  /** The glibc release builds are judged against ("2.36"). */
  glibc: string;
  /** As borg names it (x86_64, arm64, ...). */
  arch: string;
  /**
   * The ELF class and machine every file of a build must have: the libc's own when the arch is the
   * libc's, else the arch's; null for an arch whose identity is not known (then not checked).
   */
  elf: Pick<ElfIdentity, 'class' | 'machine'> | null;
  /** The libc that was read; null when the glibc release and arch were given. */
  libcFile: LibcFile | null;
  /**
   * Where the facts came from, for people: 'given', a libc path, 'root DIR', 'this machine', or
   * which fact was given and which read, e.g. '--glibc 2.36, arch of this machine'.
   */
  source: string;
}

/** A target named by its glibc release and arch alone: nothing was read. */
export function givenTarget(glibc: string, arch: string, source: string): Target {
  return { glibc, arch, elf: elfIdentityForArch(arch), libcFile: null, source };
}

/**
 * The target a libc file describes, with its glibc release or arch replaced when given.
 * UnsupportedTargetError (exit 3) for musl or a glibc without a release string.
 */
export function targetFromLibc(file: LibcFile, source: string, given: { glibc?: string; arch?: string } = {}): Target {
  const f = requireGlibc(file);
  const arch = given.arch ?? f.arch;
  const elf = arch === f.arch ? { class: f.elf.class, machine: f.elf.machine } : elfIdentityForArch(arch);
  return { glibc: given.glibc ?? (f.libc.release as string), arch, elf, libcFile: f, source };
}
