// detect's human summary when the mount table could not be read: it must not claim "exec, writable".
import { detectWarnings, renderSummary } from '../../src/cli/detect-summary';
import type { DetectResult } from '../../src/cli/detect-summary';

const report = (flagsKnown: boolean): DetectResult => ({
  libc: {
    path: '/lib/libc.so.6',
    family: 'glibc',
    release: '2.36',
    maxSymbolVersion: '2.36',
    versions: ['2.36'],
    build: null,
  },
  arch: 'x86_64',
  kernelArch: 'x86_64',
  elf: { class: 64, endianness: 'little', machine: 62 },
  system: { os: null, debian: null, truenas: null },
  paths: [
    { path: '/tmp', exists: true, noexec: false, readonly: false, flagsKnown, mountPoint: flagsKnown ? '/' : null },
  ],
  sudo: { sudoUser: null, uid: 0, runUserDir: '/run/user/0', runUserDirExists: true },
  borg: [],
  wouldInstall: null,
});

test('unknown mount flags are shown as UNKNOWN, with a warning', () => {
  expect(renderSummary(report(false))).toContain('paths    /tmp: mount flags UNKNOWN');
  expect(detectWarnings(report(false))).toHaveLength(1);
  expect(renderSummary(report(true))).toContain('paths    /tmp: exec, writable');
  expect(detectWarnings(report(true))).toEqual([]);
});
