// The short human summary of a TargetReport, verdict first, and detect's warnings.
import type { BuildFit } from '../releases';
import type { PathReport, TargetReport } from '../target';

/** What detect shows: the target, and the family of borg's builds that would be installed there. */
export type DetectResult = TargetReport & { wouldInstall: BuildFit | null };

export function renderSummary(r: DetectResult): string {
  const { libc } = r;
  const lines = [verdict(r)];
  const symbols = libc.maxSymbolVersion
    ? `highest symbol version GLIBC_${libc.maxSymbolVersion} (${libc.versions.length} defined)`
    : 'no symbol versions';
  lines.push(`libc     ${r.source?.libcTargetPath ?? libc.path}${libc.build ? `  (${libc.build})` : ''}`);
  lines.push(
    `         release ${libc.release}, ${symbols}; ELF ${r.elf.class}-bit ${r.elf.endianness}-endian, ${r.kernelArch}`,
  );
  lines.push(`system   ${systemLine(r)}`);
  if (r.source && !r.source.hostChecked) {
    lines.push('paths    not checked: mount flags, sudo and borg on PATH describe only the machine detect runs on');
    return lines.join('\n');
  }
  lines.push(...r.paths.map((p, i) => `${i === 0 ? 'paths   ' : '        '} ${pathLine(p)}`));
  lines.push(
    `sudo     ${r.sudo.sudoUser ? `via sudo from ${r.sudo.sudoUser}` : 'not under sudo'}; ${r.sudo.runUserDir} ${r.sudo.runUserDirExists ? 'exists' : 'is missing (TMPDIR there is not possible)'}`,
  );
  const also = (b: TargetReport['borg'][number]): string => (b.alsoAt?.length ? ` (also ${b.alsoAt.join(', ')})` : '');
  const borg = r.borg.map((b) => `${b.path} ${b.version ?? '(version unknown)'}${also(b)}`).join('; ');
  lines.push(`borg     ${borg || 'none on PATH'}`);
  return lines.join('\n');
}

function verdict(r: DetectResult): string {
  const head = `glibc ${r.libc.release} on ${r.arch}`;
  const fit = r.wouldInstall;
  if (!fit) return `${head}: no published borg Linux build fits this target; build borg locally for it`;
  const also = fit.alsoFits.length ? `; ${fit.alsoFits.join(', ')} also run here` : '';
  if (fit.signed) return `${head}: borg's signed ${fit.assetFamily} builds fit (${fit.note})${also}`;
  return `${head}: only unsigned GitHub-built ${fit.assetFamily} builds fit (${fit.note})${also}`;
}

function systemLine(r: TargetReport): string {
  const { os, debian, truenas } = r.system;
  const parts = [
    os ? (os.prettyName ?? [os.id, os.versionId].filter(Boolean).join(' ')) : 'unknown OS (no os-release)',
  ];
  if (debian) parts.push(`Debian base ${debian}`);
  if (truenas) parts.push(`TrueNAS ${truenas.version}${truenas.codename ? ` ${truenas.codename}` : ''}`);
  return parts.join('; ');
}

/** Warning lines for stderr (both with and without --json). */
export function detectWarnings(r: TargetReport): string[] {
  return r.paths.some((p) => !p.flagsKnown)
    ? [
        'mount flags could not be read (/proc/self/mountinfo): whether the paths below are noexec or read-only is UNKNOWN',
      ]
    : [];
}

function pathLine(p: PathReport): string {
  const flags = p.flagsKnown
    ? [p.noexec ? 'NOEXEC' : 'exec', p.readonly ? 'READ-ONLY' : 'writable'].join(', ')
    : 'mount flags UNKNOWN';
  const where = p.exists ? '' : ` (not created yet; judged by ${p.mountPoint ?? 'its parent'})`;
  return `${p.path}: ${flags}${where}`;
}
