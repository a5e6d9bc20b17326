// The single-file executable (npm run dist) as a TrueNAS admin runs it: no Node.js on the machine
// (the node binaries are hidden under an empty file in a private mount namespace), /tmp a noexec
// tmpfs, and the environment reset as sudo does (env -i). Needs root (unshare -m, mount), as CI has.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { inspectLibc, readElfNeeds } from '../../src/target';
import { compareDotted } from '../../src/util/dotted-version';
import { binRun, jsonOf, repoRoot, runCli, type CliResult } from '../helpers/cli';
import { ASSET, useInstallEnv } from '../helpers/install-env';
import { requireTool } from '../helpers/tools';

jest.setTimeout(180000);

const EXE = path.join(repoRoot, 'dist', 'sea', `borg-provision-linux-${process.arch}`);
const NODES = ['/usr/bin/node', '/bin/node', '/usr/local/bin/node'].filter((p) => fs.existsSync(p));

// Not under /tmp: the runs below mount a noexec tmpfs over it.
const env = useInstallEnv({ base: '/var/tmp' });
let emptyFile: string;
/** A read-only mount in every isolated run. */
let readOnlyDir: string;

beforeAll(() => {
  requireTool('unshare', 'util-linux');
  requireTool('mount', 'mount');
});
beforeAll(async () => {
  if (!fs.existsSync(EXE)) throw new Error(`${EXE} is missing: npm test builds it with npm run dist`);
  if (process.getuid?.() !== 0) throw new Error('this test needs root (unshare -m and mount), as CI runs it');
  for (const tag of ['1.4.1', '1.4.2']) await env.publish(tag, env.fx.oneDirTgz(ASSET, tag), { withDigest: true });
  emptyFile = path.join(env.sb.root, 'no-node');
  fs.writeFileSync(emptyFile, '');
  readOnlyDir = path.join(env.sb.root, 'read-only');
  fs.mkdirSync(readOnlyDir);
});

/**
 * Runs `command` in a private mount namespace: /tmp a fresh noexec tmpfs, every node binary hidden
 * (unless keepNode), and only the variables sudo's env_reset keeps, plus what the test names.
 */
function runIsolated(
  command: string[],
  o: { keepNode?: boolean; env?: Record<string, string> } = {},
): Promise<CliResult> {
  const hide = o.keepNode ? [] : NODES.map((n) => `mount --bind "$EMPTY" ${n} &&`);
  const script = [
    'mount -t tmpfs -o noexec,nosuid,nodev tmpfs /tmp && mount -t tmpfs -o ro tmpfs "$RO" &&',
    ...hide,
    'exec env -i "$@"',
  ].join(' ');
  const kept = {
    HOME: env.sb.home,
    PATH: `${env.sb.binDir}:/usr/bin:/bin`,
    LOGNAME: 'root',
    USER: 'root',
    SHELL: '/bin/sh',
    ...o.env,
  };
  const vars = Object.entries(kept).map(([k, v]) => `${k}=${v}`);
  return new Promise((resolve, reject) => {
    const child = spawn('unshare', ['-m', '--propagation', 'private', 'sh', '-c', script, 'sh', ...vars, ...command], {
      env: { ...process.env, EMPTY: emptyFile, RO: readOnlyDir },
      cwd: env.sb.root,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

const sea = (args: string[], env?: Record<string, string>): Promise<CliResult> => runIsolated([EXE, ...args], { env });
const places = (): string[] => ['--prefix', env.sb.prefix, '--bin-dir', env.sb.binDir];
const ok = (r: CliResult): CliResult => {
  if (r.code !== 0) throw new Error(`exit ${r.code}:\n${r.stdout}\n${r.stderr}`);
  return r;
};

test('SHA256SUMS beside the executable holds its digest', () => {
  const sums = fs.readFileSync(path.join(path.dirname(EXE), 'SHA256SUMS'), 'utf8');
  const digest = createHash('sha256').update(fs.readFileSync(EXE)).digest('hex');
  expect(sums).toBe(`${digest}  ${path.basename(EXE)}\n`);
});

test('its bundle leaves TypeScript out (oclif only wants it for development checkouts)', () => {
  const exe = fs.readFileSync(EXE);
  // A function of TypeScript's compiler, kept by name in any bundle that holds it (keepNames).
  expect(exe.includes('transformECMAScriptModule')).toBe(false);
  expect(exe.includes('typescript is not part of the single executable')).toBe(true);
});

test('its main script is ASCII: the one raw non-ASCII character of the bundle is escaped', () => {
  const exe = fs.readFileSync(EXE);
  // ansis's regular expression for escape sequences, written with a raw U+009B in its source.
  const tail = '][[()#;?]*(?:[0-9]{';
  const at = exe.indexOf(tail);
  expect(at).toBeGreaterThan(0);
  expect(exe.subarray(at - 9, at).toString('latin1')).toBe('/[\x1b\\u009b');
  expect(exe.indexOf(tail, at + 1)).toBe(-1);
});

// The highest version each Debian release behind TrueNAS 22.12-26 defines (glibc, and libstdc++ of
// its GCC: 10, 12, 14). Debian 11's glibc 2.31 defines nothing newer than GLIBC_2.30 on amd64.
const DEBIAN = [
  { release: 'Debian 11 (TrueNAS 22.12)', GLIBC: '2.30', GLIBCXX: '3.4.28', CXXABI: '1.3.12', GCC: '10.0' },
  { release: 'Debian 12 (TrueNAS 23.10-25.10)', GLIBC: '2.36', GLIBCXX: '3.4.30', CXXABI: '1.3.13', GCC: '12.0' },
  { release: 'Debian 13 (TrueNAS 26)', GLIBC: '2.41', GLIBCXX: '3.4.33', CXXABI: '1.3.15', GCC: '14.0' },
] as const;

test('its own ELF needs (.gnu.version_r) are met by every Debian release TrueNAS 22.12 to 26 is built on', async () => {
  const { needs } = await readElfNeeds(EXE);
  const all = needs.flatMap((n) => n.versions.map((v) => /^(GLIBC|GLIBCXX|CXXABI|GCC)_(\d+(?:\.\d+)*)$/.exec(v)));
  expect(all.length).toBeGreaterThan(10);
  for (const m of all) {
    expect(m).not.toBeNull();
    const [, kind, version] = m as RegExpExecArray;
    for (const d of DEBIAN) {
      if (compareDotted(version, d[kind as 'GLIBC']) > 0)
        throw new Error(`${EXE} needs ${kind}_${version}, newer than ${d.release} has`);
    }
  }
  // And against the real libc of this machine: each GLIBC version it needs is one this libc defines.
  const libc = await inspectLibc('/lib/x86_64-linux-gnu/libc.so.6');
  const wanted = needs
    .filter((n) => n.library === 'libc.so.6')
    .flatMap((n) => n.versions.map((v) => v.replace(/^GLIBC_/, '')));
  expect(wanted.filter((v) => !libc.libc.versions.includes(v))).toEqual([]);
  expect(wanted.reduce((a, b) => (compareDotted(a, b) >= 0 ? a : b))).toBe('2.28');
});

test('--version says it is the single-file build; --help works; no node is reachable', async () => {
  const v = ok(await sea(['--version']));
  expect(v.stdout).toMatch(/^borg-provision\/\d+\.\d+\.\d+ linux-x64 node-v20\.\d+\.\d+\nsingle-file executable: /);
  expect(v.stderr).toBe('');
  const h = ok(await sea(['--help']));
  expect(h.stdout).toMatch(/COMMANDS[\s\S]*install[\s\S]*self-install/);
  const node = await runIsolated(['sh', '-c', 'node -e 0']);
  expect(node.code).not.toBe(0);
});

test('a package.json above the executable is not read as its own (no engine warning from it)', async () => {
  const dir = path.join(env.sb.root, 'engines');
  fs.mkdirSync(path.join(dir, 'bin'), { recursive: true });
  fs.copyFileSync(EXE, path.join(dir, 'bin', 'borg-provision'));
  fs.chmodSync(path.join(dir, 'bin', 'borg-provision'), 0o755);
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'x', engines: { node: '>=99' } }));
  const v = ok(await runIsolated([path.join(dir, 'bin', 'borg-provision'), '--version']));
  expect(v.stderr).toBe('');
  fs.rmSync(dir, { recursive: true, force: true });
});

test('NODE_ENV=development does not make it look for TypeScript sources or ts-node on disk', async () => {
  const v = ok(await sea(['--version'], { NODE_ENV: 'development' }));
  expect(v.stderr).toBe('');
});

test('detect --json prints the same document as ./bin/run.js detect --json', async () => {
  const fromSea = jsonOf(ok(await sea(['detect', '--json'])));
  const fromNpm = jsonOf(ok(await runIsolated([process.execPath, binRun, 'detect', '--json'], { keepNode: true })));
  expect(fromSea).toEqual(fromNpm);
  expect(JSON.stringify(fromSea)).toMatch(/"path":"\/tmp","exists":true,"noexec":true/);
});

test('releases against the stand-in API', async () => {
  const r = ok(await sea(['releases', '1.4.2', '--api-url', env.gh.apiUrl, '--json']));
  expect(jsonOf<{ selected: { name: string } }>(r).selected.name).toBe(ASSET);
});

test('install, list, use, uninstall with a gpg-signed build; the wrapper runs borg -V', async () => {
  const net = { BORG_PROVISION_NET: 'maxRetries=1,minBackoffMs=10,maxBackoffMs=20' };
  for (const tag of ['1.4.1', '1.4.2']) {
    const r = ok(await sea(['install', tag, ...env.api(), ...places(), '--json'], net));
    expect(jsonOf(r)).toMatchObject({
      action: 'installed',
      smoke: `borg.exe ${tag}`,
      verification: { status: 'good' },
    });
  }
  const borgV = ok(await runIsolated([path.join(env.sb.binDir, 'borg'), '-V']));
  expect(borgV.stdout).toBe('borg.exe 1.4.2\n');
  const list = jsonOf<{ current: string; versions: { version: string }[] }>(
    ok(await sea(['list', '--prefix', env.sb.prefix, '--json'])),
  );
  expect(list).toMatchObject({ current: '1.4.2', versions: [{ version: '1.4.1' }, { version: '1.4.2' }] });
  ok(await sea(['use', '1.4.1', ...places()]));
  expect(ok(await runIsolated([path.join(env.sb.binDir, 'borg'), '-V'])).stdout).toBe('borg.exe 1.4.1\n');
  ok(await sea(['uninstall', '1.4.2', ...places()]));
  const after = jsonOf<{ versions: { version: string }[] }>(
    ok(await sea(['list', '--prefix', env.sb.prefix, '--json'])),
  );
  expect(after.versions.map((v) => v.version)).toEqual(['1.4.1']);
});

test('self-install copies it into a bin directory; a noexec or read-only one is refused (exit 6)', async () => {
  const bin = path.join(env.sb.root, 'self-bin');
  const r = ok(await sea(['self-install', '--bin-dir', bin, '--json']));
  expect(jsonOf(r)).toMatchObject({ path: path.join(bin, 'borg-provision') });
  expect(fs.statSync(path.join(bin, 'borg-provision')).mode & 0o777).toBe(0o755);
  const copy = ok(await runIsolated([path.join(bin, 'borg-provision'), '--version']));
  expect(copy.stdout).toMatch(/single-file executable/);
  const noexec = await sea(['self-install', '--bin-dir', '/tmp/bin']);
  expect([noexec.code, noexec.stderr]).toEqual([
    6,
    expect.stringMatching(/^borg-provision: error: --bin-dir \/tmp\/bin is on a noexec mount \(mount \/tmp\)/),
  ]);
  const ro = await sea(['self-install', '--bin-dir', path.join(readOnlyDir, 'bin')]);
  expect([ro.code, ro.stderr]).toEqual([
    6,
    expect.stringMatching(/^borg-provision: error: --bin-dir .*read-only\/bin is on a read-only filesystem/),
  ]);
  expect(fs.readdirSync(bin)).toEqual(['borg-provision']);
});

test('self-install from the npm package says what to do instead (exit 2)', async () => {
  const r = await runCli(['self-install', '--bin-dir', path.join(env.sb.root, 'npm-bin')], {
    env: { HOME: env.sb.home },
  });
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(
    /^borg-provision: error: self-install copies the single-file executable, .*\nborg-provision: hint: /,
  );
  expect(fs.existsSync(path.join(env.sb.root, 'npm-bin'))).toBe(false);
});

test('shell completion is built into the executable: autocomplete bash writes completions naming the commands', async () => {
  const r = ok(await sea(['autocomplete', 'bash']));
  expect(r.stdout).toMatch(/borg-provision autocomplete script bash/);
  const fns = path.join(
    env.sb.home,
    '.cache',
    'borg-provision',
    'autocomplete',
    'functions',
    'bash',
    'borg-provision.bash',
  );
  const text = fs.readFileSync(fns, 'utf8');
  for (const id of ['install --json', 'detect --json', 'self-install', 'schedule:add']) expect(text).toContain(id);
  expect(ok(await sea(['autocomplete', 'script', 'bash'])).stdout).toContain('BORG_PROVISION_AC_BASH_SETUP_PATH');
});

test('backups from the executable: init, run, status, and the cron line it schedules runs with no node', async () => {
  // Its own HOME and PATH: the install test above left a stand-in borg in sb.binDir.
  const home = path.join(env.sb.root, 'backup-home');
  const schedRoot = path.join(env.sb.root, 'schedule-root');
  fs.mkdirSync(path.join(schedRoot, 'etc', 'cron.d'), { recursive: true });
  const src = path.join(env.sb.root, 'backup source');
  fs.mkdirSync(src, { recursive: true });
  fs.writeFileSync(path.join(src, 'a.txt'), 'from the single executable\n');
  const repo = path.join(env.sb.root, 'backup-repo');
  const jobEnv = { HOME: home, PATH: '/usr/bin:/bin', BORG_PROVISION_SCHEDULE_ROOT: schedRoot };
  ok(await sea(['backup', 'init', 'nas', '--repo', repo, '--source', src], jobEnv));
  const run = jsonOf<{ jobs: { result: string }[] }>(ok(await sea(['backup', 'run', 'nas', '--json'], jobEnv)));
  expect(run.jobs.map((j) => j.result)).toEqual(['success']);
  ok(await sea(['backup', 'status', '--max-age', '1h'], jobEnv));
  ok(await sea(['schedule', 'add', 'nas', '--daily', '02:30', '--via', 'cron'], jobEnv));
  const cron = fs.readFileSync(path.join(schedRoot, 'etc', 'cron.d', 'borg-provision-nas'), 'utf8');
  const line = /^30 2 \* \* \* root (.*)$/m.exec(cron)?.[1] ?? '';
  // The executable alone, by its absolute path: no node, no script.
  expect(line.startsWith(`${EXE} backup run nas --config-dir `)).toBe(true);
  ok(await runIsolated(['sh', '-c', line], { env: { HOME: home, PATH: '/usr/bin:/bin' } }));
  const passcommand = `cat '${path.join(home, '.config', 'borg-provision', 'backups', 'nas', 'passphrase')}'`;
  const archives = ok(
    await runIsolated(['borg', 'list', '--short', repo], { env: { ...jobEnv, BORG_PASSCOMMAND: passcommand } }),
  );
  expect(archives.stdout.trim().split('\n')).toHaveLength(2);
});
