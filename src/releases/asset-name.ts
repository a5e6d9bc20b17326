// The grammar of borg's release asset names across every era (docs/targets.md, "How a build is chosen"):
//   1.2.x:       borg-linuxold64 | borg-linux64 | borg-linuxnew64 | borg-linuxnewer64   (x86_64)
//   1.4.0-1.4.1: borg-linux-glibcNNN                                                    (x86_64)
//   1.4.2+:      borg-linux-glibcNNN-<arch>[-gh]
// each optionally `.tgz` (PyInstaller one-dir) or bare (one-file), and `.asc` for a signature.
// Names that fit no rule stay "unknown": a wrong guess would install a binary that cannot run.
import { ARCH_NAMES, normalizeArchName } from '../target';
import type { AssetKind, AssetOs, ParsedAsset } from './types';

/** glibc level of the 1.2.x names, from borg's Vagrant boxes of that era. */
const NAMED_LINUX_LEVELS: Record<string, string> = {
  linuxold64: '2.24',
  linux64: '2.28',
  linuxnew64: '2.31',
  linuxnewer64: '2.36',
};

/**
 * Arch spellings in asset names (x86_64, arm64, aarch64, amd64, i686, ...) map through src/target's
 * table, the one list of arch names, so an asset and a target always agree on what an arch is called.
 */
export const KNOWN_ARCHES: readonly string[] = ARCH_NAMES;

export function normalizeArch(arch: string): string | null {
  return normalizeArchName(arch);
}

export function parseAssetName(name: string): ParsedAsset {
  if (name.endsWith('.asc')) {
    const signed = name.slice(0, -'.asc'.length);
    return { ...parseAssetName(signed), name, kind: 'other', signatureOf: signed };
  }
  return parseLinux(name) ?? parseOther(name);
}

function base(name: string): ParsedAsset {
  return {
    name,
    category: 'unknown',
    os: null,
    arch: null,
    glibc: null,
    kind: 'other',
    builtOn: 'local',
    signatureOf: null,
  };
}

function splitPackaging(name: string): { stem: string; kind: AssetKind } {
  return name.endsWith('.tgz') ? { stem: name.slice(0, -4), kind: 'onedir' } : { stem: name, kind: 'onefile' };
}

function splitBuiltOn(stem: string): { stem: string; builtOn: 'local' | 'github' } {
  return stem.endsWith('-gh') ? { stem: stem.slice(0, -3), builtOn: 'github' } : { stem, builtOn: 'local' };
}

function parseLinux(name: string): ParsedAsset | null {
  const { stem: s1, kind } = splitPackaging(name);
  const { stem, builtOn } = splitBuiltOn(s1);
  const linux = { ...base(name), category: 'linux' as const, os: 'linux' as const, kind, builtOn };

  const named = /^borg-(linuxold64|linux64|linuxnew64|linuxnewer64)$/.exec(stem);
  if (named) return { ...linux, arch: 'x86_64', glibc: NAMED_LINUX_LEVELS[named[1]] };

  // glibcNNN: the first digit is the major version, the rest the minor (231 -> 2.31, 2100 -> 2.100).
  const m = /^borg-linux-glibc(\d)(\d{2,3})(?:-([a-z0-9_]+))?$/.exec(stem);
  if (!m) return null;
  const glibc = `${m[1]}.${Number(m[2])}`;
  if (m[3] === undefined) return { ...linux, arch: 'x86_64', glibc };
  const arch = normalizeArch(m[3]);
  return arch ? { ...linux, arch, glibc } : null;
}

function parseOther(name: string): ParsedAsset {
  if (/^00_README\.txt$/i.test(name) || /^readme/i.test(name)) return { ...base(name), category: 'readme' };
  if (/^borgbackup-\d[\w.]*\.tar\.gz$/.test(name)) return { ...base(name), category: 'sdist' };
  const os = otherOs(name);
  if (!os) return base(name);
  const { stem, kind } = splitPackaging(name);
  const { builtOn } = splitBuiltOn(stem);
  const archToken = /(?:^|-)(x86_64|amd64|arm64|aarch64|i386|i686)(?:-|$)/.exec(stem);
  return {
    ...base(name),
    category: os,
    os,
    arch: archToken ? normalizeArch(archToken[1]) : null,
    kind: os === 'windows' ? 'other' : kind,
    builtOn,
  };
}

function otherOs(name: string): AssetOs | null {
  if (/^borg-mac(os)?/i.test(name)) return 'macos';
  if (/^borg-freebsd/i.test(name)) return 'freebsd';
  if (/^borg-win/i.test(name)) return 'windows';
  return null;
}
