// borg-provision detect: which glibc and arch the target really has, which borg build fits, and
// which directories can hold executables. The target stage is loaded lazily so --help stays fast.
import { Flags } from '@oclif/core';
import { BaseCommand } from '../cli/base';
import type { PathReport, TargetReport } from '../target/types';

export default class Detect extends BaseCommand {
  static override summary = 'Report the target libc, arch, OS and exec-capable paths';
  static override description =
    'Finds the libc the way the target loader would (PT_INTERP of /bin/sh), reads its glibc release and ' +
    'symbol versions, and says which borg Linux build fits. Without flags it inspects this machine.';

  static override examples = [
    '<%= config.bin %> detect',
    '<%= config.bin %> detect --libc ./libc.so.6-from-nas --json',
    '<%= config.bin %> detect --root /mnt/truenas-rootfs',
  ];

  static override flags = {
    libc: Flags.string({ description: 'analyse this libc file (e.g. a copy of the NAS libc.so.6)', helpValue: 'PATH' }),
    root: Flags.string({ description: "treat DIR as the target's root filesystem (image, chroot)", helpValue: 'DIR' }),
  };

  async run(): Promise<TargetReport> {
    const { flags } = await this.parse(Detect);
    const { detectTarget, requireGlibc } = await import('../target');
    const report = requireGlibc(await detectTarget({ libc: flags.libc, root: flags.root }));
    if (!this.jsonEnabled()) this.log(render(report));
    return report;
  }
}

function render(r: TargetReport): string {
  const { libc } = r;
  const lines = [verdict(r)];
  const symbols = libc.maxSymbolVersion ? `highest symbol version GLIBC_${libc.maxSymbolVersion} (${libc.versions.length} defined)` : 'no symbol versions';
  lines.push(`libc     ${r.source?.libcTargetPath ?? libc.path}${libc.build ? `  (${libc.build})` : ''}`);
  lines.push(`         release ${libc.release}, ${symbols}; ELF ${r.elf.class}-bit ${r.elf.endianness}-endian, ${r.kernelArch}`);
  lines.push(`system   ${systemLine(r)}`);
  if (r.source && !r.source.hostChecked) {
    lines.push('paths    not checked: mount flags, sudo and borg on PATH describe only the machine detect runs on');
    return lines.join('\n');
  }
  lines.push(...r.paths.map((p, i) => `${i === 0 ? 'paths   ' : '        '} ${pathLine(p)}`));
  lines.push(`sudo     ${r.sudo.sudoUser ? `via sudo from ${r.sudo.sudoUser}` : 'not under sudo'}; ${r.sudo.runUserDir} ${r.sudo.runUserDirExists ? 'exists' : 'is missing (TMPDIR there is not possible)'}`);
  const borg = r.borg.map((b) => `${b.path} ${b.version ?? '(version unknown)'}`).join('; ');
  lines.push(`borg     ${borg || 'none on PATH'}`);
  return lines.join('\n');
}

function verdict(r: TargetReport): string {
  const head = `glibc ${r.libc.release} on ${r.arch}`;
  const fit = r.wouldInstall;
  if (!fit) return `${head}: no published borg Linux build fits this target; build borg locally for it`;
  const also = fit.alsoFits.length ? ` (older that also fit: ${fit.alsoFits.join(', ')})` : '';
  if (fit.signed) return `${head}: borg's signed ${fit.assetFamily} builds fit, ${fit.note}${also}`;
  return `${head}: only unsigned GitHub-built ${fit.assetFamily} builds fit, ${fit.note}${also}`;
}

function systemLine(r: TargetReport): string {
  const { os, debian, truenas } = r.system;
  const parts = [os ? (os.prettyName ?? [os.id, os.versionId].filter(Boolean).join(' ')) : 'unknown OS (no os-release)'];
  if (debian) parts.push(`Debian base ${debian}`);
  if (truenas) parts.push(`TrueNAS ${truenas.version}${truenas.codename ? ` ${truenas.codename}` : ''}`);
  return parts.join('; ');
}

function pathLine(p: PathReport): string {
  const flags = [p.noexec ? 'NOEXEC' : 'exec', p.readonly ? 'READ-ONLY' : 'writable'].join(', ');
  const where = p.exists ? '' : ` (not created yet; judged by ${p.mountPoint ?? 'its parent'})`;
  return `${p.path}: ${flags}${where}`;
}
