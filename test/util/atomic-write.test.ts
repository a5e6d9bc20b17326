import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { copyFileAtomic, writeFileAtomic } from '../../src/util/atomic-write';
import { useTempDir } from '../helpers/temp-dir';

const dir = useTempDir('bp-atomic-write-');

describe('atomic writes', () => {
  it('replaces content with the requested mode and leaves no temporary file', async () => {
    const f = path.join(dir(), 'current');
    await fs.writeFile(f, 'old');
    await writeFileAtomic(f, 'new\n', { mode: 0o600 });
    expect(await fs.readFile(f, 'utf8')).toBe('new\n');
    expect((await fs.stat(f)).mode & 0o777).toBe(0o600);
    expect(await fs.readdir(dir())).toEqual(['current']);
  });

  it('leaves the old file and no temporary when the target cannot be replaced', async () => {
    const target = path.join(dir(), 'isdir');
    await fs.mkdir(target);
    await fs.writeFile(path.join(target, 'keep'), 'x');
    await expect(writeFileAtomic(target, 'new')).rejects.toBeTruthy();
    expect((await fs.readdir(dir())).sort()).toEqual(['isdir']);
    await expect(copyFileAtomic(path.join(dir(), 'missing'), path.join(dir(), 'to'))).rejects.toMatchObject({
      code: 'ENOENT',
    });
    expect((await fs.readdir(dir())).sort()).toEqual(['isdir']);
  });
});
