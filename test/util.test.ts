import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { copyFileAtomic, writeFileAtomic } from '../src/util/atomic-write';
import { sha256File } from '../src/util/sha256';
import { firstLine, shQuote, shQuoteForDisplay } from '../src/util/text';
import { cacheHome, configHome, dataHome, userBinDir } from '../src/util/xdg';

let dir: string;
beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'bp-util-'));
});
afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

describe('xdg places', () => {
  it('uses absolute XDG_* values and ignores relative ones, as the spec says', () => {
    const env = { HOME: '/home/u', XDG_CACHE_HOME: '/c', XDG_CONFIG_HOME: 'relative', XDG_DATA_HOME: '/d' };
    expect(cacheHome(env)).toBe('/c/borg-provision');
    expect(configHome(env)).toBe('/home/u/.config/borg-provision');
    expect(dataHome(env)).toBe('/d/borg-provision');
    expect(userBinDir(env)).toBe('/home/u/.local/bin');
    expect(dataHome({ HOME: '/h' })).toBe('/h/.local/share/borg-provision');
  });
});

describe('sha256File', () => {
  it('equals sha256sum over the same bytes', async () => {
    const f = path.join(dir, 'data');
    await fs.writeFile(f, Buffer.alloc(3 * 1024 * 1024 + 7, 0xa5));
    const ours = await sha256File(f);
    const theirs = spawnSync('sha256sum', [f], { encoding: 'utf8' }).stdout.split(' ')[0];
    expect(ours).toEqual({ sha256: theirs, size: 3 * 1024 * 1024 + 7 });
  });

  it('rejects for a missing file', async () => {
    await expect(sha256File(path.join(dir, 'nope'))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('atomic writes', () => {
  it('replaces content with the requested mode and leaves no temporary file', async () => {
    const f = path.join(dir, 'current');
    await fs.writeFile(f, 'old');
    await writeFileAtomic(f, 'new\n', { mode: 0o600 });
    expect(await fs.readFile(f, 'utf8')).toBe('new\n');
    expect((await fs.stat(f)).mode & 0o777).toBe(0o600);
    expect(await fs.readdir(dir)).toEqual(['current']);
  });

  it('leaves the old file and no temporary when the target cannot be replaced', async () => {
    const target = path.join(dir, 'isdir');
    await fs.mkdir(target);
    await fs.writeFile(path.join(target, 'keep'), 'x');
    await expect(writeFileAtomic(target, 'new')).rejects.toBeTruthy();
    expect((await fs.readdir(dir)).sort()).toEqual(['isdir']);
    await expect(copyFileAtomic(path.join(dir, 'missing'), path.join(dir, 'to'))).rejects.toMatchObject({
      code: 'ENOENT',
    });
    expect((await fs.readdir(dir)).sort()).toEqual(['isdir']);
  });
});

describe('text helpers', () => {
  it('takes the first non-empty line without "Error: "', () => {
    expect(firstLine(new Error('\n  Error: boom\nstack'))).toBe('boom');
    expect(firstLine('')).toBe('');
  });

  it('quotes for sh so that the shell gives back the exact string', () => {
    const nasty = `a b'c"$(x)\`y\``;
    const out = spawnSync('sh', ['-c', `printf %s ${shQuote(nasty)}`], { encoding: 'utf8' }).stdout;
    expect(out).toBe(nasty);
    expect(shQuoteForDisplay('/plain/path-1.2')).toBe('/plain/path-1.2');
    expect(shQuoteForDisplay('has space')).toBe(`'has space'`);
  });
});
