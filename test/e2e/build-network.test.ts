// `build --vagrant` where it talks to GitHub (the stand-in on 127.0.0.1): the newest stable version
// for --dry-run without VERSION, and the download progress bar of the sdist (on a pty only).
// vagrant is the stand-in of test/helpers/fake-vagrant.ts; `vagrant up` fails on purpose, since
// the sdist is fetched before it and the VM is not what these tests are about.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { binRun, repoRoot, runCli, type CliResult } from '../helpers/cli';
import { installFakeVagrant } from '../helpers/fake-vagrant';
import { startGithubServer, type GithubServer } from '../helpers/github-server';
import { libcElf, put } from '../helpers/root-tree';
import { genSigningKey, makeGpgHome, signDetached, writeKeyFile, type GpgHome } from '../helpers/gpg';
import { requireTool } from '../helpers/tools';

jest.setTimeout(60000);

let tmp: string;
let gh: GithubServer;
let gpg: GpgHome;
let keyFile: string;
let fingerprint: string;
let n = 0;

beforeAll(() => requireTool('tar', 'tar'));
beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bp-build-net-'));
  const src = path.join(tmp, 'src', 'borgbackup-1.4.2');
  fs.mkdirSync(path.join(src, 'scripts'), { recursive: true });
  fs.writeFileSync(path.join(src, 'scripts', 'borg.exe.spec'), '# spec\n');
  fs.writeFileSync(path.join(src, 'padding'), Buffer.alloc(400_000, 1)); // big enough to draw a bar
  const sdist = path.join(tmp, 'borgbackup-1.4.2.tar.gz');
  const { execFileSync } = await import('node:child_process');
  execFileSync('tar', ['-C', path.dirname(src), '-cf', sdist, path.basename(src)]);
  gpg = await makeGpgHome();
  const key = await genSigningKey(gpg, { name: 'Build Net Test' });
  await signDetached(gpg, key.signingSubkey!, sdist);
  keyFile = await writeKeyFile(gpg, key.primary, path.join(tmp, 'key.asc'), { armor: true });
  fingerprint = key.primary;
  gh = await startGithubServer();
  gh.addRelease('1.4.1', [], { publishedAt: '2025-01-01T00:00:00Z' });
  gh.addRelease(
    '1.4.2',
    [
      { name: 'borgbackup-1.4.2.tar.gz', body: fs.readFileSync(sdist) },
      { name: 'borgbackup-1.4.2.tar.gz.asc', body: fs.readFileSync(`${sdist}.asc`) },
    ],
    { publishedAt: '2025-06-01T00:00:00Z' },
  );
  gh.addRelease('2.0.0b22', [], { prerelease: true, publishedAt: '2025-09-01T00:00:00Z' });
});

afterAll(async () => {
  await gh?.close();
  await gpg?.cleanup();
  fs.rmSync(tmp, { recursive: true, force: true });
});

function runDir(): { dir: string; work: string; out: string; env: NodeJS.ProcessEnv } {
  const dir = path.join(tmp, `run-${++n}`);
  fs.mkdirSync(dir);
  const fake = installFakeVagrant(dir, dir);
  const env = {
    ...fake.env({ FAKE_VAGRANT_FAIL: 'up' }),
    HOME: dir,
    XDG_CACHE_HOME: path.join(dir, 'cache'),
    XDG_CONFIG_HOME: path.join(dir, 'config'),
    XDG_DATA_HOME: path.join(dir, 'data'),
    GITHUB_TOKEN: '',
    BORG_PROVISION_NET: 'minBackoffMs=5,maxBackoffMs=20,maxRetries=1,connectTimeoutMs=2000',
  };
  return { dir, work: path.join(dir, 'work'), out: path.join(dir, 'out'), env };
}

const buildArgs = (work: string, out: string, apiUrl: string, ...extra: string[]): string[] => [
  'build',
  '--vagrant',
  '--debian',
  'bookworm',
  '--work-dir',
  work,
  '--output',
  out,
  '--api-url',
  apiUrl,
  '--signing-key',
  keyFile,
  '--fingerprint',
  fingerprint,
  ...extra,
];

function oneErrorLine(r: CliResult): string {
  const lines = r.stderr.split('\n').filter((l) => l.startsWith('borg-provision: error: '));
  expect(lines).toHaveLength(1);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  return lines[0];
}

describe('build --dry-run without VERSION', () => {
  test('plans the newest stable release, as a real build would (pre-releases skipped)', async () => {
    const { work, out, env } = runDir();
    const r = await runCli(buildArgs(work, out, gh.apiUrl, '--dry-run'), { env });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(fs.readFileSync(path.join(work, 'Vagrantfile'), 'utf8')).toContain(`'BORG_VERSION' => '1.4.2'`);
    expect(r.stdout).toMatch(/^dry run: wrote .*Vagrantfile \(borg 1\.4\.2, /);
  });

  test('exits 4 with the usual one line when the API cannot be reached, writing nothing', async () => {
    const { work, out, env } = runDir();
    const r = await runCli(buildArgs(work, out, 'http://127.0.0.1:9', '--dry-run'), { env });
    expect(r.code).toBe(4);
    expect(oneErrorLine(r)).toMatch(
      /^borg-provision: error: GitHub API request http:\/\/127\.0\.0\.1:9\/.* failed: connection refused; check the network or --api-url and retry$/,
    );
    expect(fs.existsSync(work)).toBe(false);
    expect(fs.existsSync(out)).toBe(false);
  });
});

describe('the sdist download shows progress', () => {
  test('a bar on a terminal (script(1) gives the CLI a pty)', async () => {
    const { work, out, env } = runDir();
    const cmd = [process.execPath, binRun, ...buildArgs(work, out, gh.apiUrl, '1.4.2')].map((a) => `'${a}'`).join(' ');
    const text = await new Promise<string>((resolve, reject) => {
      const child = spawn('/usr/bin/script', ['-qec', cmd, '/dev/null'], {
        cwd: repoRoot,
        env: { ...process.env, ...env, NODE_ENV: 'production', NODE_OPTIONS: '', DEBUG: '' },
      });
      let s = '';
      child.stdout.on('data', (d: Buffer) => (s += d.toString()));
      child.on('error', reject);
      child.on('close', () => resolve(s));
    });
    expect(text).toMatch(/\[#+\] 100% {2}\S+ KB\/\S+ KB {2}\S+ \S+\/s {2}ETA 0:00/);
    expect(text).toMatch(/borg-provision: error: .*vagrant up/); // then the (stand-in) VM failed
  });

  test('nothing on a pipe, and nothing with --json', async () => {
    for (const extra of [[], ['--json']]) {
      const { work, out, env } = runDir();
      const r = await runCli(buildArgs(work, out, gh.apiUrl, '1.4.2', ...extra), { env });
      expect(r.code).toBe(6);
      expect(r.stderr).not.toMatch(/\[#|ETA|\r/);
    }
  });
});

test('build --arch takes the shared names: an alias is normalized, an unknown arch exits 2', async () => {
  const { work, out, env } = runDir();
  const alias = await runCli(buildArgs(work, out, gh.apiUrl, '1.4.2', '--dry-run', '--arch', 'aarch64'), { env });
  expect(alias.code).toBe(3); // normalized to arm64, which needs an arm64 --box
  expect(oneErrorLine(alias)).toMatch(/needs an arm64 libvirt box \(--box NAME\)/);
  const bad = await runCli(buildArgs(work, out, gh.apiUrl, '1.4.2', '--dry-run', '--arch', 'sparc'), { env });
  expect(bad.code).toBe(2);
  expect(oneErrorLine(bad)).toMatch(/^borg-provision: error: --arch sparc is not an arch we know: use one of x86_64, /);
  expect(fs.existsSync(work)).toBe(false);
});

test('build --arch other than the arch of the --libc read is refused at once (exit 3)', async () => {
  const { dir, work, out, env } = runDir();
  const libc = put(dir, 'nas/libc.so.6', libcElf('2.36', 'Debian GLIBC 2.36-9+deb12u10'));
  const args = [
    'build',
    '--vagrant',
    '1.4.2',
    '--dry-run',
    '--libc',
    libc,
    '--arch',
    'aarch64',
    '--box',
    'me/arm',
    '--work-dir',
    work,
    '--output',
    out,
  ];
  const r = await runCli(args, { env });
  expect(r.code).toBe(3);
  expect(oneErrorLine(r)).toBe(
    'borg-provision: error: an arm64 build cannot run on this target: its libc is built for x86_64; drop --arch, or point --libc/--root at an arm64 system',
  );
  expect(fs.existsSync(work)).toBe(false);
});
