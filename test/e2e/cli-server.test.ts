// End to end against the GitHub stand-in on 127.0.0.1: install, list, use, uninstall, reinstall,
// rollback on a failing smoke test, and SIGINT in the middle of a download.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { jsonOf } from '../helpers/cli';
import { groupFingerprint, shortFingerprint } from '../../src/verify/pinned';
import { BorgFixtures } from '../helpers/borg-fixture';
import { startGithubServer, type GithubServer } from '../helpers/github-server';
import { cli, errorLine, install, makeKeys, makeSandbox, type Keys, type Sandbox } from '../helpers/install-sandbox';

jest.setTimeout(120000);

const ASSET = 'borg-linux-glibc231-x86_64.tgz';
let fx: BorgFixtures;
let sb: Sandbox;
let keys: Keys;
let gh: GithubServer;

async function publish(tag: string, tgz: string, extra: { name: string; body: Buffer }[] = []): Promise<void> {
  const asc = await keys.sign(tgz);
  gh.addRelease(
    tag,
    [
      { name: ASSET, body: fs.readFileSync(tgz) },
      { name: `${ASSET}.asc`, body: fs.readFileSync(asc) },
      { name: 'borg-macos1012.tgz', body: Buffer.from('not for linux') },
      ...extra,
    ],
    { withDigest: true },
  );
}

beforeAll(async () => {
  fx = new BorgFixtures();
  sb = makeSandbox();
  keys = await makeKeys(sb.root);
  gh = await startGithubServer();
  await publish('1.4.2', fx.oneDirTgz(ASSET, '1.4.2'));
  await publish('1.4.3', fx.oneDirTgz(ASSET, '1.4.3', 'wrong-version'));
  await publish('1.4.4', fx.oneDirTgz(ASSET, '1.4.4'));
  // Served with a stall after 2000 bytes: interrupted in the middle of the transfer.
  await publish('1.5.0', fx.oneDirTgz(ASSET, '1.5.0'));
});
afterAll(async () => {
  await gh.close();
  await keys.home.cleanup();
  fx.cleanup();
  sb.cleanup();
});

const api = (): string[] => ['--api-url', gh.apiUrl, ...keys.keyFlags];

test('install from the release: chosen asset, verified, current, wrapper runs', async () => {
  const r = await install(sb, ['1.4.2', ...api(), '--json']);
  expect(r.code).toBe(0);
  // --json (and a pipe): no progress bar, no step lines, nothing on stderr but warnings.
  expect(r.stderr.split('\n').filter((l) => l !== '' && !l.startsWith('borg-provision: warning: '))).toEqual([]);
  const j = jsonOf<{
    action: string;
    plan: { asset: string; source: string };
    verification: { status: string; signingFingerprint: string };
    smoke: string;
  }>(r);
  expect(j).toMatchObject({
    action: 'installed',
    plan: { asset: ASSET, source: 'release' },
    verification: { status: 'good', signingFingerprint: keys.mirror.subkey },
    smoke: 'borg.exe 1.4.2',
  });
  expect(execFileSync(path.join(sb.binDir, 'borg'), ['-V'], { encoding: 'utf8' })).toBe('borg.exe 1.4.2\n');
  const manifest = JSON.parse(fs.readFileSync(path.join(sb.prefix, 'borg-dir-1.4.2', 'borg-provision.json'), 'utf8'));
  expect(manifest).toMatchObject({
    version: '1.4.2',
    asset: ASSET,
    glibc: '2.31',
    source: 'release',
    signer: { verdict: 'good' },
  });
  expect(manifest.from).toMatch(
    new RegExp(
      `^${gh.apiUrl
        .replace(/\/[^/]*$/, '')
        .replace(/[.]/g, '\\.')
        .split(':')
        .slice(0, 2)
        .join(':')}.*/${ASSET}$`,
    ),
  );
});

test('--dry-run names the asset, both URLs and the checks, and downloads nothing', async () => {
  const before = sb.snapshot();
  const count = gh.requests.length;
  const r = await install(sb, ['1.4.4', ...api(), '--dry-run', '--json']);
  expect(r.code).toBe(0);
  const plan = jsonOf<{
    action: string;
    plan: { asset: string; archiveUrl: string; signatureUrl: string; checks: string[] };
  }>(r);
  expect(plan).toMatchObject({
    action: 'dry-run',
    plan: {
      asset: ASSET,
      archiveUrl: gh.downloadUrl('1.4.4', ASSET),
      signatureUrl: gh.downloadUrl('1.4.4', `${ASSET}.asc`),
    },
  });
  expect(plan.plan.checks).toHaveLength(4);
  expect(plan.plan).toMatchObject({ elfScan: 'every ELF file' });
  expect(gh.requests.slice(count).filter((q) => q.server === 'assets')).toEqual([]);
  expect(sb.snapshot()).toEqual(before);
});

test('a bad --signing-key or --fingerprint is refused before any request, installed or not: exit 2, nothing changed', async () => {
  const notAKey = path.join(sb.root, 'not-a-key.asc');
  fs.writeFileSync(notAKey, 'this is not an OpenPGP key\n');
  const before = sb.snapshot();
  const requests = gh.requests.length;
  const cases: [string[], RegExp][] = [
    [['--signing-key', notAKey], /not-a-key\.asc is not an OpenPGP public key/],
    [
      ['--signing-key', path.join(sb.root, 'missing.asc'), '--fingerprint', keys.mirror.primary],
      /cannot read signing key .*missing\.asc: no such file/,
    ],
    [
      ['--signing-key', keys.mirrorFile, '--fingerprint', 'ZZZ'],
      /--fingerprint "ZZZ" is not a 40-hex-digit OpenPGP v4 fingerprint/,
    ],
  ];
  // 1.4.2 is installed already (the first test): the flags are judged all the same.
  for (const version of ['1.6.1', '1.4.2']) {
    for (const [flags, message] of cases) {
      const r = await install(sb, [version, '--api-url', gh.apiUrl, ...flags]);
      expect([r.code, errorLine(r)]).toEqual([2, expect.stringMatching(message)]);
    }
  }
  expect(gh.requests.length).toBe(requests);
  expect(sb.snapshot()).toEqual(before);
});

test('a release whose borg prints the wrong version is rolled back', async () => {
  const before = sb.snapshot();
  const r = await install(sb, ['1.4.3', ...api()]);
  expect([r.code, errorLine(r)]).toEqual([
    6,
    expect.stringMatching(
      /printed "borg\.exe 0\.0\.1", not version 1\.4\.3; not activated: borg 1\.4\.2 stays current/,
    ),
  ]);
  expect(sb.snapshot()).toEqual(before);
});

test('second version, use, uninstall, reinstall', async () => {
  expect((await install(sb, ['1.4.4', ...api()])).code).toBe(0);
  const list = await cli(sb, ['list']);
  expect(list.stdout).toMatch(/^2 installed in .*, current 1\.4\.4\n/);
  expect(list.stdout).toMatch(/\* 1\.4\.4 +borg-linux-glibc231-x86_64\.tgz {2}glibc 2\.31 {2}release, good /);
  // One fingerprint format, the primary key's: shortened in the table, never 40 digits in a row.
  expect(list.stdout).toContain(`good ${shortFingerprint(keys.mirror.primary)} `);
  expect(list.stdout).not.toMatch(/[0-9A-F]{40}/);
  expect((await cli(sb, ['use', '1.4.2'])).code).toBe(0);
  const un = await cli(sb, ['uninstall', '1.4.4']);
  expect(un.stdout).toMatch(/^removed borg 1\.4\.4 /);
  const again = await install(sb, ['1.4.4', ...api()]);
  expect(again.code).toBe(0);
  expect(again.stdout).toMatch(/^installed borg 1\.4\.4; borg -V runs\n.*\(was 1\.4\.2\)/s);
  expect(again.stdout).toContain(`(signature good by ${groupFingerprint(keys.mirror.primary)})`);
});

test('the same version again is a no-op without a download; --force downloads and replaces', async () => {
  const before = sb.snapshot();
  const count = gh.requests.length;
  const r = await install(sb, ['1.4.4', ...api()]);
  expect(r.stdout).toMatch(/already installed .* and current/);
  expect(sb.snapshot()).toEqual(before);
  expect(gh.requests.slice(count).filter((q) => q.server === 'assets')).toEqual([]);
  const forced = await install(sb, ['1.4.4', '--force', ...api()]);
  expect(forced.stdout).toMatch(/^reinstalled borg 1\.4\.4/);
});

test('an unknown version is exit 3 and changes nothing', async () => {
  const before = sb.snapshot();
  const r = await install(sb, ['9.9.9', ...api()]);
  expect(r.code).toBe(3);
  expect(errorLine(r)).toMatch(/9\.9\.9/);
  expect(sb.snapshot()).toEqual(before);
});

test('SIGINT during the download: exit 130, nothing changed, no temp leftovers', async () => {
  const rel = (await (await fetch(`${gh.apiUrl}/repos/${gh.repo}/releases/tags/1.5.0`)).json()) as {
    assets: { id: number; name: string }[];
  };
  const assetPath = `/assets/${rel.assets.find((a) => a.name === ASSET)!.id}`;
  gh.setFault({ kind: 'stall', afterBytes: 2000, match: assetPath, times: 5 });
  const before = sb.snapshot();
  const r = await install(sb, ['1.5.0', ...api()], {
    onSpawn: (child) => {
      const timer = setInterval(() => {
        if (gh.requests.some((q) => q.server === 'assets' && q.path.startsWith(assetPath + '?'))) {
          clearInterval(timer);
          setTimeout(() => child.kill('SIGINT'), 200);
        }
      }, 20);
      child.on('exit', () => clearInterval(timer));
    },
  });
  gh.clearFaults();
  // The fetch stage keeps the .part in the cache for resuming; nothing is in the prefix.
  expect([r.code, errorLine(r)]).toEqual([
    130,
    expect.stringMatching(/^interrupted; the partial download .*\.part is kept for the next run/),
  ]);
  expect(sb.snapshot()).toEqual(before);
  expect(fs.readdirSync(sb.prefix).filter((n) => n.startsWith('.'))).toEqual([]);
});

test('no build of the release fits: install names the releases whose signed build does (exit 3, nothing changed)', async () => {
  const newer = path.join(sb.root, 'only-236.tgz');
  fs.copyFileSync(fx.oneDirTgz(ASSET, '1.7.0'), newer);
  const asc = await keys.sign(newer);
  gh.addRelease(
    '1.7.0',
    [
      { name: 'borg-linux-glibc236-x86_64.tgz', body: fs.readFileSync(newer) },
      { name: 'borg-linux-glibc236-x86_64.tgz.asc', body: fs.readFileSync(asc) },
    ],
    { withDigest: true },
  );
  const before = sb.snapshot();
  const r = await install(sb, ['1.7.0', ...api(), '--glibc', '2.31', '--arch', 'x86_64']);
  expect([r.code, errorLine(r)]).toEqual([
    3,
    expect.stringMatching(
      /^borg 1\.7\.0 has no signed build for glibc 2\.31 on x86_64; other releases have a signed build that fits: 1\.5\.0 \(borg-linux-glibc231-x86_64\.tgz, glibc 2\.31\)/,
    ),
  ]);
  expect(sb.snapshot()).toEqual(before);
});
