// vagrant/provision.sh itself, run on this machine with stand-ins for what only exists in the
// build VM (sudo/apt-get, Debian's python3, pyenv via git, pip, pyinstaller: test/build/provision-stubs).
// Real sh, tar, sha256sum, getconf. Checks the step order, the Python choice, the spec choice,
// the `borg.exe -V` check, set -eu, and the tarball + build-info the host reads back.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseBuildInfo } from '../../src/build/artifact';
import { makePlan } from '../../src/build/plan';
import { repoRoot } from '../helpers/cli';
import { provisionEnv } from '../../src/build/vagrantfile';
import { requireTool } from '../helpers/tools';

const VAGRANT_DIR = path.join(repoRoot, 'vagrant');

const STUBS = path.join(__dirname, 'provision-stubs');
const SCRIPT = path.join(VAGRANT_DIR, 'provision.sh');

let tmp: string;
beforeAll(() => requireTool('tar', 'tar'));
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'provision-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

let n = 0;
function provision(
  version: string,
  o: { debianPython?: string; withSpec?: boolean; env?: Record<string, string> } = {},
) {
  const home = path.join(tmp, `home-${++n}`);
  const src = path.join(home, 'sdist-src', `borgbackup-${version}`);
  fs.mkdirSync(path.join(src, 'src', 'borg'), { recursive: true });
  if (o.withSpec ?? true) {
    fs.mkdirSync(path.join(src, 'scripts'));
    fs.writeFileSync(path.join(src, 'scripts', 'borg.exe.spec'), '# spec\n');
  }
  const sdist = path.join(home, `borgbackup-${version}.tar.gz`);
  execFileSync('tar', ['-C', path.dirname(src), '-czf', sdist, path.basename(src)]);
  fs.copyFileSync(path.join(VAGRANT_DIR, 'borg-dir.spec'), path.join(home, 'borg-dir.spec'));
  // The same environment the Vagrantfile gives, with /home/vagrant mapped to this HOME.
  const plan = makePlan({ version, debian: 'bookworm', arch: 'x86_64' });
  const env = Object.fromEntries(
    Object.entries(provisionEnv(plan)).map(([k, v]) => [k, v.replace('/home/vagrant', home)]),
  );
  const log = path.join(home, 'stub.log');
  const r = spawnSync('sh', [SCRIPT], {
    env: {
      ...env,
      HOME: home,
      PATH: `${STUBS}:/usr/bin:/bin`,
      STUBS,
      STUB_LOG: log,
      STUB_PY_SERIES: o.debianPython ?? '3.11',
      STUB_PYI_VERSION: plan.toolchain.pyinstaller,
      ...o.env,
    },
    encoding: 'utf8',
  });
  const steps = [...r.stdout.matchAll(/^==> borg-provision step: (.+)$/gm)].map((m) => m[1]);
  const calls = fs.existsSync(log) ? fs.readFileSync(log, 'utf8').split('\n').filter(Boolean) : [];
  const out = path.join(home, 'borg-build', 'out');
  return { r, steps, calls, out, home, src };
}

test("1.4 on bookworm: Debian's Python 3.11, the sdist's own spec, a borg-dir tarball and build-info", () => {
  const { r, steps, calls, out, src, home } = provision('1.4.2');
  expect(r.stderr).not.toContain('error');
  expect(r.status).toBe(0);
  expect(steps).toEqual([
    'packages',
    'python',
    'venv',
    'unpack sdist',
    'install borg',
    'install pyinstaller',
    'build binary',
    'check binary',
    'package',
    'done',
  ]);
  expect(calls.some((c) => c.startsWith('git '))).toBe(false); // no pyenv needed
  expect(calls).toContain(`pip[3.11] install ${home}/borgbackup-1.4.2.tar.gz`); // the verified sdist itself
  expect(calls).toContain('pip[3.11] install pyinstaller==6.7.0');
  expect(calls).toContain(`pyinstaller ${src.replace('sdist-src', 'borg-build/src')}/scripts/borg.exe.spec`);
  expect(calls.find((c) => c.startsWith('apt-get install'))).toMatch(
    /libacl1-dev liblz4-dev libzstd-dev libxxhash-dev libfuse-dev fuse3/,
  );
  const tgz = path.join(out, 'borg-dir.tgz');
  expect(execFileSync('tar', ['-tzf', tgz], { encoding: 'utf8' }).split('\n')).toContain('borg-dir/borg.exe');
  const info = parseBuildInfo(fs.readFileSync(path.join(out, 'build-info'), 'utf8'));
  expect(info.sha256).toBe(createHash('sha256').update(fs.readFileSync(tgz)).digest('hex'));
  expect(info).toMatchObject({ borg: 'borg.exe 1.4.2', python: '3.11.2', pyinstaller: '6.7.0', fuse: 'llfuse' });
  expect(info.arch).toBe(execFileSync('uname', ['-m'], { encoding: 'utf8' }).trim());
  expect(info.glibc).toMatch(/^\d+\.\d+$/);
  expect(fs.readdirSync(out).sort()).toEqual(['borg-dir.tgz', 'build-info']);
});

test('1.2 on a Debian whose python3 is not 3.9: pyenv builds 3.9 (shared); a sdist without spec uses ours', () => {
  const { r, calls, steps, home, src } = provision('1.2.9', { withSpec: false });
  expect(r.status).toBe(0);
  expect(steps.at(-1)).toBe('done');
  expect(calls).toContain(`git clone -q --depth 1 https://github.com/pyenv/pyenv.git ${home}/borg-build/pyenv`);
  expect(calls).toContain('pyenv install -s 3.9.23 PYTHON_CONFIGURE_OPTS=--enable-shared');
  expect(calls).toContain('pip[3.9] install pyinstaller==4.10');
  expect(r.stderr).toContain("the sdist has no scripts/borg.exe.spec; using borg-provision's spec");
  expect(calls).toContain(`pyinstaller ${src.replace('sdist-src', 'borg-build/src')}/scripts/borg-provision.spec`);
});

test('borg.exe -V printing another version fails the "check binary" step; nothing is packaged', () => {
  const { r, steps, out } = provision('1.4.2', { env: { STUB_BORG_REPORTS: '1.4.1' } });
  expect(r.status).not.toBe(0);
  expect(steps.at(-1)).toBe('check binary');
  expect(r.stderr).toContain('==> borg-provision error: borg.exe -V printed "borg.exe 1.4.1", expected version 1.4.2');
  expect(fs.existsSync(out)).toBe(false);
});

test('a failing apt-get stops the script in "packages" (set -e)', () => {
  const { r, steps, calls, out } = provision('1.4.2', { env: { STUB_APT_EXIT: '100' } });
  expect(r.status).toBe(100);
  expect(steps).toEqual(['packages']);
  expect(calls.filter((c) => c.startsWith('pip'))).toEqual([]);
  expect(fs.existsSync(out)).toBe(false);
});

test('a FUSE extra that does not build: a warning, fuse=none, the build goes on', () => {
  const { r, out } = provision('1.4.2', { env: { STUB_PIP_FAIL: 'llfuse' } });
  expect(r.status).toBe(0);
  expect(r.stderr).toContain('==> borg-provision warning: llfuse did not install; borg mount will not work');
  expect(parseBuildInfo(fs.readFileSync(path.join(out, 'build-info'), 'utf8')).fuse).toBe('none');
});
