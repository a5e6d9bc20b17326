// findLibc / detectTarget on --root trees the tests build, including links that try to escape.
import { rmSync } from 'node:fs';
import * as path from 'node:path';
import { BadInputError, UnsupportedTargetError } from '../../src/errors';
import { detectTarget, findLibc, requireGlibc, readTargetLibc } from '../../src/target';
import { resolveInRoot } from '../../src/target/root-path';
import { buildElf } from '../helpers/elf-writer';
import { libcElf, link, put, tempDir, truenasRoot } from '../helpers/root-tree';
import { fittingBuildFor } from '../../src/releases';

const dirs: string[] = [];
function newRoot(): string {
  const d = tempDir('bp-root-');
  dirs.push(d);
  return d;
}
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

test('a TrueNAS 25.04 root: libc via PT_INTERP of /bin/sh, system from os-release, /etc/version, manifest', async () => {
  const root = truenasRoot(newRoot());
  const r = await detectTarget({ root });
  expect(r.libc).toMatchObject({
    path: path.join(root, 'usr/lib/x86_64-linux-gnu/libc.so.6'),
    family: 'glibc',
    release: '2.36',
    maxSymbolVersion: '2.35',
  });
  expect(r.libc.build).toBe('Debian GLIBC 2.36-9+deb12u10');
  expect(r.arch).toBe('x86_64');
  expect(r.system).toEqual({
    os: { id: 'debian', versionId: '12', codename: 'bookworm', prettyName: 'Debian GNU/Linux 12 (bookworm)' },
    debian: 'bookworm',
    truenas: { version: '25.04.2', codename: 'Fangtooth' },
  });
  expect(r.source).toEqual({
    kind: 'root',
    root,
    libcTargetPath: '/usr/lib/x86_64-linux-gnu/libc.so.6',
    hostChecked: false,
  });
  expect(r.paths).toEqual([]);
  expect(r.borg).toEqual([]);
  expect(fittingBuildFor(r)).toMatchObject({ assetFamily: 'borg-linux-glibc236', signed: true });
});

test('TrueNAS without os-release: Debian base and codename from the version table', async () => {
  const root = truenasRoot(newRoot());
  rmSync(path.join(root, 'etc/os-release'));
  rmSync(path.join(root, 'data/manifest.json'));
  put(root, 'etc/version', '22.12.4.2');
  const r = await detectTarget({ root });
  expect(r.system).toEqual({ os: null, debian: 'bullseye', truenas: { version: '22.12.4.2', codename: 'Bluefin' } });
});

test("links that try to escape the root are re-rooted: the root's libc is found, never the host's", async () => {
  const root = newRoot();
  put(root, 'bin/sh', buildElf({ interp: '/lib64/ld-linux-x86-64.so.2' }).buf);
  // Followed naively these reach the host's /usr/lib/x86_64-linux-gnu (a real glibc 2.36).
  link(root, 'lib64', '../../../../../../../../usr/lib/x86_64-linux-gnu');
  link(root, 'usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2', '/usr/lib/x86_64-linux-gnu/ld.so');
  put(root, 'usr/lib/x86_64-linux-gnu/ld.so', buildElf({}).buf);
  put(root, 'usr/lib/x86_64-linux-gnu/libc.so.6', libcElf('2.31', 'Debian GLIBC 2.31-13+deb11u11'));
  // An os-release pointing at the host's resolves to itself inside the root: a loop, so no OS.
  link(root, 'etc/os-release', '../../../../../../etc/os-release');
  link(root, 'usr/lib/os-release', '/etc/os-release');
  const r = await detectTarget({ root });
  expect(r.libc.path).toBe(path.join(root, 'usr/lib/x86_64-linux-gnu/libc.so.6'));
  expect(r.libc.release).toBe('2.31');
  expect(r.system.os).toBeNull();
});

test('resolveInRoot clamps ".." and re-roots absolute targets', async () => {
  const root = newRoot();
  put(root, 'etc/hosts', 'x');
  link(root, 'a/up', '../../../../etc/hosts');
  link(root, 'a/abs', '/etc/hosts');
  link(root, 'a/loop', 'loop');
  expect(await resolveInRoot(root, '/a/up')).toBe(path.join(root, 'etc/hosts'));
  expect(await resolveInRoot(root, '/a/abs')).toBe(path.join(root, 'etc/hosts'));
  expect(await resolveInRoot(root, '/../../a/./abs')).toBe(path.join(root, 'etc/hosts'));
  expect(await resolveInRoot(root, '/a/missing/x')).toBeNull();
  await expect(resolveInRoot(root, '/a/loop')).rejects.toThrow(/too many symbolic links/);
});

test('a /bin/sh that is a script: the multiarch directories are searched', async () => {
  const root = newRoot();
  put(root, 'bin/sh', '#!/bin/busybox sh\n');
  put(root, 'usr/lib/aarch64-linux-gnu/libc.so.6', libcElf('2.41', 'Debian GLIBC 2.41-12'));
  const t = await readTargetLibc({ root });
  expect(t.libc.path).toBe(path.join(root, 'usr/lib/aarch64-linux-gnu/libc.so.6'));
  expect(t.libc.release).toBe('2.41');
});

test('a musl root is recognised by its loader and refused with exit 3', async () => {
  const root = newRoot();
  put(root, 'bin/busybox', buildElf({ interp: '/lib/ld-musl-x86_64.so.1' }).buf);
  link(root, 'bin/sh', '/bin/busybox');
  put(root, 'lib/ld-musl-x86_64.so.1', buildElf({ rodata: '/etc/ld-musl-x86_64.path' }).buf);
  put(root, 'etc/os-release', 'ID=alpine\nVERSION_ID=3.20.3\nPRETTY_NAME="Alpine Linux v3.20"\n');
  const r = await detectTarget({ root });
  expect(r.libc.family).toBe('musl');
  expect(r.system.os?.id).toBe('alpine');
  expect(fittingBuildFor(r)).toBeNull();
  expect(() => requireGlibc(r)).toThrow(UnsupportedTargetError);
});

test('a root without any libc, and a root that does not exist, are bad input', async () => {
  const root = newRoot();
  put(root, 'etc/os-release', 'ID=debian\n');
  await expect(findLibc(root)).rejects.toThrow(BadInputError);
  await expect(findLibc(root)).rejects.toThrow(/no libc found under --root .*pass --libc/);
  await expect(detectTarget({ root: path.join(root, 'nope') })).rejects.toThrow(/--root .* does not exist/);
  await expect(detectTarget({ root: path.join(root, 'etc/os-release') })).rejects.toThrow(/is not a directory/);
});

test('--libc with --root: the file is judged, the system comes from the root', async () => {
  const root = truenasRoot(newRoot());
  const libc = put(newRoot(), 'libc.so.6', libcElf('2.41', 'Debian GLIBC 2.41-12'));
  const r = await detectTarget({ root, libc });
  expect(r.libc.release).toBe('2.41');
  expect(r.system.truenas?.version).toBe('25.04.2');
  expect(r.source?.kind).toBe('root');
  expect(fittingBuildFor(r)?.assetFamily).toBe('borg-linux-glibc241');
});
