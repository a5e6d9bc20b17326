// The ELF reader on files built by test/helpers/elf-writer.ts: every class/byte order, the
// version rules, and every corrupt variant rejected with ElfFormatError (and nothing else).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { BadInputError, ElfFormatError, ExitCode, UnsupportedTargetError } from '../../src/errors';
import { inspectLibc, isElfFileSync, readElfNeeds, requireGlibc } from '../../src/target';
import { libcFromBytes, needsFromBytes } from '../../src/target/libc';
import { readInputFile } from '../../src/target/read-file';
import { buildElf, patch, releaseString, sectionHeaderField, type ElfSpec } from '../helpers/elf-writer';

const LIBC: ElfSpec = {
  verdefs: ['libc.so.6', 'GLIBC_2.2.5', 'GLIBC_2.17', 'GLIBC_2.3', 'GLIBC_2.30', 'GLIBC_PRIVATE', 'GLIBC_ABI_DT_RELR'],
  verdefParents: true,
  verneeds: [{ library: 'ld-linux-x86-64.so.2', versions: ['GLIBC_2.3', 'GLIBC_PRIVATE'] }],
  rodata: releaseString('2.31', 'Debian GLIBC 2.31-13+deb11u11'),
};

let dir: string;
beforeAll(() => (dir = mkdtempSync(path.join(tmpdir(), 'bp-elf-'))));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, bytes: Buffer | string): string {
  const file = path.join(dir, name);
  writeFileSync(file, bytes);
  return file;
}

/** Asserts that parsing fails with our typed error (exit 2) naming the file, within a time bound. */
function expectElfFormatError(run: () => unknown, detail: RegExp): void {
  const started = Date.now();
  let caught: unknown;
  try {
    run();
  } catch (err) {
    caught = err;
  }
  expect(Date.now() - started).toBeLessThan(1000);
  expect(caught).toBeInstanceOf(ElfFormatError);
  expect((caught as ElfFormatError).exitCode).toBe(ExitCode.usage);
  expect((caught as Error).message).toMatch(/^bad\.so is not a valid ELF file: /);
  expect((caught as Error).message).toMatch(detail);
  expect((caught as Error).message).not.toContain('\n');
}

describe('a libc-like file in every class and byte order', () => {
  const cases: [32 | 64, 'little' | 'big', number, string, string][] = [
    [64, 'little', 62, 'x86_64', 'x86_64'],
    [64, 'big', 22, 's390x', 's390x'],
    [32, 'little', 3, 'i386', 'i686'],
    [32, 'big', 20, 'powerpc', 'ppc'],
  ];
  test.each(cases)('%i-bit %s-endian, machine %i', async (cls, endianness, machine, arch, kernelArch) => {
    const file = write(`libc-${cls}-${endianness}.so.6`, buildElf({ ...LIBC, class: cls, endianness, machine }).buf);
    const t = await inspectLibc(file);
    expect(t.libc).toEqual({
      path: file,
      family: 'glibc',
      release: '2.31',
      maxSymbolVersion: '2.30',
      versions: ['2.2.5', '2.3', '2.17', '2.30'],
      build: 'Debian GLIBC 2.31-13+deb11u11',
    });
    expect(t.elf).toEqual({ class: cls, endianness, machine });
    expect([t.arch, t.kernelArch]).toEqual([arch, kernelArch]);
    expect(requireGlibc(t)).toBe(t);
    expect((await readElfNeeds(file)).needs).toEqual([
      { library: 'ld-linux-x86-64.so.2', versions: ['GLIBC_2.3', 'GLIBC_PRIVATE'] },
    ]);
  });
});

describe('arch names', () => {
  test.each([
    [183, 64, 'little', 0, 'arm64', 'aarch64'],
    [40, 32, 'little', 0x05000400, 'armhf', 'armv7l'],
    [40, 32, 'little', 0x05000200, 'armel', 'armv5tel'],
    [21, 64, 'little', 0, 'ppc64le', 'ppc64le'],
    [21, 64, 'big', 0, 'ppc64', 'ppc64'],
    [243, 64, 'little', 0, 'riscv64', 'riscv64'],
    [9999, 64, 'little', 0, 'elf-machine-9999', 'elf-machine-9999'],
  ] as const)('machine %i class %i %s flags %i is %s / %s', (machine, cls, endianness, flags, arch, kernelArch) => {
    const t = libcFromBytes(buildElf({ ...LIBC, machine, class: cls, endianness, flags }).buf, 'libc.so.6');
    expect([t.arch, t.kernelArch]).toEqual([arch, kernelArch]);
  });
});

describe('versions and release', () => {
  test('versions sort numerically; base, GLIBC_PRIVATE, GLIBC_ABI_* and other names are skipped', () => {
    const t = libcFromBytes(
      buildElf({
        verdefs: [
          'libc.so.6',
          'GLIBC_2.36',
          'GLIBC_2.2.5',
          'GLIBC_2.10',
          'GLIBC_2.9',
          'GLIBC_ABI_DT_RELR',
          'GLIBC_PRIVATE',
          'FOO_1.0',
        ],
      }).buf,
      'libc.so.6',
    );
    expect(t.libc.versions).toEqual(['2.2.5', '2.9', '2.10', '2.36']);
    expect(t.libc.maxSymbolVersion).toBe('2.36');
    expect(t.libc.release).toBeNull();
  });

  test('only the first aux entry names a definition (later ones are parents)', () => {
    // With parents, GLIBC_2.17's second aux names GLIBC_2.2.5; counting it would not change the
    // set, so check the one definition whose parent is the base name is not counted twice either.
    const t = libcFromBytes(
      buildElf({ verdefs: ['libc.so.6', 'GLIBC_2.1', 'GLIBC_2.0'], verdefParents: true }).buf,
      'l',
    );
    expect(t.libc.versions).toEqual(['2.0', '2.1']);
  });

  test.each([
    ['GNU C Library (GNU libc) stable release version 2.39.', '2.39', null],
    [
      'GNU C Library (Ubuntu GLIBC 2.35-0ubuntu3.8) stable release version 2.35.',
      '2.35',
      'Ubuntu GLIBC 2.35-0ubuntu3.8',
    ],
    ['GNU C Library (GNU libc) development release version 2.40.9000.', '2.40.9000', null],
    ['GNU C Library stable release version 2.17, by Roland McGrath et al.', '2.17', null],
  ])('release string %j', (text, release, build) => {
    const t = libcFromBytes(buildElf({ verdefs: ['libc.so.6', 'GLIBC_2.2.5'], rodata: `x\0${text}\nmore` }).buf, 'l');
    expect([t.libc.release, t.libc.build]).toEqual([release, build]);
  });

  test('a glibc without a release string is refused by requireGlibc (exit 3)', () => {
    const t = libcFromBytes(buildElf({ verdefs: ['libc.so.6', 'GLIBC_2.2.5'] }).buf, '/x/libc.so.6');
    expect(t.libc.family).toBe('glibc');
    expect(() => requireGlibc(t)).toThrow(UnsupportedTargetError);
    expect(() => requireGlibc(t)).toThrow(/embeds no glibc release string/);
  });

  test('a musl loader is family musl and requireGlibc says borg needs glibc', () => {
    const t = libcFromBytes(buildElf({ rodata: '/etc/ld-musl-x86_64.path' }).buf, '/lib/ld-musl-x86_64.so.1');
    expect(t.libc).toMatchObject({ family: 'musl', release: null, versions: [] });
    expect(() => requireGlibc(t)).toThrow(/is musl libc; borg's Linux builds need glibc/);
    expect(() => requireGlibc(t)).toThrow(UnsupportedTargetError);
  });

  test('an ELF file that is no C library is bad input (exit 2), saying what to pass', () => {
    const run = () =>
      libcFromBytes(buildElf({ verneeds: [{ library: 'libc.so.6', versions: ['GLIBC_2.34'] }] }).buf, '/bin/x');
    expect(run).toThrow(BadInputError);
    expect(run).toThrow(
      '/bin/x is an ELF file but not a C library (no GNU C Library release string and no GLIBC_ version definitions): ' +
        "pass the target's libc.so.6",
    );
  });
});

describe('corrupt and non-ELF input is rejected with ElfFormatError', () => {
  const good = buildElf(LIBC);
  const sh = (name: string) => good.sections[name];
  const parse = (buf: Buffer) => () => libcFromBytes(buf, 'bad.so');

  test('empty file and text file: no ELF magic', () => {
    expectElfFormatError(parse(Buffer.alloc(0)), /no ELF magic/);
    expectElfFormatError(parse(Buffer.from('#!/bin/sh\necho hi\n')), /no ELF magic/);
  });
  test.each([5, 16, 40, 63])('header truncated to %i bytes', (n) => {
    expectElfFormatError(parse(good.buf.subarray(0, n)), /truncated ELF header/);
  });
  test('unknown class and byte order', () => {
    const withByte = (at: number, v: number) => Buffer.from(good.buf).fill(v, at, at + 1);
    expectElfFormatError(parse(withByte(4, 3)), /unknown ELF class 3/);
    expectElfFormatError(parse(withByte(5, 7)), /unknown ELF byte order 7/);
  });
  test('section table past the end of the file (truncated copy)', () => {
    expectElfFormatError(parse(good.buf.subarray(0, good.buf.length - 10)), /section table runs past the end/);
    expectElfFormatError(parse(patch(good, 40, 8, 2n ** 62n)), /section table runs past the end/);
  });
  test('no section table, tiny section headers, bad name table index', () => {
    expectElfFormatError(parse(patch(good, 60, 2, 0)), /no section table/);
    expectElfFormatError(parse(patch(good, 58, 2, 8)), /section header size 8 is too small/);
    expectElfFormatError(parse(patch(good, 62, 2, 200)), /section name table index 200/);
  });
  test('a section whose data runs past the end', () => {
    const at = sectionHeaderField(good, sh('.gnu.version_d'), 'size');
    expectElfFormatError(parse(patch(good, at, 8, 0x7fffffff)), /\.gnu\.version_d section runs past the end/);
  });
  test('version section linked to something that is not a string table', () => {
    const at = sectionHeaderField(good, sh('.gnu.version_d'), 'link');
    expectElfFormatError(parse(patch(good, at, 4, sh('.gnu.version_r'))), /not a string table/);
    expectElfFormatError(parse(patch(good, at, 4, 999)), /links to section 999/);
  });
  test('string offsets out of range', () => {
    const verdaux = good.regions['.gnu.version_d'].offset + 20 + 28; // vda_name of the 2nd definition
    expectElfFormatError(parse(patch(good, verdaux, 4, 0xfffffff0)), /outside its string table/);
    const vnFile = good.regions['.gnu.version_r'].offset + 4;
    expect(() => needsFromBytes(patch(good, vnFile, 4, 1 << 20), 'bad.so')).toThrow(/needed library name offset/);
  });
  test('a string table without a terminating NUL', () => {
    const r = good.regions['.dynstr'];
    const buf = Buffer.from(good.buf);
    buf.fill(0x41, r.offset, r.offset + r.size);
    expectElfFormatError(parse(buf), /not NUL-terminated/);
  });
  test('a cycle in the verdef chain (vd_next wrapping back to itself in 32-bit arithmetic)', () => {
    const vdNext = good.regions['.gnu.version_d'].offset + 28 + 16; // vd_next of the 2nd definition
    expectElfFormatError(parse(patch(good, vdNext, 4, 2 ** 32 - 28)), /version definition entry at offset/);
  });
  test('without an entry count (sh_info 0) the chain is walked to vd_next 0; vd_aux outside is refused', () => {
    const info = sectionHeaderField(good, sh('.gnu.version_d'), 'info');
    expect(libcFromBytes(patch(good, info, 4, 0), 'bad.so').libc.versions).toEqual(['2.2.5', '2.3', '2.17', '2.30']);
    const vdAux = good.regions['.gnu.version_d'].offset + 28 + 12;
    expectElfFormatError(parse(patch(good, vdAux, 4, 1 << 24)), /version definition name at offset/);
  });
  test('vernaux chain running out of the section', () => {
    const vnaNext = good.regions['.gnu.version_r'].offset + 16 + 12;
    expect(() => needsFromBytes(patch(good, vnaNext, 4, 4096), 'bad.so')).toThrow(ElfFormatError);
  });
  test('PT_INTERP past the end of the file', () => {
    const shell = buildElf({ interp: '/lib64/ld-linux-x86-64.so.2' });
    const filesz = 64 + 32; // p_filesz of the only program header (64-bit)
    expect(() => needsFromBytes(patch(shell, filesz, 8, 1 << 30), 'bad.so')).toThrow(/PT_INTERP at offset/);
  });
});

describe('files on disk', () => {
  test('a directory, a missing file and a symlink loop are bad input (exit 2), one line', async () => {
    const loop = path.join(dir, 'loop');
    symlinkSync(loop, loop);
    for (const [p, why] of [
      [dir, /is a directory, not a file/],
      [path.join(dir, 'missing.so'), /does not exist/],
      [loop, /symbolic link loop/],
    ] as const) {
      await expect(inspectLibc(p)).rejects.toMatchObject({ exitCode: 2, message: expect.stringMatching(why) });
    }
  });

  test('a file is read to its end, whatever its size said (an empty one, and procfs, which says 0)', async () => {
    expect((await readInputFile(write('empty', ''))).length).toBe(0);
    const big = Buffer.alloc(200 * 1024 + 7, 5); // more than one read's worth past a zero size
    expect((await readInputFile(write('big', big))).equals(big)).toBe(true);
    const status = await readInputFile('/proc/self/status');
    expect(status.toString()).toMatch(/^Name:/);
  });

  test('isElfFileSync looks at the magic bytes only, and never blocks on a FIFO', async () => {
    const fifo = path.join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    expect(isElfFileSync(write('tiny.so', buildElf({}).buf.subarray(0, 4)))).toBe(true);
    expect(isElfFileSync(write('three', '\x7fEL'))).toBe(false);
    expect(isElfFileSync(write('script', '#!/bin/sh\n'))).toBe(false);
    expect(isElfFileSync(dir)).toBe(false);
    expect(isElfFileSync(path.join(dir, 'nope'))).toBe(false);
    expect(isElfFileSync(fifo)).toBe(false);
    await expect(inspectLibc(fifo)).rejects.toThrow(/is not a regular file/);
  });
});
