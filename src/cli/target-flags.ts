// The target flags every command shares, and the one way they are turned into a target.
//
// API (for commands; `install` should adopt it too):
//   import { targetFlags, resolveTargetFromFlags } from '../cli/target-flags';
//   static override flags = { ...targetFlags, ... }            // --libc --root --glibc --arch
//   // or pick some: { libc: targetFlags.libc, root: targetFlags.root, arch: targetFlags.arch }
//   const t = await resolveTargetFromFlags(flags);             // inside run()
//   // t: { glibc: '2.36', arch: 'x86_64', source: 'this machine', libcTarget?: LibcTarget }
//
// The rules, the same in every command:
// - --arch takes borg's names and the usual aliases (aarch64 -> arm64, amd64 -> x86_64,
//   i686 -> i386, armv7l -> armhf, ppc64el -> ppc64le; see src/target/arch.ts); an unknown one is a
//   UsageError (exit 2).
// - --glibc is a release X.Y or X.Y.Z (2.31, 2.35.1); anything else is a UsageError (exit 2).
// - --glibc with --arch name the whole target: no libc is read (source 'given'); with --libc or
//   --root as well it is a UsageError, since the file would be ignored.
// - Otherwise the libc is read: --libc PATH, else the one found under --root DIR, else this
//   machine's. --libc and --root may be given together: the file is judged, the OS facts come
//   from the root (as detect does); --root must then still exist. A lone --glibc or --arch
//   overrides that one fact of the libc read. musl, or a glibc without a release string, is
//   UnsupportedTargetError (exit 3); a file that is no libc is bad input (exit 2).
// - source: 'given', the --libc path, 'root DIR', or 'this machine' (shown to the user).
import { Flags } from '@oclif/core';
import { UsageError } from '../errors';
import type { LibcTarget } from '../target/types';

export const targetFlags = {
  libc: Flags.string({
    description: "judge this libc file (e.g. the NAS's libc.so.6 copied here); with --root, the file is judged and the OS facts come from the root",
    helpValue: 'PATH',
  }),
  root: Flags.string({ description: "treat DIR as the target's root filesystem (mounted image, chroot); links resolve inside it", helpValue: 'DIR' }),
  glibc: Flags.string({ description: 'take this glibc release (X.Y or X.Y.Z) instead of reading a libc', helpValue: 'X.Y' }),
  arch: Flags.string({ description: "take this arch instead of the libc's: x86_64, arm64, i386, ... (aarch64, amd64, i686 also accepted)", helpValue: 'ARCH' }),
};

export interface TargetFlagValues {
  libc?: string;
  root?: string;
  glibc?: string;
  arch?: string;
}

export interface ResolvedTarget {
  /** The glibc release builds are judged against ("2.36"). */
  glibc: string;
  /** As borg names it (x86_64, arm64, ...). */
  arch: string;
  /** Where the facts came from, for people: 'given', the --libc path, 'root DIR', 'this machine'. */
  source: string;
  /** The libc that was read; absent when --glibc and --arch gave everything. */
  libcTarget?: LibcTarget;
}

/** --glibc's value, checked: X.Y or X.Y.Z. */
export function parseGlibcFlag(value: string): string {
  if (!/^\d+\.\d+(\.\d+)?$/.test(value)) throw new UsageError(`--glibc ${value} is not a glibc release: give it as X.Y (or X.Y.Z), e.g. 2.31`);
  return value;
}

/** --arch's value as borg names it; aliases accepted. */
export async function parseArchFlag(value: string): Promise<string> {
  const { normalizeArchName, ARCH_NAMES } = await import('../target/arch');
  const arch = normalizeArchName(value);
  if (!arch) throw new UsageError(`--arch ${value} is not an arch we know: use one of ${ARCH_NAMES.join(', ')} (or aarch64, amd64, i686, armv7l)`);
  return arch;
}

export async function resolveTargetFromFlags(flags: TargetFlagValues): Promise<ResolvedTarget> {
  const glibc = flags.glibc === undefined ? undefined : parseGlibcFlag(flags.glibc);
  const arch = flags.arch === undefined ? undefined : await parseArchFlag(flags.arch);
  const fileGiven = flags.libc !== undefined || flags.root !== undefined;
  if (glibc && arch) {
    if (fileGiven) throw new UsageError('--glibc and --arch already name the whole target: drop --libc/--root, or drop --glibc/--arch to read the libc');
    return { glibc, arch, source: 'given' };
  }
  const { realRoot, resolveLibcTarget, requireGlibc } = await import('../target');
  if (flags.libc !== undefined && flags.root !== undefined) await realRoot(flags.root); // exit 2 if it is not there
  const t = requireGlibc(await resolveLibcTarget({ libc: flags.libc, root: flags.root }));
  const source = flags.libc ?? (flags.root !== undefined ? `root ${flags.root}` : 'this machine');
  return { glibc: glibc ?? (t.libc.release as string), arch: arch ?? t.arch, source, libcTarget: t };
}
