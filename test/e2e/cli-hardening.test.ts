// Issue 14, the install side, end to end against the GitHub stand-in on 127.0.0.1 with signed
// archives: a hung smoke test, a script as borg.exe, archive defects, the download cache commands,
// and --quiet / --verbose.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { jsonOf, runCli } from '../helpers/cli';
import { cli, errorLine, install } from '../helpers/install-sandbox';
import { ASSET, useInstallEnv } from '../helpers/install-env';

jest.setTimeout(120000);

const env = useInstallEnv();

const publish = (tag: string, tgz: string) => env.publish(tag, tgz, { withDigest: true });

beforeAll(async () => {
  await publish('1.4.2', env.fx.oneDirTgz(ASSET, '1.4.2'));
  await publish('1.4.4', env.fx.oneDirTgz(ASSET, '1.4.4'));
  await publish('1.6.0', env.fx.oneDirTgz(ASSET, '1.6.0', 'hang'));
  await publish(
    '1.6.1',
    env.fx.oneDirTgz(ASSET, '1.6.1', 'ok', (dir) => {
      fs.writeFileSync(path.join(dir, 'borg.exe'), '#!/bin/sh\necho "borg.exe 1.6.1"\n', { mode: 0o755 });
    }),
  );
  await publish('1.6.2', env.fx.extraMemberTgz(ASSET, '1.6.2', `borg-dir/${'n'.repeat(300)}`));
  await publish('1.6.3', env.fx.extraMemberTgz(ASSET, '1.6.3', `borg-dir/${`${'p'.repeat(200)}/`.repeat(21)}x`));
  await publish('1.6.4', env.fx.extraMemberTgz(ASSET, '1.6.4', 'borg-dir/borg-provision.json/x'));
});

const api = env.api;

/** 'gone', or the state letter of /proc/<pid>/stat (R, S, Z, ...). */
function processState(pid: number): string {
  let stat: string;
  try {
    stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return 'gone';
  }
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
}

/** Nothing left behind by a failed install: no lock, no staging directory. */
function leftovers(): string[] {
  return fs.readdirSync(env.sb.prefix).filter((n) => n === '.lock' || n.startsWith('.staging'));
}

test('install --quiet prints the result only; --verbose each step and each HTTP request', async () => {
  const q = await install(env.sb, ['1.4.2', ...api(), '--quiet', '--keep-download']);
  expect(q.code).toBe(0);
  expect(q.stderr).toBe('');
  expect(q.stdout).toMatch(/^installed borg 1\.4\.2/);
  const v = await install(env.sb, ['1.4.4', ...api(), '--verbose', '--keep-download']);
  expect(v.code).toBe(0);
  expect(v.stderr).toContain(`  http: GET ${env.gh.apiUrl}/repos/borgbackup/borg/releases/tags/1.4.4\n`);
  expect(v.stderr).toContain(`  http: GET ${env.gh.apiUrl}/repos/borgbackup/borg/releases/tags/1.4.4: 200\n`);
  expect(v.stderr).toMatch(
    new RegExp(`  http: GET ${env.gh.downloadUrl('1.4.4', ASSET).replace(/[.?]/g, '\\$&')}: 302 -> `),
  );
  expect(v.stderr).toMatch(/ {2}download: borg-linux-glibc231-x86_64\.tgz: \d+ bytes\n/);
  expect(v.stderr).toMatch(/ {2}activating borg 1\.4\.4 and running borg -V\n/);
  // back to 1.4.2 as the current version for what follows
  expect((await cli(env.sb, ['use', '1.4.2', '--quiet'])).code).toBe(0);
});

test('--verbose shows each retry of the API', async () => {
  env.gh.setFault({ kind: 'status', status: 503, on: 'api', match: '/releases/tags/1.4.2' });
  const r = await runCli(
    ['releases', '1.4.2', '--api-url', env.gh.apiUrl, '--glibc', '2.31', '--arch', 'x86_64', '--verbose'],
    { env: env.sb.env },
  );
  expect(r.code).toBe(0);
  const tries = r.stderr
    .split('\n')
    .filter((l) => l.startsWith(`  http: GET ${env.gh.apiUrl}/repos/borgbackup/borg/releases/tags/1.4.2:`));
  expect(tries).toEqual([expect.stringMatching(/: 503$/), expect.stringMatching(/: 200$/)]);
});

test('a borg.exe that ignores SIGTERM and hangs on -V: SIGKILL of its group, cleaned up, exit 6, 1.4.2 stays current', async () => {
  const pids = path.join(env.sb.root, 'hang-pids');
  const r = await install(env.sb, ['1.6.0', ...api()], {
    env: { BORG_PROVISION_SMOKE_TIMEOUT_MS: '1500', FIXTURE_PIDS: pids },
  });
  expect(r.code).toBe(6);
  expect(errorLine(r)).toMatch(
    /^borg 1\.6\.0 did not run \(`borg -V` timed out after 1\.5 s: it and its process group were killed\); not activated: borg 1\.4\.2 stays current$/,
  );
  expect(leftovers()).toEqual([]);
  expect(fs.existsSync(path.join(env.sb.prefix, 'borg-dir-1.6.0'))).toBe(false);
  const list = jsonOf<{ current: string }>(await cli(env.sb, ['list', '--json']));
  expect(list.current).toBe('1.4.2');
  // Both the program and the child it forked are gone.
  const started = fs.readFileSync(pids, 'utf8').trim().split('\n').map(Number);
  expect(started).toHaveLength(2);
  for (const pid of started) expect(processState(pid)).toMatch(/^(gone|Z)$/); // a zombie until its new parent reaps it
});

test('a signed archive whose borg.exe is a shell script is refused (exit 5), nothing activated', async () => {
  const before = env.sb.snapshot();
  const r = await install(env.sb, ['1.6.1', ...api()]);
  expect(r.code).toBe(5);
  expect(errorLine(r)).toMatch(/^borg\.exe, the build's main executable, is a script \("#!\/bin\/sh"\)/);
  expect(leftovers()).toEqual([]);
  expect(env.sb.snapshot()).toEqual(before);
});

test.each([
  ['1.6.2', /^archive entry "borg-dir\/n{300}" has a name of 300 bytes/],
  ['1.6.3', /^archive entry "borg-dir\/p+\.\.\.p+\/x" would be a path of \d+ bytes under the install directory/],
  ['1.6.4', /^archive entry "borg-dir\/borg-provision\.json\/x" collides with the install manifest/],
])('archive defect in %s: exit 5 naming the entry, no raw errno, nothing changed', async (version, message) => {
  const before = env.sb.snapshot();
  const r = await install(env.sb, [version, ...api()]);
  expect(r.code).toBe(5);
  expect(errorLine(r)).toMatch(message);
  expect(r.stderr).not.toMatch(/ENAMETOOLONG|EISDIR/);
  expect(leftovers()).toEqual([]);
  expect(env.sb.snapshot()).toEqual(before);
});

test('cache list shows the downloads; cache clean --keep-current keeps only the current one', async () => {
  const l = await runCli(['cache', 'list', '--json'], { env: env.sb.env });
  expect(l.code).toBe(0);
  const listing = jsonOf<{ dir: string; releases: { name: string; files: { name: string }[] }[] }>(l);
  expect(listing.dir).toBe(path.join(env.sb.env.XDG_CACHE_HOME!, 'borg-provision'));
  expect(listing.releases.map((x) => x.name)).toEqual(expect.arrayContaining(['1.4.2', '1.4.4', '1.6.0']));
  expect(listing.releases.find((x) => x.name === '1.4.2')!.files.map((f) => f.name)).toEqual(
    expect.arrayContaining([ASSET, `${ASSET}.asc`]),
  );
  const human = await runCli(['cache', 'list'], { env: env.sb.env });
  expect(human.stdout).toMatch(new RegExp(`^  1\\.4\\.2 +\\d`, 'm'));

  const c = await runCli(['cache', 'clean', '--keep-current', '--prefix', env.sb.prefix, '--json'], {
    env: env.sb.env,
  });
  expect(c.code).toBe(0);
  const cleaned = jsonOf<{
    current: string;
    removed: { name: string }[];
    kept: { release: { name: string }; why: string }[];
  }>(c);
  expect(cleaned.current).toBe('1.4.2');
  expect(cleaned.kept).toEqual([{ release: expect.objectContaining({ name: '1.4.2' }), why: 'the current version' }]);
  expect(cleaned.removed.map((x) => x.name)).toContain('1.4.4');
  const cache = path.join(env.sb.env.XDG_CACHE_HOME!, 'borg-provision');
  expect(fs.readdirSync(cache).filter((n) => n !== 'build')).toEqual(['1.4.2']);
  // Installed versions are not touched.
  expect(fs.existsSync(path.join(env.sb.prefix, 'borg-dir-1.4.4', 'borg.exe'))).toBe(true);

  const all = await runCli(['cache', 'clean'], { env: env.sb.env });
  expect(all.code).toBe(0);
  expect(all.stdout).toMatch(/^removed 1 release folder from /);
  expect(fs.readdirSync(cache)).toEqual([]);
  expect((await runCli(['cache', 'list'], { env: env.sb.env })).stdout).toBe(`the download cache ${cache} is empty\n`);
});
