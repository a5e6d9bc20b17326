// What the target stage reports. Other stages (releases, install, build) depend only on these
// shapes, never on how they were read.

export interface ElfIdentity {
  class: 32 | 64;
  endianness: 'little' | 'big';
  /** e_machine, e.g. 62 for x86-64, 183 for AArch64. */
  machine: number;
}

export interface LibcInfo {
  path: string;
  family: 'glibc' | 'musl';
  /** The glibc release compatibility is judged by ("2.31"), from the string libc embeds. */
  release: string | null;
  /** Highest GLIBC_x.y the libc defines in .gnu.version_d (may be below the release). */
  maxSymbolVersion: string | null;
  /** Every GLIBC_x.y[.z] defined, without the "GLIBC_" prefix, sorted numerically. */
  versions: string[];
  /** Vendor build, e.g. "Debian GLIBC 2.31-13+deb11u11", when libc embeds one. */
  build: string | null;
}

/** One libc file as read: the library, and the machine it was built for. */
export interface LibcFile {
  libc: LibcInfo;
  /** Arch as borg names it: x86_64, arm64, i386, armhf, s390x, ppc64le, riscv64, ... */
  arch: string;
  /** Arch as the kernel (uname -m) names it: x86_64, aarch64, i686, armv7l, ... */
  kernelArch: string;
  elf: ElfIdentity;
}

/** One library's entry in .gnu.version_r: which versions a file needs from it. */
export interface VersionNeed {
  /** The library file name (soname) the need is against, e.g. "libc.so.6". */
  library: string;
  /** Version names as written, e.g. ["GLIBC_2.2.5", "GLIBC_2.34"]. */
  versions: string[];
}

export interface ElfNeeds {
  elf: ElfIdentity;
  needs: VersionNeed[];
}

export interface PathReport {
  path: string;
  exists: boolean;
  /** false when flagsKnown is false: then it is not known, not "exec". */
  noexec: boolean;
  /** false when flagsKnown is false: then it is not known, not "writable". */
  readonly: boolean;
  /**
   * Whether noexec/readonly come from the mount table. false when /proc/self/mountinfo could not be
   * read (or holds no mount above the path): callers that need an exec-capable, writable place
   * should refuse such a path (fail closed) or say loudly that it is unchecked.
   */
  flagsKnown: boolean;
  /** The mount point the path lives on, when known (running machine only). */
  mountPoint?: string | null;
}

export interface OsRelease {
  id: string | null;
  versionId: string | null;
  codename: string | null;
  prettyName: string | null;
}

export interface SystemReport {
  os: OsRelease | null;
  debian: 'bullseye' | 'bookworm' | 'trixie' | null;
  truenas: { version: string; codename: string | null } | null;
}

export interface SudoReport {
  sudoUser: string | null;
  uid: number;
  runUserDir: string;
  runUserDirExists: boolean;
}

export interface BorgOnPath {
  /** The first PATH entry that reaches it. */
  path: string;
  /** The file itself, links resolved. */
  realPath: string;
  /** Later PATH entries that reach the same file (e.g. /bin/borg under usrmerge). */
  alsoAt: string[];
  version: string | null;
}

/** What detect looked at: the running machine, a --root tree, or a --libc file alone. */
export interface ReportSource {
  kind: 'running' | 'root' | 'libc';
  /** The --root directory (real path), or null. */
  root: string | null;
  /** The libc path as the target sees it (inside --root), e.g. "/usr/lib/x86_64-linux-gnu/libc.so.6". */
  libcTargetPath: string | null;
  /** Mount flags, sudo context and borg on PATH describe the running machine only. */
  hostChecked: boolean;
}

export interface TargetReport extends LibcFile {
  system: SystemReport;
  paths: PathReport[];
  sudo: SudoReport;
  borg: BorgOnPath[];
  source?: ReportSource;
}
