// Target flag values (--libc --root --glibc --arch) turned into a target. The rules are at the
// top of src/cli/target-flags.ts, which declares the flags for oclif.
import { UsageError } from '../errors';
import type { LibcTarget } from '../target';

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
  /**
   * Where the facts came from, for people: 'given', the --libc path, 'root DIR', 'this machine', or
   * with a lone --glibc/--arch e.g. '--glibc 2.36, arch of this machine'.
   */
  source: string;
  /** The libc that was read; absent when --glibc and --arch gave everything. */
  libcTarget?: LibcTarget;
}

/** --glibc's value, checked: X.Y or X.Y.Z. */
export function parseGlibcFlag(value: string): string {
  if (!/^\d+\.\d+(\.\d+)?$/.test(value))
    throw new UsageError(`--glibc ${value} is not a glibc release: give it as X.Y (or X.Y.Z), e.g. 2.31`);
  return value;
}

/** --arch's value as borg names it; aliases accepted. */
export async function parseArchFlag(value: string): Promise<string> {
  const { normalizeArchName, ARCH_NAMES } = await import('../target');
  const arch = normalizeArchName(value);
  if (!arch)
    throw new UsageError(
      `--arch ${value} is not an arch we know: use one of ${ARCH_NAMES.join(', ')} (or aarch64, amd64, i686, armv7l)`,
    );
  return arch;
}

export async function resolveTargetFromFlags(flags: TargetFlagValues): Promise<ResolvedTarget> {
  const glibc = flags.glibc === undefined ? undefined : parseGlibcFlag(flags.glibc);
  const arch = flags.arch === undefined ? undefined : await parseArchFlag(flags.arch);
  const fileGiven = flags.libc !== undefined || flags.root !== undefined;
  if (glibc && arch) {
    if (fileGiven)
      throw new UsageError(
        '--glibc and --arch already name the whole target: drop --libc/--root, or drop --glibc/--arch to read the libc',
      );
    return { glibc, arch, source: 'given' };
  }
  // The modules themselves, not the target index (which also loads detect's host report).
  const { realRoot, resolveLibcTarget, requireGlibc } = await import('../target');
  if (flags.libc !== undefined && flags.root !== undefined) await realRoot(flags.root); // exit 2 if it is not there
  const t = requireGlibc(await resolveLibcTarget({ libc: flags.libc, root: flags.root }));
  const read = flags.libc ?? (flags.root !== undefined ? `root ${flags.root}` : 'this machine');
  // A lone --glibc or --arch replaces one fact of the libc read: say which came from where.
  const source = glibc ? `--glibc ${glibc}, arch of ${read}` : arch ? `--arch ${arch}, glibc of ${read}` : read;
  return { glibc: glibc ?? (t.libc.release as string), arch: arch ?? t.arch, source, libcTarget: t };
}
