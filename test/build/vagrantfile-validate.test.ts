// The generated Vagrantfile must pass Debian's real `vagrant validate` (with vagrant-libvirt), and
// the provisioning script `sh -n` and shellcheck. VAGRANT_HOME is a temp dir: nothing touches the
// user's ~/.vagrant.d and nothing goes to the network.
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DEBIAN_RELEASES } from '../../src/build/debian';
import { writeWorkDir } from '../../src/build/orchestrate';
import { makePlan, PROVIDERS } from '../../src/build/plan';
import { repoRoot } from '../helpers/cli';
import { requireTool } from '../helpers/tools';

const VAGRANT_DIR = path.join(repoRoot, 'vagrant');

jest.setTimeout(120000);

function run(
  cmd: string,
  args: string[],
  o: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd: o.cwd, env: { ...process.env, ...o.env } }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: `${stdout}${stderr}` });
    });
  });
}

let tmp: string;
let env: NodeJS.ProcessEnv;
beforeAll(() => {
  requireTool('vagrant', 'vagrant');
  requireTool('shellcheck', 'shellcheck');
});
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'build-validate-'));
  env = {
    VAGRANT_HOME: path.join(tmp, 'vagrant-home'),
    HOME: tmp,
    VAGRANT_CHECKPOINT_DISABLE: '1',
    VAGRANT_NO_COLOR: '1',
  };
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

async function workDirFor(name: string, plan: ReturnType<typeof makePlan>): Promise<string> {
  const dir = path.join(tmp, name);
  await writeWorkDir(plan, dir);
  fs.writeFileSync(path.join(dir, 'input', plan.sdistName), 'verified sdist stand-in');
  return dir;
}

describe('vagrant validate accepts the generated Vagrantfile', () => {
  const cases = DEBIAN_RELEASES.flatMap((debian) => PROVIDERS.map((provider) => [debian, provider] as const));
  test.each(cases)('Debian %s with %s', async (debian, provider) => {
    const plan = makePlan({ version: '1.4.2', debian, arch: 'x86_64', provider });
    const dir = await workDirFor(`${debian}-${provider}`, plan);
    const r = await run('vagrant', ['validate'], { cwd: dir, env });
    expect(r.out).toContain('Vagrantfile validated successfully');
    expect(r.code).toBe(0);
  });

  test('arm64 under libvirt (with a user-named box) validates too', async () => {
    const plan = makePlan({ version: '2.0.0b22', debian: 'trixie', arch: 'arm64', box: 'someone/debian13-arm64' });
    const r = await run('vagrant', ['validate'], { cwd: await workDirFor('arm64', plan), env });
    expect(r.code).toBe(0);
  });

  test('validate is a real check: a missing upload source is rejected', async () => {
    const plan = makePlan({ version: '1.4.2', debian: 'bookworm', arch: 'x86_64' });
    const dir = await workDirFor('missing-sdist', plan);
    fs.rmSync(path.join(dir, 'input', plan.sdistName));
    const r = await run('vagrant', ['validate'], { cwd: dir, env });
    expect(r.code).not.toBe(0);
    expect(r.out).toMatch(/File upload source file .*borgbackup-1\.4\.2\.tar\.gz must exist/);
  });

  test('a hostile --box value stays a string: it validates and runs nothing', async () => {
    const marker = path.join(tmp, 'pwned');
    const box = `x'; File.write('${marker}', '1'); '`;
    const plan = makePlan({ version: '1.4.2', debian: 'bookworm', arch: 'x86_64', box });
    const r = await run('vagrant', ['validate'], { cwd: await workDirFor('hostile', plan), env });
    expect(r.code).toBe(0);
    expect(fs.existsSync(marker)).toBe(false);
  });
});

describe('provisioning script', () => {
  const script = path.join(VAGRANT_DIR, 'provision.sh');

  test('is POSIX sh (sh -n) and shellcheck-clean', async () => {
    expect((await run('sh', ['-n', script])).code).toBe(0);
    const sc = await run('shellcheck', ['--shell=sh', '--severity=style', script]);
    expect(sc.out).toBe('');
    expect(sc.code).toBe(0);
  });

  test('stops at once, naming nothing built, when an input is missing (set -eu)', async () => {
    const r = await run('sh', [script], { env: { BORG_VERSION: '1.4.2' } });
    expect(r.code).not.toBe(0);
    expect(r.out).toMatch(/SDIST/);
    expect(r.out).not.toContain('borg-provision step');
  });
});
