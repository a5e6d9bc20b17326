// Builds target root trees for tests: a merged-/usr Debian/TrueNAS layout whose /bin/sh is an ELF
// with a PT_INTERP, whose loader link is absolute (as on real systems), and whose libc is a
// libc-like ELF from the writer.
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { buildElf, releaseString } from './elf-writer';

export const TRUENAS_OS_RELEASE = [
  'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"',
  'NAME="Debian GNU/Linux"',
  'VERSION_ID="12"',
  'VERSION="12 (bookworm)"',
  'VERSION_CODENAME=bookworm',
  'ID=debian',
  '',
].join('\n');

export function tempDir(prefix: string): string {
  return mkdtempSync(path.join(tmpdir(), prefix));
}

export function put(root: string, rel: string, content: string | Buffer): string {
  const file = path.join(root, rel);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, content);
  return file;
}

export function link(root: string, rel: string, target: string): void {
  const file = path.join(root, rel);
  mkdirSync(path.dirname(file), { recursive: true });
  symlinkSync(target, file);
}

export function libcElf(release: string, build: string | null): Buffer {
  const minor = Number(release.split('.')[1]);
  const defs = ['libc.so.6', 'GLIBC_2.2.5', 'GLIBC_2.17', `GLIBC_2.${minor - 1}`, 'GLIBC_PRIVATE'];
  return buildElf({ verdefs: defs, rodata: releaseString(release, build) }).buf;
}

/** A TrueNAS 25.04-like root: merged /usr, /bin/sh -> dash with PT_INTERP, absolute loader link. */
export function truenasRoot(dir: string, o: { release?: string; build?: string } = {}): string {
  const release = o.release ?? '2.36';
  link(dir, 'bin', 'usr/bin');
  link(dir, 'lib', 'usr/lib');
  link(dir, 'lib64', 'usr/lib64');
  put(
    dir,
    'usr/bin/dash',
    buildElf({ interp: '/lib64/ld-linux-x86-64.so.2', verneeds: [{ library: 'libc.so.6', versions: ['GLIBC_2.34'] }] })
      .buf,
  );
  link(dir, 'usr/bin/sh', 'dash');
  put(
    dir,
    'usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2',
    buildElf({ verdefs: ['ld-linux-x86-64.so.2', 'GLIBC_2.2.5'] }).buf,
  );
  link(dir, 'usr/lib64/ld-linux-x86-64.so.2', '/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2');
  put(dir, 'usr/lib/x86_64-linux-gnu/libc.so.6', libcElf(release, o.build ?? `Debian GLIBC ${release}-9+deb12u10`));
  put(dir, 'etc/os-release', TRUENAS_OS_RELEASE);
  put(dir, 'etc/version', '25.04.2'); // TrueNAS writes it without a newline
  put(
    dir,
    'data/manifest.json',
    JSON.stringify({ date: '2025-07-29', version: '25.04.2', train: 'TrueNAS-SCALE-Fangtooth', size: 3093240000 }),
  );
  return dir;
}
