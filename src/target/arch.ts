// Names of an ELF machine: as borg's release assets name it (x86_64, arm64), as the kernel's
// `uname -m` does (x86_64, aarch64), and the Debian multiarch triplets where its libc lives.
import type { ElfIdentity } from './types';

export interface ArchNames {
  arch: string;
  kernelArch: string;
  triplets: string[];
}

interface Row {
  machine: number;
  class?: 32 | 64;
  endianness?: 'little' | 'big';
  /** Matches when (e_flags & mask) === value; used for ARM hard-float. */
  flags?: { mask: number; value: number };
  names: ArchNames;
}

const EF_ARM_ABI_FLOAT_HARD = 0x400;

const n = (arch: string, kernelArch: string, ...triplets: string[]): ArchNames => ({ arch, kernelArch, triplets });

// First matching row wins, so specific rows come before general ones for the same machine.
const TABLE: Row[] = [
  { machine: 62, class: 64, names: n('x86_64', 'x86_64', 'x86_64-linux-gnu') },
  { machine: 62, class: 32, names: n('x32', 'x86_64', 'x86_64-linux-gnux32') },
  { machine: 3, names: n('i386', 'i686', 'i386-linux-gnu') },
  { machine: 183, endianness: 'little', names: n('arm64', 'aarch64', 'aarch64-linux-gnu') },
  { machine: 183, endianness: 'big', names: n('arm64be', 'aarch64_be', 'aarch64_be-linux-gnu') },
  {
    machine: 40,
    flags: { mask: EF_ARM_ABI_FLOAT_HARD, value: EF_ARM_ABI_FLOAT_HARD },
    names: n('armhf', 'armv7l', 'arm-linux-gnueabihf'),
  },
  { machine: 40, names: n('armel', 'armv5tel', 'arm-linux-gnueabi') },
  { machine: 22, class: 64, names: n('s390x', 's390x', 's390x-linux-gnu') },
  { machine: 22, class: 32, names: n('s390', 's390', 's390-linux-gnu') },
  { machine: 21, endianness: 'little', names: n('ppc64le', 'ppc64le', 'powerpc64le-linux-gnu') },
  { machine: 21, endianness: 'big', names: n('ppc64', 'ppc64', 'powerpc64-linux-gnu') },
  { machine: 20, names: n('powerpc', 'ppc', 'powerpc-linux-gnu') },
  { machine: 243, class: 64, names: n('riscv64', 'riscv64', 'riscv64-linux-gnu') },
  { machine: 243, class: 32, names: n('riscv32', 'riscv32', 'riscv32-linux-gnu') },
  { machine: 258, names: n('loong64', 'loongarch64', 'loongarch64-linux-gnu') },
  { machine: 8, class: 64, endianness: 'little', names: n('mips64el', 'mips64', 'mips64el-linux-gnuabi64') },
  { machine: 8, class: 64, endianness: 'big', names: n('mips64', 'mips64', 'mips64-linux-gnuabi64') },
  { machine: 8, endianness: 'little', names: n('mipsel', 'mips', 'mipsel-linux-gnu') },
  { machine: 8, endianness: 'big', names: n('mips', 'mips', 'mips-linux-gnu') },
  { machine: 43, names: n('sparc64', 'sparc64', 'sparc64-linux-gnu') },
  { machine: 50, names: n('ia64', 'ia64', 'ia64-linux-gnu') },
  { machine: 41, names: n('alpha', 'alpha', 'alpha-linux-gnu') },
];

export function archOf(elf: ElfIdentity, eFlags: number): ArchNames {
  const row = TABLE.find(
    (r) =>
      r.machine === elf.machine &&
      (r.class === undefined || r.class === elf.class) &&
      (r.endianness === undefined || r.endianness === elf.endianness) &&
      (r.flags === undefined || (eFlags & r.flags.mask) === r.flags.value),
  );
  return row ? row.names : n(`elf-machine-${elf.machine}`, `elf-machine-${elf.machine}`);
}

/** Every multiarch triplet we know, for searching a root whose /bin/sh could not be read. */
export const ALL_TRIPLETS = [...new Set(TABLE.flatMap((r) => r.names.triplets))];

// Names people and other tools use for an arch, beyond borg's and the kernel's own (in TABLE).
const ALIASES: Record<string, string> = {
  amd64: 'x86_64',
  'x86-64': 'x86_64',
  x64: 'x86_64',
  i486: 'i386',
  i586: 'i386',
  x86: 'i386',
  ia32: 'i386',
  armv7: 'armhf',
  armv7hl: 'armhf',
  armhfp: 'armhf',
  ppc64el: 'ppc64le',
  powerpc64le: 'ppc64le',
};

/** Every arch name as borg names it, in table order (x86_64, x32, i386, arm64, ...). */
export const ARCH_NAMES = [...new Set(TABLE.map((r) => r.names.arch))];

/**
 * An arch as a user may write it (aarch64, amd64, i686, armv7l, ppc64el, ...) as borg names it
 * (arm64, x86_64, i386, armhf, ppc64le); null when it names no arch we know.
 */
export function normalizeArchName(name: string): string | null {
  const n = name.trim().toLowerCase();
  if (ARCH_NAMES.includes(n)) return n;
  if (ALIASES[n]) return ALIASES[n];
  return TABLE.find((r) => r.names.kernelArch === n)?.names.arch ?? null;
}

/** e_machine and class of the arches borg publishes builds for (and a few more). */
const ARCH_ELF: Record<string, Pick<ElfIdentity, 'class' | 'machine'>> = {
  x86_64: { class: 64, machine: 62 },
  arm64: { class: 64, machine: 183 },
  aarch64: { class: 64, machine: 183 },
  i386: { class: 32, machine: 3 },
  i686: { class: 32, machine: 3 },
  armhf: { class: 32, machine: 40 },
  s390x: { class: 64, machine: 22 },
  ppc64le: { class: 64, machine: 21 },
  riscv64: { class: 64, machine: 243 },
};

/** The ELF class and machine of a build for `arch` (borg names and kernel aliases); null when not known. */
export function elfIdentityForArch(arch: string): Pick<ElfIdentity, 'class' | 'machine'> | null {
  return ARCH_ELF[arch] ?? null;
}
