import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ArchiveError, ChecksumError, InterruptedError } from '../../src/errors';
import { EntryGuard, normaliseEntryPath, unpackArchive } from '../../src/install/unpack';
import { BorgFixtures } from '../helpers/borg-fixture';

let fx: BorgFixtures;
let tmp: string;
beforeAll(() => {
  fx = new BorgFixtures();
});
afterAll(() => fx.cleanup());
beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'unpack-test-'));
});
afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

function dest(): string {
  const d = path.join(tmp, 'dest');
  fs.mkdirSync(d);
  return d;
}

describe('EntryGuard', () => {
  test.each([
    ['../x', 'File'],
    ['borg-dir/../../x', 'File'],
    ['/etc/passwd', 'File'],
  ])('refuses %s', (p, type) => {
    expect(() => new EntryGuard().check({ path: p, type })).toThrow(/escapes the install directory/);
  });

  test('normalises ./ and double slashes', () => {
    expect(normaliseEntryPath('./borg-dir//borg.exe')).toBe('borg-dir/borg.exe');
  });

  test('symlinks: inside ok, outside refused, writing through any refused', () => {
    const g = new EntryGuard();
    expect(g.check({ path: 'borg-dir/_internal/libz.so', type: 'SymbolicLink', linkpath: 'libz.so.1' })).toBe('borg-dir/_internal/libz.so');
    expect(() => g.check({ path: 'borg-dir/a', type: 'SymbolicLink', linkpath: '../../etc' })).toThrow(/symlink pointing outside/);
    expect(() => g.check({ path: 'borg-dir/b', type: 'SymbolicLink', linkpath: '/etc' })).toThrow(/absolute path/);
    g.check({ path: 'borg-dir/here', type: 'SymbolicLink', linkpath: '.' });
    expect(() => g.check({ path: 'borg-dir/here/x', type: 'File' })).toThrow(/written through the symlink "borg-dir\/here"/);
  });

  test('hard links only to files seen earlier in the archive', () => {
    const g = new EntryGuard();
    g.check({ path: 'borg-dir/a', type: 'File' });
    expect(g.check({ path: 'borg-dir/b', type: 'Link', linkpath: 'borg-dir/a' })).toBe('borg-dir/b');
    expect(() => g.check({ path: 'borg-dir/c', type: 'Link', linkpath: 'borg-dir/zz' })).toThrow(/not a file in the archive/);
    expect(() => g.check({ path: 'borg-dir/d', type: 'Link', linkpath: '/etc/shadow' })).toThrow(/absolute path/);
  });

  test.each(['CharacterDevice', 'BlockDevice', 'FIFO'])('refuses %s entries', (type) => {
    expect(() => new EntryGuard().check({ path: 'borg-dir/dev', type })).toThrow(ArchiveError);
  });
});

describe('unpackArchive on real archives', () => {
  test('a GNU tar one-dir build unpacks with modes kept', async () => {
    const tgz = fx.oneDirTgz('borg-linux-glibc231-x86_64.tgz', '1.4.2');
    const d = dest();
    const sha256 = createHash('sha256').update(fs.readFileSync(tgz)).digest('hex');
    const r = await unpackArchive({ archive: tgz, dest: d, expectSha256: sha256 });
    expect(r).toMatchObject({ sha256 });
    expect(r.entries).toBeGreaterThanOrEqual(4);
    const exe = fs.statSync(path.join(d, 'borg-dir', 'borg.exe'));
    expect(exe.mode & 0o111).not.toBe(0);
    expect(fs.existsSync(path.join(d, 'borg-dir', '_internal', 'libfixture.so'))).toBe(true);
  });

  test('bytes other than the verified ones are refused with ChecksumError (exit 5)', async () => {
    const tgz = fx.oneDirTgz('borg-linux-glibc231-x86_64.tgz', '1.4.2');
    const verified = createHash('sha256').update(fs.readFileSync(tgz)).digest('hex');
    // Another valid build in its place: tar alone would accept it, only the digest tells.
    fs.copyFileSync(fx.oneDirTgz('other.tgz', '6.6.6'), tgz);
    const err = await unpackArchive({ archive: tgz, dest: dest(), expectSha256: verified }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ChecksumError);
    expect((err as ChecksumError).exitCode).toBe(5);
    expect((err as Error).message).toMatch(/^borg-linux-glibc231-x86_64\.tgz changed after it was verified \(SHA-256 \w{16}… unpacked, \w{16}… verified\)/);
  });

  const outsideDir = (): string => path.join(tmp, 'outside');

  test.each<[string, () => string, RegExp]>([
    ['a ".." entry', () => fx.dotDotTgz('dotdot.tgz'), /"\.\.\/evil" escapes the install directory/],
    ['an absolute path', () => fx.absoluteTgz('abs.tgz', path.join(outsideDir(), 'abs-evil')), /escapes the install directory \(absolute path\)/],
    ['a symlink out + a file through it', () => fx.symlinkOutTgz('symout.tgz', outsideDir()), /symlink to absolute path/],
    ['a symlink inside + a file through it', () => fx.symlinkThroughTgz('through.tgz'), /written through the symlink/],
    ['a hard link out', () => fx.hardlinkOutTgz('hard.tgz', path.join(outsideDir(), 'h')), /escapes the install directory/],
    ['a character device', () => fx.deviceTgz('dev.tgz'), /is a character device/],
    ['a FIFO', () => fx.fifoTgz('fifo.tgz'), /is a FIFO/],
  ])('%s: refused, nothing written outside', async (_n, make, msg) => {
    const tgz = make();
    fs.mkdirSync(outsideDir(), { recursive: true });
    const before = fs.readdirSync(outsideDir());
    const d = dest();
    await expect(unpackArchive({ archive: tgz, dest: d })).rejects.toThrow(msg);
    expect(fs.readdirSync(outsideDir())).toEqual(before);
    expect(fs.existsSync(path.join(tmp, 'evil'))).toBe(false);
  });

  test('unknown entry types are refused, not skipped', async () => {
    const tgz = fx.crafted('weird.tgz', [
      { path: 'borg-dir/', type: 'Directory' },
      { path: 'borg-dir/x', type: 'GNUDumpDir' },
    ]);
    await expect(unpackArchive({ archive: tgz, dest: dest() })).rejects.toThrow(ArchiveError);
  });

  test('a corrupt archive is an ArchiveError', async () => {
    const bad = path.join(tmp, 'bad.tgz');
    fs.writeFileSync(bad, Buffer.concat([Buffer.from([0x1f, 0x8b, 8, 0]), Buffer.alloc(2000, 7)]));
    await expect(unpackArchive({ archive: bad, dest: dest() })).rejects.toThrow(ArchiveError);
  });

  test('an aborted signal stops it with InterruptedError', async () => {
    const tgz = fx.oneDirTgz('b.tgz', '1.4.2');
    const ac = new AbortController();
    ac.abort();
    await expect(unpackArchive({ archive: tgz, dest: dest(), signal: ac.signal })).rejects.toThrow(InterruptedError);
  });
});
