// The sdist from a release page: VERSION defaults to the newest stable release, the sdist and its
// .asc are downloaded from the GitHub stand-in on 127.0.0.1 and verified before any VM starts.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readBuildManifest } from '../../src/install';
import { BorgFixtures } from '../helpers/borg-fixture';
import { runCli } from '../helpers/cli';
import { installFakeVagrant } from '../helpers/fake-vagrant';
import { startGithubServer, type GithubServer } from '../helpers/github-server';
import { genSigningKey, makeGpgHome, signDetached, writeKeyFile, type GpgHome } from '../helpers/gpg';
import { requireTool } from '../helpers/tools';

jest.setTimeout(60000);

let tmp: string;
let gh: GithubServer;
let gpg: GpgHome;
let fixtures: BorgFixtures;
let keyArgs: string[];

/** A signed sdist for `version`, as release assets. */
async function sdistAssets(
  version: string,
  signingSubkey: string,
  withAsc = true,
): Promise<Array<{ name: string; body: Buffer }>> {
  const dir = path.join(tmp, 'sdists', version);
  fs.mkdirSync(path.join(dir, `borgbackup-${version}`), { recursive: true });
  fs.writeFileSync(path.join(dir, `borgbackup-${version}`, 'setup.py'), '# borg\n');
  const file = path.join(dir, `borgbackup-${version}.tar.gz`);
  execFileSync('tar', ['-C', dir, '-czf', file, `borgbackup-${version}`]);
  await signDetached(gpg, signingSubkey, file);
  const assets = [{ name: path.basename(file), body: fs.readFileSync(file) }];
  if (withAsc) assets.push({ name: `${path.basename(file)}.asc`, body: fs.readFileSync(`${file}.asc`) });
  return assets;
}

beforeAll(() => requireTool('tar', 'tar'));
beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'build-release-'));
  fixtures = new BorgFixtures(path.join(tmp, 'fixtures'));
  fixtures.borgDir(path.join(tmp, 'borg-template'), '1.4.2');
  gpg = await makeGpgHome();
  const key = await genSigningKey(gpg, { name: 'Release Test' });
  keyArgs = [
    '--signing-key',
    await writeKeyFile(gpg, key.primary, path.join(tmp, 'key.asc'), { armor: true }),
    '--fingerprint',
    key.primary,
  ];
  gh = await startGithubServer();
  gh.addRelease('1.4.1', await sdistAssets('1.4.1', key.signingSubkey!), { publishedAt: '2025-01-01T00:00:00Z' });
  gh.addRelease('1.4.2', await sdistAssets('1.4.2', key.signingSubkey!), {
    publishedAt: '2025-06-01T00:00:00Z',
    withDigest: true,
  });
  gh.addRelease('2.0.0b22', await sdistAssets('2.0.0b22', key.signingSubkey!), {
    prerelease: true,
    publishedAt: '2025-09-01T00:00:00Z',
  });
  gh.addRelease('1.4.3', await sdistAssets('1.4.3', key.signingSubkey!, false), {
    publishedAt: '2025-10-01T00:00:00Z',
  });
});

afterAll(async () => {
  await gh?.close();
  await gpg?.cleanup();
  fixtures?.cleanup();
  fs.rmSync(tmp, { recursive: true, force: true });
});

async function build(name: string, args: string[]) {
  const dir = path.join(tmp, name);
  fs.mkdirSync(dir);
  const fake = installFakeVagrant(dir, path.join(tmp, 'borg-template'));
  const out = path.join(dir, 'out');
  const env = {
    ...fake.env(),
    HOME: dir,
    XDG_CACHE_HOME: path.join(dir, 'cache'),
    XDG_CONFIG_HOME: path.join(dir, 'config'),
  };
  const r = await runCli(
    [
      'build',
      '--vagrant',
      '--debian',
      'bookworm',
      '--api-url',
      gh.apiUrl,
      '--output',
      out,
      '--work-dir',
      path.join(dir, 'work'),
      ...keyArgs,
      ...args,
    ],
    { env },
  );
  return { r, fake, out };
}

test('without VERSION: the newest stable release (1.4.3, not the 2.0 beta) is chosen; its missing .asc stops the build (exit 3)', async () => {
  const { r, fake, out } = await build('newest', []);
  // 1.4.3 is the newest stable release; its sdist is unsigned, so the build stops before any VM.
  expect(r.code).toBe(3);
  expect(r.stderr).toContain('borg-provision: error: release 1.4.3 has no borgbackup-1.4.3.tar.gz.asc');
  expect(fake.commands()).toEqual(['--version', 'plugin']);
  expect(fs.readdirSync(out)).toEqual([]);
});

test('VERSION 1.4.2: sdist and .asc downloaded, verified, built, manifest readable', async () => {
  const { r, fake, out } = await build('v142', ['1.4.2']);
  expect(r.stderr).not.toContain('error');
  expect(r.code).toBe(0);
  const downloads = gh.requests
    .filter((q) => q.path.includes('/releases/download/'))
    .map((q) => decodeURIComponent(path.basename(q.path)));
  expect(downloads).toEqual(expect.arrayContaining(['borgbackup-1.4.2.tar.gz', 'borgbackup-1.4.2.tar.gz.asc']));
  expect(fake.commands()).toEqual(['--version', 'plugin', 'up', 'ssh', 'ssh', 'destroy']);
  const m = await readBuildManifest(path.join(out, 'borg-dir-1.4.2.manifest.json'));
  expect(m.borgVersion).toBe('1.4.2');
});

test('a version with no release is refused before any VM (exit 3)', async () => {
  const { r, fake, out } = await build('missing', ['1.4.9']);
  expect(r.code).toBe(3);
  expect(r.stderr.split('\n').filter((l) => l.startsWith('borg-provision: error:'))).toHaveLength(1);
  expect(fake.commands()).toEqual(['--version', 'plugin']);
  expect(fs.readdirSync(out)).toEqual([]);
});
