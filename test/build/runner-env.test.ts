// vagrant runs without the GitHub token: a stand-in `vagrant` first on PATH writes its environment.
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { checkPrerequisites } from '../../src/build/prerequisites';
import { openLog, runVagrant, vagrantSshToStream } from '../../src/build/runner';
import { PassThrough } from 'node:stream';

describe('the environment vagrant gets', () => {
  let dir: string;
  const saved = { ...process.env };

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'bp-runner-env-'));
    const bin = path.join(dir, 'bin');
    await fs.mkdir(bin);
    // Records its own environment, one NAME=value per line (a real process, a real exec).
    await fs.writeFile(path.join(bin, 'vagrant'), `#!/bin/sh\n/usr/bin/env > "${dir}/env.txt"\n`, { mode: 0o755 });
    process.env.PATH = `${bin}:${process.env.PATH ?? ''}`;
    process.env.GITHUB_TOKEN = 'ghp_secret_for_test';
    process.env.GH_TOKEN = 'gh_secret_for_test';
    process.env.VAGRANT_CLOUD_TOKEN = 'vagrant-needs-this';
  });

  afterAll(async () => {
    for (const k of ['PATH', 'GITHUB_TOKEN', 'GH_TOKEN', 'VAGRANT_CLOUD_TOKEN']) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  const recorded = async (): Promise<Record<string, string>> =>
    Object.fromEntries(
      (await fs.readFile(path.join(dir, 'env.txt'), 'utf8'))
        .split('\n')
        .filter(Boolean)
        .map((l) => [l.split('=')[0], l.slice(l.indexOf('=') + 1)]),
    );

  it("runVagrant drops GITHUB_TOKEN and GH_TOKEN, keeps vagrant's own settings", async () => {
    const log = openLog(path.join(dir, 'build.log'));
    const r = await runVagrant(['up'], { cwd: dir, log });
    log.end();
    expect(r.code).toBe(0);
    const env = await recorded();
    expect(env.GITHUB_TOKEN).toBeUndefined();
    expect(env.GH_TOKEN).toBeUndefined();
    expect(env.VAGRANT_CLOUD_TOKEN).toBe('vagrant-needs-this');
    expect(env.VAGRANT_CWD).toBe(dir);
    expect(await fs.readFile(path.join(dir, 'build.log'), 'utf8')).not.toContain('secret_for_test');
  });

  it('vagrantSshToStream drops them too', async () => {
    await fs.rm(path.join(dir, 'env.txt'), { force: true });
    const log = openLog(path.join(dir, 'ssh.log'));
    const r = await vagrantSshToStream('true', { cwd: dir, log, out: new PassThrough() });
    log.end();
    expect(r.code).toBe(0);
    const env = await recorded();
    expect(env.GITHUB_TOKEN).toBeUndefined();
    expect(env.GH_TOKEN).toBeUndefined();
    expect(env.PATH).toContain(path.join(dir, 'bin'));
  });

  it('the prerequisite checks run vagrant without them as well', async () => {
    await fs.rm(path.join(dir, 'env.txt'), { force: true });
    await checkPrerequisites('virtualbox');
    const env = await recorded();
    expect(env.GITHUB_TOKEN).toBeUndefined();
    expect(env.GH_TOKEN).toBeUndefined();
    expect(env.VAGRANT_CLOUD_TOKEN).toBe('vagrant-needs-this');
  });
});
