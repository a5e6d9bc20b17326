import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { ArchiveError, ChecksumError, InterruptedError } from '../../src/errors';
import { EntryGuard, normalizeEntryPath } from '../../src/install/entry-guard';
import { refuseLinksOutside, unpackArchive } from '../../src/install/unpack';
import { BorgFixtures } from '../helpers/borg-fixture';
import { requireTool } from '../helpers/tools';

let fx: BorgFixtures;
let tmp: string;
beforeAll(() => requireTool('tar', 'tar'));
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

  test('normalizes ./ and double slashes', () => {
    expect(normalizeEntryPath('./borg-dir//borg.exe')).toBe('borg-dir/borg.exe');
  });

  test('symlinks: inside ok, outside refused, writing through any refused', () => {
    const g = new EntryGuard();
    expect(g.check({ path: 'borg-dir/_internal/libz.so', type: 'SymbolicLink', linkpath: 'libz.so.1' })).toBe(
      'borg-dir/_internal/libz.so',
    );
    expect(() => g.check({ path: 'borg-dir/a', type: 'SymbolicLink', linkpath: '../../etc' })).toThrow(
      /symlink pointing outside/,
    );
    expect(() => g.check({ path: 'borg-dir/b', type: 'SymbolicLink', linkpath: '/etc' })).toThrow(/absolute path/);
    g.check({ path: 'borg-dir/here', type: 'SymbolicLink', linkpath: '.' });
    expect(() => g.check({ path: 'borg-dir/here/x', type: 'File' })).toThrow(
      /written through the symlink "borg-dir\/here"/,
    );
  });

  test('hard links only to files seen earlier in the archive', () => {
    const g = new EntryGuard();
    g.check({ path: 'borg-dir/a', type: 'File' });
    expect(g.check({ path: 'borg-dir/b', type: 'Link', linkpath: 'borg-dir/a' })).toBe('borg-dir/b');
    expect(() => g.check({ path: 'borg-dir/c', type: 'Link', linkpath: 'borg-dir/zz' })).toThrow(
      /not a file in the archive/,
    );
    expect(() => g.check({ path: 'borg-dir/d', type: 'Link', linkpath: '/etc/shadow' })).toThrow(/absolute path/);
  });

  test('a chain of symlinks is resolved through the links already recorded', () => {
    const g = new EntryGuard();
    g.check({ path: 'borg-dir/a/b/s1', type: 'SymbolicLink', linkpath: '../..' });
    // Textually borg-dir/a/b/s1/../../../.. is the root; through s1 (= borg-dir) it is two levels above.
    expect(() => g.check({ path: 'borg-dir/a/b/s2', type: 'SymbolicLink', linkpath: 's1/../../../..' })).toThrow(
      /"borg-dir\/a\/b\/s2" escapes .*symlink pointing outside/,
    );
    // Through s1 but staying inside is fine.
    expect(g.check({ path: 'borg-dir/a/b/s3', type: 'SymbolicLink', linkpath: 's1/../borg-dir/x' })).toBe(
      'borg-dir/a/b/s3',
    );
  });

  test('a later link that makes an earlier one point outside is refused', () => {
    const g = new EntryGuard();
    // x is nothing yet, so s2 -> x/../.. is borg-dir/a: fine, until x becomes a link two levels up.
    g.check({ path: 'borg-dir/a/b/s2', type: 'SymbolicLink', linkpath: 'x/../../../..' });
    expect(() => g.check({ path: 'borg-dir/a/b/x', type: 'SymbolicLink', linkpath: '../..' })).toThrow(
      /makes "borg-dir\/a\/b\/s2" point outside/,
    );
  });

  test('symlink loops are refused', () => {
    const g = new EntryGuard();
    g.check({ path: 'borg-dir/l1', type: 'SymbolicLink', linkpath: 'l2/x' });
    expect(() => g.check({ path: 'borg-dir/l2', type: 'SymbolicLink', linkpath: 'l1/y' })).toThrow(ArchiveError);
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

  test('a build of many 1 MiB gunzip chunks, handed to tar one by one, unpacks byte for byte', async () => {
    // ~14 MiB unpacked: every chunk goes through the queue between gunzip and tar, in order.
    const tree = path.join(tmp, 'tree');
    fs.mkdirSync(path.join(tree, 'borg-dir', '_internal'), { recursive: true });
    const want = new Map<string, string>();
    for (let i = 0; i < 7; i++) {
      const rel = path.join('borg-dir', '_internal', `lib${i}.so`);
      const body =
        i % 2
          ? Buffer.alloc(2 * 1024 * 1024 + i, i)
          : Buffer.concat([randomBytes(1536 * 1024), Buffer.alloc(512 * 1024 + i)]);
      fs.writeFileSync(path.join(tree, rel), body);
      want.set(rel, createHash('sha256').update(body).digest('hex'));
    }
    fs.writeFileSync(path.join(tree, 'borg-dir', 'borg.exe'), '#!/bin/sh\n', { mode: 0o755 });
    const tgz = path.join(tmp, 'big.tgz');
    execFileSync('tar', ['-czf', tgz, '-C', tree, 'borg-dir']);
    const d = dest();
    const r = await unpackArchive({
      archive: tgz,
      dest: d,
      expectSha256: createHash('sha256').update(fs.readFileSync(tgz)).digest('hex'),
    });
    expect(r.entries).toBe(10);
    for (const [rel, sha] of want)
      expect(
        createHash('sha256')
          .update(fs.readFileSync(path.join(d, rel)))
          .digest('hex'),
      ).toBe(sha);
  });

  test.each([
    ['cut short in the middle of a large file', 'truncated'],
    ['interrupted in the middle of a large file', 'aborted'],
  ])('an archive %s fails and leaves no file of the destination open', async (_name, how) => {
    const tree = path.join(tmp, 'tree');
    fs.mkdirSync(path.join(tree, 'borg-dir'), { recursive: true });
    fs.writeFileSync(path.join(tree, 'borg-dir', 'big.bin'), randomBytes(8 << 20));
    const tgz = path.join(tmp, 'big.tgz');
    execFileSync('tar', ['-czf', tgz, '-C', tree, 'borg-dir']);
    if (how === 'truncated') fs.truncateSync(tgz, 4 << 20);
    const d = dest();
    const abort = new AbortController();
    // Interrupted once the large file is being written (not after a fixed time: a quick machine
    // would have unpacked it all by then).
    const started = (): boolean =>
      (fs.statSync(path.join(d, 'borg-dir', 'big.bin'), { throwIfNoEntry: false })?.size ?? 0) > 0;
    const poll = how === 'aborted' ? setInterval(() => started() && abort.abort(), 1) : undefined;
    const err = await unpackArchive({ archive: tgz, dest: d, signal: abort.signal })
      .catch((e: unknown) => e)
      .finally(() => clearInterval(poll));
    expect(err).toBeInstanceOf(how === 'aborted' ? InterruptedError : ArchiveError);
    // Every descriptor this process holds: none may still point into the destination.
    const open = fs.readdirSync('/proc/self/fd').flatMap((fd) => {
      try {
        return [fs.readlinkSync(`/proc/self/fd/${fd}`)];
      } catch {
        return [];
      }
    });
    expect(open.filter((target) => target.startsWith(d))).toEqual([]);
  });

  test('a plain (not gzipped) tar unpacks too, hashed over its own bytes', async () => {
    const tree = path.join(tmp, 'tree');
    fs.mkdirSync(path.join(tree, 'borg-dir'), { recursive: true });
    const body = randomBytes(3 << 20);
    fs.writeFileSync(path.join(tree, 'borg-dir', 'borg.exe'), body, { mode: 0o755 });
    const tar = path.join(tmp, 'plain.tar');
    execFileSync('tar', ['-cf', tar, '-C', tree, 'borg-dir']);
    const sha256 = createHash('sha256').update(fs.readFileSync(tar)).digest('hex');
    const d = dest();
    const r = await unpackArchive({ archive: tar, dest: d, expectSha256: sha256 });
    expect(r).toEqual({ entries: 2, sha256 });
    expect(fs.readFileSync(path.join(d, 'borg-dir', 'borg.exe')).equals(body)).toBe(true);
  });

  test('bytes other than the verified ones are refused with ChecksumError (exit 5)', async () => {
    const tgz = fx.oneDirTgz('borg-linux-glibc231-x86_64.tgz', '1.4.2');
    const verified = createHash('sha256').update(fs.readFileSync(tgz)).digest('hex');
    // Another valid build in its place: tar alone would accept it, only the digest tells.
    fs.copyFileSync(fx.oneDirTgz('other.tgz', '6.6.6'), tgz);
    const err = await unpackArchive({ archive: tgz, dest: dest(), expectSha256: verified }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ChecksumError);
    expect((err as ChecksumError).exitCode).toBe(5);
    expect((err as Error).message).toMatch(
      /^borg-linux-glibc231-x86_64\.tgz changed after it was verified \(SHA-256 \w{16}… unpacked, \w{16}… verified\)/,
    );
  });

  const outsideDir = (): string => path.join(tmp, 'outside');

  test.each<[string, () => string, RegExp]>([
    ['a ".." entry', () => fx.dotDotTgz('dotdot.tgz'), /"\.\.\/evil" escapes the install directory/],
    [
      'an absolute path',
      () => fx.absoluteTgz('abs.tgz', path.join(outsideDir(), 'abs-evil')),
      /escapes the install directory \(absolute path\)/,
    ],
    [
      'a symlink out + a file through it',
      () => fx.symlinkOutTgz('symout.tgz', outsideDir()),
      /symlink to absolute path/,
    ],
    ['a symlink inside + a file through it', () => fx.symlinkThroughTgz('through.tgz'), /written through the symlink/],
    [
      'a hard link out',
      () => fx.hardlinkOutTgz('hard.tgz', path.join(outsideDir(), 'h')),
      /escapes the install directory/,
    ],
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

  const dir = (p: string) => ({ path: p, type: 'Directory' });
  const link = (p: string, linkpath: string) => ({ path: p, type: 'SymbolicLink', linkpath });
  const file = (p: string) => ({ path: p, type: 'File', body: Buffer.from('x\n') });
  const base = [
    dir('borg-dir/'),
    file('borg-dir/borg.exe'),
    dir('borg-dir/a/'),
    dir('borg-dir/a/b/'),
    dir('borg-dir/c/'),
  ];

  test.each<[string, { path: string; type: string; linkpath?: string; body?: Buffer }[], RegExp]>([
    [
      'a chain of two symlinks (s2 -> s1/../../../..)',
      [link('borg-dir/a/b/s1', '../..'), link('borg-dir/a/b/s2', 's1/../../../..')],
      /"borg-dir\/a\/b\/s2" escapes/,
    ],
    [
      'a chain through a directory symlink from another directory',
      [link('borg-dir/a/b/up', '../..'), link('borg-dir/c/s2', '../a/b/up/../../..')],
      /"borg-dir\/c\/s2" escapes/,
    ],
    [
      // l2 stays inside, but its target passes through the link l1: node-tar refuses that first.
      'a chain of three symlinks',
      [
        link('borg-dir/a/b/l1', '../..'),
        link('borg-dir/a/b/l2', 'l1/a/b/l1'),
        link('borg-dir/a/b/l3', 'l2/../../../..'),
      ],
      /^archive entry "borg-dir\/a\/b\/l2" is a link whose target passes through the symlink "borg-dir\/a\/b\/l1"; refusing the archive$/,
    ],
    [
      'a file later replaced by a symlink, then a chain through it',
      [file('borg-dir/a/b/s1'), link('borg-dir/a/b/s1', '../..'), link('borg-dir/a/b/s2', 's1/../../../..')],
      /"borg-dir\/a\/b\/s2" escapes/,
    ],
    [
      'a hard link to a symlink that replaced a file (the link text moves up a directory)',
      [
        file('borg-dir/a/b/x'),
        link('borg-dir/a/b/x', '../..'),
        { path: 'borg-dir/y', type: 'Link', linkpath: 'borg-dir/a/b/x' },
      ],
      /"borg-dir\/y" escapes .*hard link/,
    ],
  ])('%s: refused (exit 5), nothing resolves outside', async (_n, extra, msg) => {
    const tgz = fx.crafted('chain.tgz', [...base, ...extra]);
    const d = dest();
    const err = await unpackArchive({ archive: tgz, dest: d }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ArchiveError);
    expect((err as ArchiveError).exitCode).toBe(5);
    expect((err as Error).message).toMatch(msg);
    // Whatever tar wrote before the refusal stays inside (the caller removes it all).
    await expect(refuseLinksOutside(d)).resolves.toBeUndefined();
  });

  test('a symlink later replaced by a file: the chain through the old link is judged by what is on disk', async () => {
    const tgz = fx.crafted('replaced.tgz', [
      ...base,
      link('borg-dir/a/b/s1', '../..'),
      file('borg-dir/a/b/s1'),
      link('borg-dir/a/b/s2', 's1/../../../..'),
    ]);
    const d = dest();
    await unpackArchive({ archive: tgz, dest: d });
    expect(fs.lstatSync(path.join(d, 'borg-dir/a/b/s1')).isFile()).toBe(true);
    // s2 now dangles (s1 is a file, s1/.. is ENOTDIR): it leads nowhere, least of all outside.
    expect(() => fs.realpathSync(path.join(d, 'borg-dir/a/b/s2'))).toThrow(/ENOTDIR/);
  });

  test("refuseLinksOutside: the kernel's view of every link after extraction", async () => {
    const d = dest();
    fs.mkdirSync(path.join(d, 'borg-dir/a/b'), { recursive: true });
    fs.symlinkSync('../..', path.join(d, 'borg-dir/a/b/s1'));
    fs.symlinkSync('../missing/x', path.join(d, 'borg-dir/dangling-inside'));
    await expect(refuseLinksOutside(d)).resolves.toBeUndefined();
    fs.symlinkSync('s1/../../../..', path.join(d, 'borg-dir/a/b/s2'));
    await expect(refuseLinksOutside(d)).rejects.toThrow(
      /"borg-dir\/a\/b\/s2" is a symlink that resolves outside the install directory \(to /,
    );
    fs.rmSync(path.join(d, 'borg-dir/a/b/s2'));
    fs.symlinkSync('s1/../../nope/x', path.join(d, 'borg-dir/a/b/s3')); // dangling and outside
    await expect(refuseLinksOutside(d)).rejects.toThrow(ArchiveError);
    fs.rmSync(path.join(d, 'borg-dir/a/b/s3'));
    fs.symlinkSync('loop2', path.join(d, 'loop1'));
    fs.symlinkSync('loop1', path.join(d, 'loop2'));
    await expect(refuseLinksOutside(d)).rejects.toThrow(/\(a loop\)/);
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

  test('a tar stream that is itself compressed (a .tgz gzipped again) is refused, not inflated by tar', async () => {
    const inner = fx.oneDirTgz('inner.tgz', '1.4.2');
    const twice = path.join(tmp, 'twice.tgz');
    fs.writeFileSync(twice, zlib.gzipSync(fs.readFileSync(inner)));
    const d = dest();
    const err = await unpackArchive({ archive: twice, dest: d }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ArchiveError);
    expect((err as Error).message).toBe('twice.tgz holds a compressed stream, not a tar archive; refusing it');
    expect(fs.readdirSync(d)).toEqual([]);
  });

  test('an aborted signal stops it with InterruptedError', async () => {
    const tgz = fx.oneDirTgz('b.tgz', '1.4.2');
    const ac = new AbortController();
    ac.abort();
    await expect(unpackArchive({ archive: tgz, dest: dest(), signal: ac.signal })).rejects.toThrow(InterruptedError);
  });
});

describe('archive defects are exit 5 naming the entry, checked before the entry is written', () => {
  const long = 'n'.repeat(300);
  test.each([
    [
      'a member name over 255 bytes',
      `borg-dir/${long}`,
      /archive entry "borg-dir\/n{300}" has a name of 300 bytes .*filesystems allow 255: refusing the archive$/,
    ],
    [
      'a path nested too deep',
      `borg-dir/${'d/'.repeat(70)}x`,
      /archive entry "borg-dir\/d\/d\/.*" is nested 72 levels deep \(at most 64\): refusing the archive$/,
    ],
    [
      'a path over PATH_MAX',
      `borg-dir/${`${'p'.repeat(200)}/`.repeat(21)}x`,
      /would be a path of \d{4} bytes under the install directory \(at most 4096\): refusing the archive$/,
    ],
    [
      'an entry under the manifest file',
      'borg-dir/borg-provision.json/x',
      /archive entry "borg-dir\/borg-provision\.json\/x" collides with the install manifest borg-dir\/borg-provision\.json/,
    ],
    ['the manifest file itself', 'borg-dir/borg-provision.json', /collides with the install manifest/],
  ])('%s', async (_what, member, message) => {
    const tgz = fx.extraMemberTgz('defect.tgz', '1.4.2', member);
    const d = dest();
    const err = await unpackArchive({ archive: tgz, dest: d }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ArchiveError);
    expect((err as ArchiveError).exitCode).toBe(5);
    expect((err as Error).message).toMatch(message);
    // The defective entry itself was never written.
    expect(fs.existsSync(path.join(d, 'borg-dir', 'borg-provision.json'))).toBe(false);
  });

  test('a directory entry at the manifest path too', async () => {
    const tgz = fx.crafted('dir.tgz', [
      { path: 'borg-dir/', type: 'Directory' },
      { path: 'borg-dir/borg-provision.json/', type: 'Directory' },
    ]);
    await expect(unpackArchive({ archive: tgz, dest: dest() })).rejects.toThrow(/collides with the install manifest/);
  });
});

test('the unpack-size guard names its real limit and where it stopped', async () => {
  const tgz = fx.oneDirTgz('big.tgz', '1.4.2', 'ok', (dir) =>
    fs.writeFileSync(path.join(dir, 'data.bin'), randomBytes(3 * 1024 * 1024)),
  );
  const err = await unpackArchive({ archive: tgz, dest: dest(), maxUnpackedBytes: 2 * 1024 * 1024 }).catch(
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ArchiveError);
  expect((err as Error).message).toMatch(
    /^big\.tgz unpacks to more than 2 MiB \(the limit for a borg build, which is about 80 MB\): stopped at 2(\.\d)? MiB; refusing it$/,
  );
});
