// Mount flags from mountinfo, the install paths, sudo context and borg on PATH.
import { chmodSync, mkdirSync, realpathSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { fittingBuild } from '../../src/releases/families';
import { pathReport, type TargetReport } from '../../src/target';
import { detectWarnings } from '../../src/cli/detect-summary';
import { borgOnPath, defaultPrefix, installPathReports, sudoReport } from '../../src/target/host';
import { mountOf, parseMountInfo } from '../../src/target/mounts';
import { put, tempDir } from '../helpers/root-tree';

// As on TrueNAS 24.04+: /tmp tmpfs noexec, /usr read-only, a dataset with a space in its name.
const MOUNTINFO = [
  '25 1 0:21 / / rw,relatime shared:1 - zfs boot-pool/ROOT/25.04.2 rw,xattr,noacl',
  '26 25 0:22 /usr /usr ro,relatime shared:2 - zfs boot-pool/ROOT/25.04.2/usr ro,xattr',
  '27 25 0:23 / /tmp rw,nosuid,nodev,noexec shared:3 - tmpfs tmpfs rw,size=1024k',
  '28 25 0:24 / /mnt/tank/my\\040data rw,noexec shared:4 - zfs tank/my\\040data rw',
  '29 25 0:25 / /home rw,nosuid,nodev,noexec,relatime - zfs boot-pool/ROOT/25.04.2/home rw',
  '30 25 0:26 / /var rw - zfs boot-pool/ROOT/25.04.2/var ro',
  '31 27 0:27 / /tmp rw,relatime - tmpfs tmpfs rw',
  '',
].join('\n');

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
function dir(): string {
  const d = realpathSync(tempDir('bp-host-'));
  dirs.push(d);
  return d;
}

test('mountinfo: per-mount and superblock options, octal escapes, stacked mounts', () => {
  const mounts = parseMountInfo(MOUNTINFO);
  expect(mounts).toHaveLength(7);
  expect(mountOf(mounts, '/usr/bin/env')?.options).toContain('ro');
  expect(mountOf(mounts, '/mnt/tank/my data/x')?.options).toContain('noexec');
  expect(mountOf(mounts, '/home/admin')?.mountPoint).toBe('/home');
  expect(mountOf(mounts, '/homework')?.mountPoint).toBe('/');
  expect(mountOf(mounts, '/var/x')?.superOptions).toContain('ro');
  // The later /tmp mount is on top of the noexec one.
  expect(mountOf(mounts, '/tmp/x')?.options).not.toContain('noexec');
});

test('pathReport: noexec/readonly of the mount, and a missing path judged by its nearest parent', async () => {
  const d = dir();
  mkdirSync(path.join(d, 'exec'));
  const table = parseMountInfo(
    `1 0 0:1 / / rw - ext4 /dev/sda rw\n2 1 0:2 / ${d} rw,noexec - tmpfs tmpfs rw\n3 2 0:3 / ${d}/exec rw - tmpfs tmpfs ro\n`,
  );
  expect(await pathReport(d, table)).toEqual({
    path: d,
    exists: true,
    noexec: true,
    readonly: false,
    flagsKnown: true,
    mountPoint: d,
  });
  expect(await pathReport(`${d}/exec`, table)).toMatchObject({ noexec: false, readonly: true });
  expect(await pathReport(`${d}/later/prefix`, table)).toEqual({
    path: `${d}/later/prefix`,
    exists: false,
    noexec: true,
    readonly: false,
    flagsKnown: true,
    mountPoint: d,
  });
  // The running machine's own table: "/" is a mount, and a real path is found on it.
  expect(await pathReport('/')).toMatchObject({ path: '/', exists: true, mountPoint: '/' });
});

test('an unreadable mount table: the flags are reported as unknown, and detect says so', async () => {
  const d = dir();
  const r = await pathReport(d, null);
  expect(r).toEqual({ path: d, exists: true, noexec: false, readonly: false, flagsKnown: false, mountPoint: null });
  const report = { paths: [r], source: { hostChecked: true } } as unknown as TargetReport;
  expect(detectWarnings(report)).toEqual([expect.stringMatching(/mount flags could not be read .*UNKNOWN/)]);
  const known = { ...r, flagsKnown: true };
  expect(detectWarnings({ paths: [known] } as unknown as TargetReport)).toEqual([]);
});

test('install paths: /tmp, $HOME, /root and the XDG prefix, without duplicates', async () => {
  const home = dir();
  expect(defaultPrefix({ HOME: home })).toBe(path.join(home, '.local/share/borg-provision'));
  expect(defaultPrefix({ HOME: home, XDG_DATA_HOME: `${home}/data` })).toBe(`${home}/data/borg-provision`);
  expect(defaultPrefix({ HOME: home, XDG_DATA_HOME: 'relative' })).toBe(path.join(home, '.local/share/borg-provision'));
  const reports = await installPathReports({ HOME: home, XDG_DATA_HOME: `${home}/data` });
  expect(reports.map((r) => r.path)).toEqual(['/tmp', home, '/root', `${home}/data/borg-provision`]);
  expect(reports[3].exists).toBe(false);
  expect((await installPathReports({ HOME: '/root' })).map((r) => r.path)).toEqual([
    '/tmp',
    '/root',
    '/root/.local/share/borg-provision',
  ]);
});

test('sudo context', async () => {
  expect(await sudoReport({ SUDO_USER: 'admin' })).toMatchObject({ sudoUser: 'admin', uid: process.getuid?.() });
  const plain = await sudoReport({});
  expect(plain.sudoUser).toBeNull();
  expect(plain.runUserDir).toBe(`/run/user/${process.getuid?.()}`);
});

test('borg on PATH: versions from `borg -V`, a hanging borg times out, relative PATH entries are ignored', async () => {
  const d = dir();
  const script = (sub: string, body: string) => {
    const f = put(d, `${sub}/borg`, `#!/bin/sh\n${body}\n`);
    chmodSync(f, 0o755);
  };
  script('a', 'echo "borg 1.4.5"');
  script('b', 'echo "borg.exe 2.0.0b22"');
  script('hang', 'exec sleep 30');
  script('bad', 'echo oops; exit 1');
  put(d, 'noexec/borg', 'not executable');
  const started = Date.now();
  const found = await borgOnPath({
    PATH: [`${d}/a`, `${d}/b`, `${d}/a`, 'a', `${d}/noexec`, `${d}/hang`, `${d}/bad`].join(':'),
  });
  expect(found).toEqual([
    { path: `${d}/a/borg`, realPath: `${d}/a/borg`, alsoAt: [], version: '1.4.5' },
    { path: `${d}/b/borg`, realPath: `${d}/b/borg`, alsoAt: [], version: '2.0.0b22' },
    { path: `${d}/hang/borg`, realPath: `${d}/hang/borg`, alsoAt: [], version: null },
    { path: `${d}/bad/borg`, realPath: `${d}/bad/borg`, alsoAt: [], version: null },
  ]);
  expect(Date.now() - started).toBeLessThan(10000);
  expect(await borgOnPath({ PATH: '' })).toEqual([]);
});

test('fitting build family from the glibc release', () => {
  expect(fittingBuild('2.36', 'x86_64')).toMatchObject({
    assetFamily: 'borg-linux-glibc236',
    signed: true,
    alsoFits: ['borg-linux-glibc231', 'borg-linux-glibc228'],
  });
  expect(fittingBuild('2.31', 'x86_64')?.assetFamily).toBe('borg-linux-glibc231');
  expect(fittingBuild('2.35', 'x86_64')?.assetFamily).toBe('borg-linux-glibc231');
  expect(fittingBuild('2.41', 'x86_64')?.assetFamily).toBe('borg-linux-glibc241');
  expect(fittingBuild('2.27', 'x86_64')).toBeNull();
  expect(fittingBuild('2.36', 'arm64')).toMatchObject({ assetFamily: 'borg-linux-glibc235-arm64-gh', signed: false });
  expect(fittingBuild('2.31', 'arm64')).toBeNull();
  expect(fittingBuild('2.41', 's390x')).toBeNull();
});
