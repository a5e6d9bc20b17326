// What system a root holds: /etc/os-release, TrueNAS's /etc/version and /data/manifest.json, and
// the Debian release underneath. Every file is read through resolveInRoot, so a --root image
// cannot point us at the host's files.
import { constants, promises as fs } from 'node:fs';
import type { LibcFile, OsRelease, SystemReport } from './types';
import { resolveInRoot } from './root-path';

type Debian = SystemReport['debian'];

const DEBIAN_BY_CODENAME = new Set<string>(['bullseye', 'bookworm', 'trixie']);
const DEBIAN_BY_MAJOR: Record<string, Debian> = { '11': 'bullseye', '12': 'bookworm', '13': 'trixie' };

// TrueNAS SCALE / Community Edition releases (see FACTS.md): codename and Debian base.
const TRUENAS: { version: string; codename: string; debian: Debian }[] = [
  { version: '22.02', codename: 'Angelfish', debian: 'bullseye' },
  { version: '22.12', codename: 'Bluefin', debian: 'bullseye' },
  { version: '23.10', codename: 'Cobia', debian: 'bookworm' },
  { version: '24.04', codename: 'Dragonfish', debian: 'bookworm' },
  { version: '24.10', codename: 'Electric Eel', debian: 'bookworm' },
  { version: '25.04', codename: 'Fangtooth', debian: 'bookworm' },
  { version: '25.10', codename: 'Goldeye', debian: 'bookworm' },
  { version: '26.04', codename: 'Halfmoon', debian: 'trixie' },
];

// Small text files only; a bound against a hostile image's multi-gigabyte /etc/version.
const MAX_TEXT = 64 * 1024;

async function readText(root: string, file: string): Promise<string | null> {
  try {
    const host = await resolveInRoot(root, file);
    if (!host) return null;
    const fh = await fs.open(host, constants.O_RDONLY | constants.O_NONBLOCK); // a FIFO must not hang us
    try {
      if (!(await fh.stat()).isFile()) return null;
      const buf = Buffer.alloc(MAX_TEXT);
      const { bytesRead } = await fh.read(buf, 0, MAX_TEXT, 0);
      return buf.toString('utf8', 0, bytesRead);
    } finally {
      await fh.close();
    }
  } catch {
    return null;
  }
}

/** KEY=value lines with optional shell quoting, as os-release(5) specifies. */
export function parseOsRelease(text: string): OsRelease {
  const vars: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (!m) continue;
    let v = m[2];
    const q = v[0];
    if ((q === '"' || q === "'") && v.endsWith(q) && v.length >= 2) v = v.slice(1, -1);
    vars[m[1]] = q === '"' ? v.replace(/\\(["$`\\])/g, '$1') : v;
  }
  return {
    id: vars.ID ?? null,
    versionId: vars.VERSION_ID ?? null,
    codename: vars.VERSION_CODENAME ?? null,
    prettyName: vars.PRETTY_NAME ?? null,
  };
}

function truenasRow(version: string) {
  return TRUENAS.find((r) => version === r.version || version.startsWith(`${r.version}.`));
}

function debianOf(os: OsRelease | null, truenasVersion: string | null): Debian {
  if (os?.id === 'debian') {
    if (os.codename && DEBIAN_BY_CODENAME.has(os.codename)) return os.codename as Debian;
    const major = os.versionId?.split('.')[0];
    if (major && DEBIAN_BY_MAJOR[major]) return DEBIAN_BY_MAJOR[major];
  }
  return truenasVersion ? (truenasRow(truenasVersion)?.debian ?? null) : null;
}

interface Manifest {
  version?: unknown;
  codename?: unknown;
  train?: unknown;
}

async function readTrueNas(root: string): Promise<SystemReport['truenas']> {
  const versionFile = (await readText(root, '/etc/version'))?.trim() || null;
  let manifest: Manifest = {};
  const raw = await readText(root, '/data/manifest.json');
  if (raw) {
    try {
      const parsed: unknown = JSON.parse(raw);
      if (parsed && typeof parsed === 'object') manifest = parsed as Manifest;
    } catch {
      // An unreadable manifest still leaves /etc/version to go by.
    }
  }
  const version = versionFile ?? (typeof manifest.version === 'string' ? manifest.version : null);
  if (!version) return null;
  // Trains are named like "TrueNAS-SCALE-Fangtooth"; the table covers releases without a manifest.
  const fromTrain = typeof manifest.train === 'string' ? /-([A-Z][A-Za-z ]+)$/.exec(manifest.train)?.[1] : undefined;
  const codename =
    typeof manifest.codename === 'string' ? manifest.codename : (fromTrain ?? truenasRow(version)?.codename ?? null);
  return { version, codename };
}

/** The system under `root` (a real path; "/" for the running machine). */
export async function readSystem(root: string): Promise<SystemReport> {
  const text = (await readText(root, '/etc/os-release')) ?? (await readText(root, '/usr/lib/os-release'));
  const os = text === null ? null : parseOsRelease(text);
  const truenas = await readTrueNas(root);
  return { os, debian: debianOf(os, truenas?.version ?? null), truenas };
}

// The glibc each Debian release ships, for builds without a "+debNNuN" security suffix.
const DEBIAN_BY_GLIBC: Record<string, Debian> = { '2.31': 'bullseye', '2.36': 'bookworm', '2.41': 'trixie' };

/** With --libc alone there is no system to read; a Debian build string still names the release. */
export function systemFromLibc(t: LibcFile): SystemReport {
  const build = t.libc.build ?? '';
  const deb = /\+deb(\d+)u\d+/.exec(build)?.[1];
  let debian: Debian = deb ? (DEBIAN_BY_MAJOR[deb] ?? null) : null;
  if (!debian && build.startsWith('Debian GLIBC ') && t.libc.release) debian = DEBIAN_BY_GLIBC[t.libc.release] ?? null;
  return { os: null, debian, truenas: null };
}
