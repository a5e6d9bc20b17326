// `borg-provision build --vagrant` end to end against the stand-in vagrant (there is no VM here):
// the real CLI as a subprocess, a real signed sdist (GnuPG test key), a real borg-dir with an ELF
// borg.exe packed by GNU tar. Every failure asserts the exit code, the one-line message, that
// `vagrant destroy -f` ran, and that nothing (not even a temp file) is left in --output.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readBuildManifest } from '../../src/install';
import { BorgFixtures } from '../helpers/borg-fixture';
import { buildElf, releaseString } from '../helpers/elf-writer';
import { runCli, jsonOf, type CliOptions, type CliResult } from '../helpers/cli';
import { installFakeVagrant, type FakeVagrant } from '../helpers/fake-vagrant';
import { genSigningKey, makeGpgHome, signDetached, writeKeyFile, type GpgHome } from '../helpers/gpg';
import { requireTool } from '../helpers/tools';

jest.setTimeout(60000);

const VERSION = '1.4.2';
let tmp: string;
let fixtures: BorgFixtures;
let gpg: GpgHome;
let keyFile: string;
let fingerprint: string;
let sdist: string;
let borgTemplate: string;

beforeAll(() => requireTool('tar', 'tar'));
beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'build-cli-'));
  fixtures = new BorgFixtures(path.join(tmp, 'fixtures'));
  borgTemplate = path.join(tmp, 'borg-template');
  fixtures.borgDir(borgTemplate, VERSION);
  // A real sdist-shaped tarball, signed by a throw-away key passed with --signing-key.
  const src = path.join(tmp, 'sdist-src', `borgbackup-${VERSION}`);
  fs.mkdirSync(path.join(src, 'scripts'), { recursive: true });
  fs.writeFileSync(path.join(src, 'scripts', 'borg.exe.spec'), '# spec\n');
  fs.mkdirSync(path.join(tmp, 'sdist'));
  sdist = path.join(tmp, 'sdist', `borgbackup-${VERSION}.tar.gz`);
  execFileSync('tar', ['-C', path.dirname(src), '-czf', sdist, path.basename(src)]);
  gpg = await makeGpgHome();
  const key = await genSigningKey(gpg, { name: 'Build Test' });
  await signDetached(gpg, key.signingSubkey!, sdist);
  keyFile = await writeKeyFile(gpg, key.primary, path.join(tmp, 'key.asc'), { armor: true });
  fingerprint = key.primary;
});

afterAll(async () => {
  await gpg?.cleanup();
  fixtures?.cleanup();
  fs.rmSync(tmp, { recursive: true, force: true });
});

interface Run {
  r: CliResult;
  fake: FakeVagrant;
  out: string;
  work: string;
}

let n = 0;
async function build(
  o: {
    version?: string | null;
    fail?: string;
    args?: string[];
    env?: Record<string, string>;
    tools?: Array<'vagrant' | 'virsh'>;
    onSpawn?: CliOptions['onSpawn'];
  } = {},
): Promise<Run> {
  const dir = path.join(tmp, `run-${++n}`);
  fs.mkdirSync(dir);
  const fake = installFakeVagrant(dir, borgTemplate, o.tools);
  const out = path.join(dir, 'out');
  const work = path.join(dir, 'work');
  const extra = o.args ?? [];
  // Defaults a test can replace by passing the flag itself.
  const defaults: Array<[string, string]> = [
    ['--debian', 'bookworm'],
    ['--from-sdist', sdist],
    ['--output', out],
  ];
  const args = [
    'build',
    '--vagrant',
    ...(o.version === null ? [] : [o.version ?? VERSION]),
    '--work-dir',
    work,
    '--signing-key',
    keyFile,
    '--fingerprint',
    fingerprint,
    ...defaults.filter(([flag]) => !extra.includes(flag) && !(flag === '--debian' && extra.includes('--libc'))).flat(),
    ...extra,
  ];
  const env = {
    ...fake.env({ FAKE_VAGRANT_FAIL: o.fail ?? '', ...o.env }),
    HOME: dir,
    XDG_CACHE_HOME: path.join(dir, 'cache'),
    XDG_CONFIG_HOME: path.join(dir, 'config'),
  };
  const r = await runCli(args, { env, onSpawn: o.onSpawn, timeoutMs: 45000 });
  return { r, fake, out, work };
}

function errorLine(r: CliResult): string {
  const lines = r.stderr.split('\n').filter((l) => l.startsWith('borg-provision: error: '));
  expect(lines).toHaveLength(1);
  return lines[0]!;
}

/** Nothing in --output: no artifact, no manifest, no temp file. */
function expectNothingIn(out: string): void {
  expect(fs.existsSync(out) ? fs.readdirSync(out) : []).toEqual([]);
}

describe('a successful build', () => {
  let run: Run;
  beforeAll(async () => {
    run = await build({ args: ['--json'] });
  });

  test('exits 0, in order: prerequisites, up, build-info, artifact, destroy', () => {
    expect(run.r.code).toBe(0);
    expect(run.fake.commands()).toEqual(['--version', 'plugin', 'up', 'ssh', 'ssh', 'destroy']);
    const up = run.fake.calls().find((c) => c.args[0] === 'up')!;
    expect(up.args).toEqual(['up', '--provider', 'libvirt', '--provision', '--no-color']);
    expect(up.cwd).toBe(run.work);
    expect(run.fake.calls().some((c) => c.tool === 'virsh' && c.args.join(' ') === '-c qemu:///system version')).toBe(
      true,
    );
  });

  test('writes borg-dir-<v>.tgz and a manifest that readBuildManifest accepts', async () => {
    expect(fs.readdirSync(run.out).sort()).toEqual([`borg-dir-${VERSION}.manifest.json`, `borg-dir-${VERSION}.tgz`]);
    const m = await readBuildManifest(path.join(run.out, `borg-dir-${VERSION}.manifest.json`));
    const bytes = fs.readFileSync(path.join(run.out, `borg-dir-${VERSION}.tgz`));
    expect(m).toMatchObject({
      kind: 'borg-provision-build',
      borgVersion: VERSION,
      artifact: `borg-dir-${VERSION}.tgz`,
      debian: 'bookworm',
      arch: 'x86_64',
      glibc: '2.36',
      python: '3.11.2',
      pyinstaller: '6.7.0',
    });
    expect(m.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
    expect(new Date(m.builtAt).getTime()).toBeGreaterThan(Date.now() - 120000);
    const listing = execFileSync('tar', ['-tzf', path.join(run.out, m.artifact)], { encoding: 'utf8' }).split('\n');
    expect(listing).toContain('borg-dir/borg.exe');
    expect(listing.filter(Boolean).every((e) => e.startsWith('borg-dir/'))).toBe(true);
  });

  test('--json reports the manifest, the verified sdist and the destroyed VM', () => {
    const j = jsonOf<{
      manifest: { sha256: string };
      sdist: { signature: string; signedBy: string };
      vm: string;
      log: string;
    }>(run.r);
    expect(j.vm).toBe('destroyed');
    expect(j.sdist).toMatchObject({ signature: 'good', signedBy: fingerprint });
    expect(j.manifest.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(fs.readFileSync(j.log, 'utf8')).toContain('borg-provision step: build binary');
  });

  test('install --from accepts the artifact as built locally', async () => {
    const home = path.join(tmp, 'install-home');
    fs.mkdirSync(home);
    const env = {
      HOME: home,
      XDG_DATA_HOME: path.join(home, 'data'),
      XDG_CACHE_HOME: path.join(home, 'cache'),
      XDG_CONFIG_HOME: path.join(home, 'config'),
    };
    const r = await runCli(
      [
        'install',
        '--json',
        '--from',
        path.join(run.out, `borg-dir-${VERSION}.tgz`),
        '--prefix',
        path.join(home, 'prefix'),
        '--bin-dir',
        path.join(home, 'bin'),
      ],
      { env },
    );
    expect(r.stderr).not.toContain('error');
    expect(r.code).toBe(0);
    expect(JSON.stringify(jsonOf(r))).toContain('"built locally"');
    expect(execFileSync(path.join(home, 'bin', 'borg'), ['-V'], { encoding: 'utf8' }).trim()).toMatch(
      new RegExp(`${VERSION.replace(/\./g, '\\.')}$`),
    );
  });

  test('the verified sdist went into the work dir for upload; the VM got it', () => {
    expect(fs.readFileSync(path.join(run.work, 'input', `borgbackup-${VERSION}.tar.gz`))).toEqual(
      fs.readFileSync(sdist),
    );
    expect(fs.readFileSync(path.join(run.work, 'Vagrantfile'), 'utf8')).toContain(
      "config.vm.box = 'debian/bookworm64'",
    );
  });
});

test('human output: one line per build step, the verdict and how to install', async () => {
  const { r } = await build({ args: ['--keep-vm'] });
  expect(r.code).toBe(0);
  expect(r.stderr.match(/^ {2}build step: .+$/gm)).toEqual([
    '  build step: packages',
    '  build step: python',
    '  build step: venv',
    '  build step: unpack sdist',
    '  build step: install borg',
    '  build step: install pyinstaller',
    '  build step: build binary',
    '  build step: check binary',
    '  build step: package',
    '  build step: done',
  ]);
  expect(r.stdout.split('\n')[0]).toBe(
    `built borg ${VERSION} on Debian bookworm (glibc 2.36, Python 3.11.2, PyInstaller 6.7.0)`,
  );
  expect(r.stdout).toContain(`install it with: borg-provision install --from `);
});

test("--with-tests runs borg's test suite step in the VM", async () => {
  const { r, work } = await build({ args: ['--with-tests'] });
  expect(r.code).toBe(0);
  expect(fs.readFileSync(path.join(work, 'Vagrantfile'), 'utf8')).toContain("'WITH_TESTS' => '1'");
  expect(r.stderr).toContain('  build step: run tests\n');
});

test('a failed destroy after a good build: the build stands, a warning says how to clean up', async () => {
  const { r, out, work } = await build({ fail: 'destroy' });
  expect(r.code).toBe(0);
  expect(r.stderr).toContain(
    `borg-provision: warning: vagrant destroy -f failed: remove the VM yourself (cd ${work} && vagrant destroy -f)`,
  );
  expect(r.stdout).toContain('VM: destroy-failed');
  expect(fs.readdirSync(out)).toHaveLength(2);
});

test('--keep-vm leaves the VM: no destroy', async () => {
  const { r, fake } = await build({ args: ['--keep-vm'] });
  expect(r.code).toBe(0);
  expect(fake.commands()).not.toContain('destroy');
  expect(r.stdout).toContain('VM: kept');
});

describe('failures: exit code, one line, VM destroyed, nothing in --output', () => {
  test('vagrant up fails before provisioning (exit 6)', async () => {
    const { r, fake, out, work } = await build({ fail: 'up' });
    expect(r.code).toBe(6);
    expect(errorLine(r)).toBe(
      `borg-provision: error: vagrant up failed before the build started (exit 1): The box 'debian/bookworm64' could not be found or could not be accessed in the remote catalog.; see the log ${work}/build.log`,
    );
    expect(fake.commands()).toContain('destroy');
    expectNothingIn(out);
  });

  test('a build step fails in the VM (exit 6, names the step and the log)', async () => {
    const { r, fake, out, work } = await build({ fail: 'step:install pyinstaller' });
    expect(r.code).toBe(6);
    expect(errorLine(r)).toBe(
      `borg-provision: error: build step "install pyinstaller" failed in the VM: install pyinstaller went wrong; see the log ${work}/build.log`,
    );
    expect(fake.commands().at(-1)).toBe('destroy');
    expect(fake.commands()).not.toContain('ssh');
    expectNothingIn(out);
  });

  test('the VM has no artifact (exit 6)', async () => {
    const { r, fake, out } = await build({ fail: 'missing-artifact' });
    expect(r.code).toBe(6);
    expect(errorLine(r)).toMatch(
      /cannot copy \/home\/vagrant\/borg-build\/out\/borg-dir\.tgz out of the VM \(vagrant ssh exited 1\); log: /,
    );
    expect(fake.commands().at(-1)).toBe('destroy');
    expectNothingIn(out);
  });

  test('the copied artifact does not match the SHA-256 computed in the VM (exit 5)', async () => {
    const { r, fake, out } = await build({ fail: 'corrupt' });
    expect(r.code).toBe(5);
    expect(errorLine(r)).toMatch(
      /the artifact copied out of the VM has SHA-256 [0-9a-f]{64}, the VM computed [0-9a-f]{64}: the copy is corrupt/,
    );
    expect(fake.commands().at(-1)).toBe('destroy');
    expectNothingIn(out);
  });

  test('the build needs a newer glibc than the target (bullseye, 2.31): ELF check refuses it (exit 5)', async () => {
    // The fixture borg.exe is compiled on this machine and needs GLIBC_2.34 (__libc_start_main).
    const { r, fake, out } = await build({ args: ['--debian', 'bullseye'], env: { FAKE_VAGRANT_GLIBC: '2.31' } });
    expect(r.code).toBe(5);
    expect(errorLine(r)).toMatch(/borg\.exe needs GLIBC_2\.3[4-9] \(from libc\.so\.6\) but the target has glibc 2\.31/);
    expect(fake.commands().at(-1)).toBe('destroy');
    expectNothingIn(out);
  });

  test('the VM turns out to have a newer glibc than the target (a --box of another release): exit 5', async () => {
    const { r, fake, out } = await build({ args: ['--box', 'someone/debian13'], env: { FAKE_VAGRANT_GLIBC: '2.41' } });
    expect(r.code).toBe(5);
    expect(errorLine(r)).toBe(
      "borg-provision: error: the build VM (someone/debian13) has glibc 2.41, newer than the target's 2.36: its build would not run there; use a box of an older Debian release",
    );
    expect(fake.commands()).toEqual(['--version', 'plugin', 'up', 'ssh', 'destroy']);
    expectNothingIn(out);
  });

  test('SIGINT mid-build: vagrant is stopped, the VM destroyed, exit 130', async () => {
    let child: import('node:child_process').ChildProcess | undefined;
    const dir = path.join(tmp, `run-${n + 1}`, 'work', 'build.log');
    const poll = setInterval(() => {
      if (child && fs.existsSync(dir) && fs.readFileSync(dir, 'utf8').includes('step: install borg')) {
        clearInterval(poll);
        child.kill('SIGINT');
      }
    }, 100);
    const { r, fake, out } = await build({ fail: 'hang', onSpawn: (c) => (child = c) });
    clearInterval(poll);
    expect(r.code).toBe(130);
    expect(errorLine(r)).toBe('borg-provision: error: interrupted; nothing was left half-written');
    expect(fake.commands()).toEqual(['--version', 'plugin', 'up', 'destroy']);
    // vagrant itself was interrupted exactly once (its graceful stop), then destroyed.
    expect(
      fake
        .calls()
        .filter((c) => c.args[0] === '<SIGINT>')
        .map((c) => c.args[1]),
    ).toEqual(['1']);
    expectNothingIn(out);
  });

  test('a tampered sdist is refused before any VM exists (exit 5)', async () => {
    const bad = path.join(tmp, 'tampered', `borgbackup-${VERSION}.tar.gz`);
    fs.mkdirSync(path.dirname(bad), { recursive: true });
    fs.writeFileSync(bad, Buffer.concat([fs.readFileSync(sdist), Buffer.from('x')]));
    fs.copyFileSync(`${sdist}.asc`, `${bad}.asc`);
    const { r, fake, out, work } = await build({ args: ['--from-sdist', bad] });
    expect(r.code).toBe(5);
    expect(errorLine(r)).toMatch(/signature/i);
    expect(fake.commands()).toEqual(['--version', 'plugin']);
    expect(fs.readdirSync(path.join(work, 'input'))).toEqual([]);
    expectNothingIn(out);
  });
});

describe('prerequisites are named before anything starts (exit 6)', () => {
  test('no vagrant on PATH', async () => {
    const { r, fake, out } = await build({ tools: ['virsh'] });
    expect(r.code).toBe(6);
    expect(errorLine(r)).toBe(
      'borg-provision: error: cannot build with Vagrant: vagrant is not on PATH (Debian/Ubuntu: sudo apt install vagrant)',
    );
    expect(fake.commands()).toEqual([]);
    expectNothingIn(out);
  });

  test('no vagrant-libvirt plugin, and libvirt unreachable: both named', async () => {
    const { r, fake } = await build({ fail: 'no-plugin', env: { FAKE_VIRSH_FAIL: '1' } });
    expect(r.code).toBe(6);
    const line = errorLine(r);
    expect(line).toContain('the vagrant-libvirt plugin is missing (Debian/Ubuntu: sudo apt install vagrant-libvirt');
    expect(line).toContain('libvirt at qemu:///system is not reachable (error: failed to connect to the hypervisor)');
    expect(line).toContain('sudo adduser $USER libvirt');
    expect(fake.commands()).not.toContain('up');
  });

  test('virtualbox provider without VirtualBox installed', async () => {
    const { r } = await build({ args: ['--provider', 'virtualbox'] });
    expect(r.code).toBe(6);
    expect(errorLine(r)).toContain('VirtualBox is not installed (VBoxManage is not on PATH)');
  });
});

describe('bad usage', () => {
  test('--dry-run writes the Vagrantfile and scripts, prints the commands, starts nothing', async () => {
    const { r, fake, out, work } = await build({ args: ['--dry-run'] });
    expect(r.code).toBe(0);
    expect(fake.calls()).toEqual([]);
    expect(fs.readdirSync(work).sort()).toEqual(['Vagrantfile', 'borg-dir.spec', 'input', 'provision.sh']);
    expect(r.stdout).toContain('vagrant up --provider libvirt --provision --no-color');
    expect(r.stdout).toContain('vagrant destroy -f');
    expectNothingIn(out);
  });

  test.each([
    [['--arch', 'arm64', '--provider', 'virtualbox', '--box', 'a/b'], 3, /arm64 build needs the libvirt provider/],
    [['--arch', 'arm64'], 3, /needs an arm64 libvirt box \(--box NAME\)/],
    [['--memory', '100'], 2, /--memory must be a whole number from 1024/],
    [['--debian', 'buster'], 2, /Expected --debian=buster to be one of/],
  ])('%j exits %i', async (args, code, message) => {
    const { r, fake, out } = await build({ args });
    expect(r.code).toBe(code);
    expect(errorLine(r)).toMatch(message);
    expect(fake.commands()).toEqual([]);
    expectNothingIn(out);
  });

  test('--from-sdist without VERSION takes the version from the file name', async () => {
    const { r, work } = await build({ version: null, args: ['--dry-run'] });
    expect(r.code).toBe(0);
    expect(fs.readFileSync(path.join(work, 'Vagrantfile'), 'utf8')).toContain(`'BORG_VERSION' => '${VERSION}'`);
  });

  test('--from-sdist without VERSION and with another file name (exit 2)', async () => {
    const odd = path.join(tmp, 'odd', 'borg-source.tgz');
    fs.mkdirSync(path.dirname(odd), { recursive: true });
    fs.copyFileSync(sdist, odd);
    const { r, fake, out } = await build({ version: null, args: ['--from-sdist', odd] });
    expect(r.code).toBe(2);
    expect(errorLine(r)).toBe(
      `borg-provision: error: give the borg version of ${odd}, e.g. build --vagrant 1.4.2 --from-sdist FILE`,
    );
    expect(fake.commands()).toEqual([]);
    expectNothingIn(out);
  });

  test('an --output that is not a directory: exit 6 before any VM', async () => {
    const file = path.join(tmp, 'not-a-dir');
    fs.writeFileSync(file, 'x');
    const { r, fake } = await build({ args: ['--output', file] });
    expect(r.code).toBe(6);
    expect(errorLine(r)).toMatch(/^borg-provision: error: cannot write to the output directory .*not-a-dir: /);
    expect(fake.commands()).toEqual(['--version', 'plugin']);
    expect(fs.readFileSync(file, 'utf8')).toBe('x');
  });

  test('--from-sdist must be the sdist of VERSION (exit 2)', async () => {
    const other = path.join(tmp, 'other', 'borgbackup-1.4.1.tar.gz');
    fs.mkdirSync(path.dirname(other), { recursive: true });
    fs.copyFileSync(sdist, other);
    const { r, out } = await build({ args: ['--from-sdist', other] });
    expect(r.code).toBe(2);
    expect(errorLine(r)).toContain(`is not borgbackup-${VERSION}.tar.gz`);
    expectNothingIn(out);
  });
});

describe('the Debian release comes from the target libc', () => {
  /** A libc-shaped ELF (x86-64) with glibc's embedded release string, like Debian's. */
  function libcFile(name: string, release: string, build: string): string {
    const file = path.join(tmp, 'libcs', name, 'libc.so.6');
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const versions = ['libc.so.6', 'GLIBC_2.2.5', `GLIBC_${release}`];
    fs.writeFileSync(file, buildElf({ machine: 62, verdefs: versions, rodata: releaseString(release, build) }).buf);
    return file;
  }

  test.each([
    ['2.31', 'Debian GLIBC 2.31-13+deb11u11', 'debian/bullseye64'], // TrueNAS 22.12
    ['2.36', 'Debian GLIBC 2.36-9+deb12u10', 'debian/bookworm64'], // TrueNAS 25.04
    ['2.41', 'Debian GLIBC 2.41-12', 'debian/trixie64'], // TrueNAS 26.04
  ])('--libc with glibc %s (%s) builds on %s', async (release, build_, box) => {
    const libc = libcFile(release, release, build_);
    const { r, work } = await build({ args: ['--libc', libc, '--dry-run'] });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(fs.readFileSync(path.join(work, 'Vagrantfile'), 'utf8')).toContain(`config.vm.box = '${box}'`);
  });

  test('--debian newer than the target libc is refused at once (exit 3)', async () => {
    const libc = libcFile('old', '2.31', 'Debian GLIBC 2.31-13+deb11u11');
    const { r, fake, out } = await build({ args: ['--libc', libc, '--debian', 'bookworm'] });
    expect(r.code).toBe(3);
    expect(errorLine(r)).toBe(
      'borg-provision: error: a bookworm build needs glibc 2.36 but the target has 2.31: use --debian bullseye',
    );
    expect(fake.commands()).toEqual([]);
    expectNothingIn(out);
  });
});
