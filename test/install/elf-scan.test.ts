// The compatibility scan over real compiled ELF files (cc) and crafted ones (elf-writer).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ArchiveError, BadInputError, CompatibilityError } from '../../src/errors';
import { glibcVersionOf, scanElfTree } from '../../src/install/elf-scan';
import { elfIdentityForArch } from '../../src/target';
import * as target from '../../src/target';
import { BorgFixtures, patchVersionNeed } from '../helpers/borg-fixture';
import { buildElf } from '../helpers/elf-writer';

let fx: BorgFixtures;
let tmp: string;
let built: string;
beforeAll(() => {
  fx = new BorgFixtures();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'elfscan-'));
  built = fx.borgDir(tmp, '1.4.2');
});
afterAll(() => {
  fx.cleanup();
  fs.rmSync(tmp, { recursive: true, force: true });
});

const x86 = (glibc: string) => ({ glibc, arch: 'x86_64', elf: elfIdentityForArch('x86_64') });

test('glibcVersionOf ignores GLIBC_PRIVATE and GLIBC_ABI_*', () => {
  expect(glibcVersionOf('GLIBC_2.2.5')).toBe('2.2.5');
  expect(glibcVersionOf('GLIBC_PRIVATE')).toBeNull();
  expect(glibcVersionOf('GLIBC_ABI_DT_RELR')).toBeNull();
  expect(glibcVersionOf('GCC_3.0')).toBeNull();
});

test('a build compiled here fits this machine; the highest need is reported numerically', async () => {
  const r = await scanElfTree(built, x86('2.36'), target);
  expect(r.elfFiles).toBe(2);
  // cc on glibc >= 2.34 links __libc_start_main@GLIBC_2.34; 2.34 > 2.2.5 only numerically.
  expect(r.maxGlibcNeeded).toBe('2.34');
});

test('an older target glibc is refused, naming the file and the version', async () => {
  const err = await scanElfTree(built, x86('2.31'), target).catch((e) => e);
  expect(err).toBeInstanceOf(CompatibilityError);
  expect(err.exitCode).toBe(5);
  expect(err.message).toMatch(/^borg\.exe needs GLIBC_2\.34 \(from libc\.so\.6\) but the target has glibc 2\.31/);
});

test('a bundled .so needing GLIBC_2.99 is refused', async () => {
  const dir = fx.borgDir(fs.mkdtempSync(path.join(tmp, 'p-')), '1.4.2');
  patchVersionNeed(path.join(dir, '_internal', 'libfixture.so'));
  await expect(scanElfTree(dir, x86('2.36'), target)).rejects.toThrow(/_internal\/libfixture\.so needs GLIBC_2\.99/);
});

test('ELF files for another machine are refused', async () => {
  await expect(
    scanElfTree(built, { glibc: '2.36', arch: 'arm64', elf: elfIdentityForArch('arm64') }, target),
  ).rejects.toThrow(
    /(borg\.exe|libfixture\.so) is built for another machine \(ELF64, e_machine 62\) than the target's arm64/,
  );
});

test('GLIBC_PRIVATE and GLIBC_ABI_DT_RELR needs are ignored; a corrupt ELF is refused', async () => {
  const dir = fs.mkdtempSync(path.join(tmp, 'w-'));
  const ok = buildElf({
    machine: 62,
    verneeds: [{ library: 'libc.so.6', versions: ['GLIBC_2.17', 'GLIBC_PRIVATE', 'GLIBC_ABI_DT_RELR'] }],
  });
  fs.writeFileSync(path.join(dir, 'lib.so'), ok.buf);
  expect((await scanElfTree(dir, x86('2.17'), target)).maxGlibcNeeded).toBe('2.17');
  fs.writeFileSync(path.join(dir, 'broken.so'), ok.buf.subarray(0, 70));
  const err = await scanElfTree(dir, x86('2.17'), target).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(ArchiveError);
  expect((err as Error).message).toMatch(/^cannot read the ELF file broken\.so of the build \(.*\); refusing it$/);
});

test('a file of the build that cannot be opened (EACCES) is ArchiveError (exit 5), not bad input', async () => {
  // We run as root, where chmod 000 does not stop a read: the reader fails for one file exactly as
  // src/target/read-file.ts does for an unprivileged user (BadInputError, "permission denied").
  const reader = {
    ...target,
    isElfFileSync: (f: string) => {
      if (f.endsWith('libfixture.so')) throw new BadInputError(`cannot open ${f}: permission denied`);
      return target.isElfFileSync(f);
    },
  };
  const err = await scanElfTree(built, x86('2.36'), reader).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(ArchiveError);
  expect((err as ArchiveError).exitCode).toBe(5);
  expect((err as Error).message).toMatch(
    /^cannot read the ELF file _internal\/libfixture\.so of the build \(cannot open .*: permission denied\); refusing it$/,
  );
});

test('the main executable borg.exe must itself be ELF: a script there is refused (exit 5)', async () => {
  const dir = fx.borgDir(fs.mkdtempSync(path.join(tmp, 's-')), '1.4.2');
  fs.writeFileSync(path.join(dir, 'borg.exe'), '#!/bin/sh\necho "borg.exe 1.4.2"\n', { mode: 0o755 });
  const err = await scanElfTree(dir, x86('2.36'), target).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(ArchiveError);
  expect((err as ArchiveError).exitCode).toBe(5);
  expect((err as Error).message).toBe(
    "borg.exe, the build's main executable, is a script (\"#!/bin/sh\"); a borg build's borg.exe is an ELF program for the target's arch: refusing the build",
  );
  // An ELF borg.exe for another machine goes through the machine check like any library.
  fs.writeFileSync(path.join(dir, 'borg.exe'), buildElf({ machine: 183, verneeds: [] }).buf);
  await expect(scanElfTree(dir, x86('2.36'), target)).rejects.toThrow(CompatibilityError);
});
