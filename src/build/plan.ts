// Everything a build needs decided up front, before anything is downloaded or started: which
// borg, which Debian box, which arch and provider, how big the VM is, what the VM is told.
import { UnsupportedTargetError, UsageError } from '../errors';
import { DEBIAN, type DebianRelease } from './debian';
import { normalizeVersion, toolchainFor, type Toolchain } from './series';

export const PROVIDERS = ['libvirt', 'virtualbox'] as const;
export type Provider = (typeof PROVIDERS)[number];
export type BuildArch = 'x86_64' | 'arm64';

/** Where the VM keeps things; the Debian boxes' user is "vagrant". */
export const VM_HOME = '/home/vagrant';
export const VM_OUT = `${VM_HOME}/borg-build/out`;
export const VM_ARTIFACT = `${VM_OUT}/borg-dir.tgz`;
export const VM_BUILD_INFO = `${VM_OUT}/build-info`;

/** Files of the package's vagrant/ folder (src/util/package-files.ts) copied into every work dir. */
export const PROVISION_SCRIPT = 'provision.sh';
export const FALLBACK_SPEC = 'borg-dir.spec';

export interface BuildPlan {
  version: string;
  toolchain: Toolchain;
  debian: DebianRelease;
  box: string;
  arch: BuildArch;
  provider: Provider;
  cpus: number;
  memoryMiB: number;
  withTests: boolean;
  /** File name of the sdist, e.g. borgbackup-1.4.2.tar.gz. */
  sdistName: string;
}

export interface PlanOptions {
  version: string;
  debian: DebianRelease;
  arch: string;
  provider?: string;
  cpus?: number;
  memoryMiB?: number;
  withTests?: boolean;
  /** A box of the user's choosing (needed for arm64: Debian publishes no arm64 boxes). */
  box?: string;
  /**
   * The arch the target's libc was read as (ELF header), when a libc was read. A build for another
   * arch could never run there, so a different `arch` (from --arch) is refused here, before anything starts.
   */
  targetArch?: string;
}

export function sdistNameFor(version: string): string {
  return `borgbackup-${version}.tar.gz`;
}

export function makePlan(o: PlanOptions): BuildPlan {
  const version = normalizeVersion(o.version);
  const provider = parseProvider(o.provider ?? 'libvirt');
  if (o.targetArch !== undefined && o.targetArch !== o.arch) {
    throw new UnsupportedTargetError(
      `an ${o.arch} build cannot run on this target: its libc is built for ${o.targetArch}; drop --arch, or point --libc/--root at an ${o.arch} system`,
    );
  }
  const arch = checkArch(o.arch, provider, o.box);
  return {
    version,
    toolchain: toolchainFor(version),
    debian: o.debian,
    box: o.box ?? DEBIAN[o.debian].box,
    arch,
    provider,
    cpus: positiveInt(o.cpus ?? 2, '--cpus', 1, 256),
    memoryMiB: positiveInt(o.memoryMiB ?? 4096, '--memory', 1024, 1024 * 1024),
    withTests: o.withTests ?? false,
    sdistName: sdistNameFor(version),
  };
}

function parseProvider(p: string): Provider {
  const found = PROVIDERS.find((x) => x === p);
  if (!found) throw new UsageError(`unknown provider "${p}": use libvirt or virtualbox`);
  return found;
}

// x86_64 works with both providers and Debian's own boxes. arm64 needs libvirt (VirtualBox has no
// arm64 Linux guests on Linux hosts) and a box the user names, since Debian publishes amd64 boxes only.
function checkArch(arch: string, provider: Provider, box: string | undefined): BuildArch {
  if (arch === 'x86_64') return arch;
  if (arch === 'arm64') {
    if (provider !== 'libvirt') {
      throw new UnsupportedTargetError(
        'an arm64 build needs the libvirt provider: VirtualBox cannot run arm64 Debian guests here',
      );
    }
    if (!box) {
      throw new UnsupportedTargetError(
        'an arm64 build needs an arm64 libvirt box (--box NAME): the official Debian boxes are amd64 only',
      );
    }
    return arch;
  }
  throw new UnsupportedTargetError(
    `cannot build for arch ${arch}: the Vagrant build supports x86_64 (and arm64 with libvirt and --box)`,
  );
}

function positiveInt(n: number, flag: string, min: number, max: number): number {
  if (!Number.isInteger(n) || n < min || n > max)
    throw new UsageError(`${flag} must be a whole number from ${min} to ${max}`);
  return n;
}
