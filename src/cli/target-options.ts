// Target flag values (--libc --root --glibc --arch) turned into a target. The rules are at the
// top of src/cli/target-flags.ts, which declares the flags for oclif.
import { UsageError } from '../errors';
import type { Target } from '../target';

export interface TargetFlagValues {
  libc?: string;
  root?: string;
  glibc?: string;
  arch?: string;
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

/** The one Target a command judges builds by (the rules: src/cli/target-flags.ts). */
export async function resolveTargetFromFlags(flags: TargetFlagValues): Promise<Target> {
  const glibc = flags.glibc === undefined ? undefined : parseGlibcFlag(flags.glibc);
  const arch = flags.arch === undefined ? undefined : await parseArchFlag(flags.arch);
  const fileGiven = flags.libc !== undefined || flags.root !== undefined;
  if (glibc && arch) {
    if (fileGiven)
      throw new UsageError(
        '--glibc and --arch already name the whole target: drop --libc/--root, or drop --glibc/--arch to read the libc',
      );
    const { givenTarget } = await import('../target');
    return givenTarget(glibc, arch, 'given');
  }
  const { realRoot, readTargetLibc, targetFromLibc } = await import('../target');
  if (flags.libc !== undefined && flags.root !== undefined) await realRoot(flags.root); // exit 2 if it is not there
  const file = await readTargetLibc({ libc: flags.libc, root: flags.root });
  const read = flags.libc ?? (flags.root !== undefined ? `root ${flags.root}` : 'this machine');
  // A lone --glibc or --arch replaces one fact of the libc read: say which came from where.
  const source = glibc ? `--glibc ${glibc}, arch of ${read}` : arch ? `--arch ${arch}, glibc of ${read}` : read;
  return targetFromLibc(file, source, { glibc, arch });
}
