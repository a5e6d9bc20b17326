import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { sha256File } from '../../src/util/sha256';

let dir: string;
beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'bp-util-'));
});
afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
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
