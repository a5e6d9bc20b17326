import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { sha256File } from '../../src/util/sha256';
import { useTempDir } from '../helpers/temp-dir';

const dir = useTempDir('bp-sha256-');

describe('sha256File', () => {
  it('equals sha256sum over the same bytes', async () => {
    const f = path.join(dir(), 'data');
    await fs.writeFile(f, Buffer.alloc(3 * 1024 * 1024 + 7, 0xa5));
    const ours = await sha256File(f);
    const theirs = spawnSync('sha256sum', [f], { encoding: 'utf8' }).stdout.split(' ')[0];
    expect(ours).toEqual({ sha256: theirs, size: 3 * 1024 * 1024 + 7 });
  });

  it('rejects for a missing file', async () => {
    await expect(sha256File(path.join(dir(), 'nope'))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
