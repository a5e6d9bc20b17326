// The target flags every command shares, and the one way they are turned into a target.
//
// API (for commands):
//   import { targetFlags, resolveTargetFromFlags } from '../cli/target-flags';
//   static override flags = { ...targetFlags, ... }            // --libc --root --glibc --arch
//   // or pick some: { libc: targetFlags.libc, root: targetFlags.root, arch: targetFlags.arch }
//   const t = await resolveTargetFromFlags(flags);             // inside run()
//   // t: a Target (src/target): { glibc: '2.36', arch: 'x86_64', elf, libcFile, source: 'this machine' }
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
// - source: 'given', the --libc path, 'root DIR', or 'this machine' (shown to the user); with a lone
//   --glibc or --arch, which fact came from the flag: '--glibc 2.36, arch of this machine'.
import { Flags } from '@oclif/core';

export { parseArchFlag, parseGlibcFlag, resolveTargetFromFlags, type TargetFlagValues } from './target-options';

export const targetFlags = {
  libc: Flags.string({
    description:
      "judge this libc file (e.g. the NAS's libc.so.6 copied here); with --root, the file is judged and the OS facts come from the root",
    helpValue: 'PATH',
  }),
  root: Flags.string({
    description: "treat DIR as the target's root filesystem (mounted image, chroot); links resolve inside it",
    helpValue: 'DIR',
  }),
  glibc: Flags.string({
    description: 'take this glibc release (X.Y or X.Y.Z) instead of reading a libc',
    helpValue: 'X.Y',
  }),
  arch: Flags.string({
    description: "take this arch instead of the libc's: x86_64, arm64, i386, ... (aarch64, amd64, i686 also accepted)",
    helpValue: 'ARCH',
  }),
};
