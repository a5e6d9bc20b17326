// End to end against the GitHub stand-in on 127.0.0.1: install, list, use, uninstall, reinstall,
// rollback on a failing smoke test, and SIGINT in the middle of a download.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { jsonOf } from '../helpers/cli';
import { groupFingerprint, shortFingerprint } from '../../src/verify/pinned';
import { cli, errorLine, install } from '../helpers/install-sandbox';
import { ASSET, useInstallEnv } from '../helpers/install-env';

jest.setTimeout(120000);

const env = useInstallEnv();

/** Each release also lists a macOS build, which no Linux target may pick. */
const macos = { name: 'borg-macos1012.tgz', body: Buffer.from('not for linux') };
const publish = (tag: string, tgz: string) => env.publish(tag, tgz, { withDigest: true, extra: [macos] });

beforeAll(async () => {
  await publish('1.4.2', env.fx.oneDirTgz(ASSET, '1.4.2'));
  await publish('1.4.3', env.fx.oneDirTgz(ASSET, '1.4.3', 'wrong-version'));
  await publish('1.4.4', env.fx.oneDirTgz(ASSET, '1.4.4'));
  // Served with a stall after 2000 bytes: interrupted in the middle of the transfer.
  await publish('1.5.0', env.fx.oneDirTgz(ASSET, '1.5.0'));
});

const api = env.api;

test('install from the release: chosen asset, verified, current, wrapper runs', async () => {
  const r = await install(env.sb, ['1.4.2', ...api(), '--json']);
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
    verification: { status: 'good', signingFingerprint: env.keys.mirror.subkey },
    smoke: 'borg.exe 1.4.2',
  });
  expect(execFileSync(path.join(env.sb.binDir, 'borg'), ['-V'], { encoding: 'utf8' })).toBe('borg.exe 1.4.2\n');
  const manifest = JSON.parse(
    fs.readFileSync(path.join(env.sb.prefix, 'borg-dir-1.4.2', 'borg-provision.json'), 'utf8'),
  );
  expect(manifest).toMatchObject({
    version: '1.4.2',
    asset: ASSET,
    glibc: '2.31',
    source: 'release',
    signer: { verdict: 'good' },
  });
  expect(manifest.from).toMatch(
    new RegExp(
      `^${env.gh.apiUrl
        .replace(/\/[^/]*$/, '')
        .replace(/[.]/g, '\\.')
        .split(':')
        .slice(0, 2)
        .join(':')}.*/${ASSET}$`,
    ),
  );
});

test('--dry-run names the asset, both URLs and the checks, and downloads nothing', async () => {
  const before = env.sb.snapshot();
  const count = env.gh.requests.length;
  const r = await install(env.sb, ['1.4.4', ...api(), '--dry-run', '--json']);
  expect(r.code).toBe(0);
  const plan = jsonOf<{
    action: string;
    plan: { asset: string; archiveUrl: string; signatureUrl: string; checks: string[] };
  }>(r);
  expect(plan).toMatchObject({
    action: 'dry-run',
    plan: {
      asset: ASSET,
      archiveUrl: env.gh.downloadUrl('1.4.4', ASSET),
      signatureUrl: env.gh.downloadUrl('1.4.4', `${ASSET}.asc`),
    },
  });
  expect(plan.plan.checks).toHaveLength(4);
  expect(plan.plan).toMatchObject({ elfScan: 'every ELF file' });
  expect(env.gh.requests.slice(count).filter((q) => q.server === 'assets')).toEqual([]);
  expect(env.sb.snapshot()).toEqual(before);
});

test('a bad --signing-key or --fingerprint is refused before any request, installed or not: exit 2, nothing changed', async () => {
  const notAKey = path.join(env.sb.root, 'not-a-key.asc');
  fs.writeFileSync(notAKey, 'this is not an OpenPGP key\n');
  const before = env.sb.snapshot();
  const requests = env.gh.requests.length;
  const cases: [string[], RegExp][] = [
    [['--signing-key', notAKey], /not-a-key\.asc is not an OpenPGP public key/],
    [
      ['--signing-key', path.join(env.sb.root, 'missing.asc'), '--fingerprint', env.keys.mirror.primary],
      /cannot read signing key .*missing\.asc: no such file/,
    ],
    [
      ['--signing-key', env.keys.mirrorFile, '--fingerprint', 'ZZZ'],
      /--fingerprint "ZZZ" is not a 40-hex-digit OpenPGP v4 fingerprint/,
    ],
  ];
  // 1.4.2 is installed already (the first test): the flags are judged all the same.
  for (const version of ['1.6.1', '1.4.2']) {
    for (const [flags, message] of cases) {
      const r = await install(env.sb, [version, '--api-url', env.gh.apiUrl, ...flags]);
      expect([r.code, errorLine(r)]).toEqual([2, expect.stringMatching(message)]);
    }
  }
  expect(env.gh.requests.length).toBe(requests);
  expect(env.sb.snapshot()).toEqual(before);
});

test('a release whose borg prints the wrong version is rolled back', async () => {
  const before = env.sb.snapshot();
  const r = await install(env.sb, ['1.4.3', ...api()]);
  expect([r.code, errorLine(r)]).toEqual([
    6,
    expect.stringMatching(
      /printed "borg\.exe 0\.0\.1", not version 1\.4\.3; not activated: borg 1\.4\.2 stays current/,
    ),
  ]);
  expect(env.sb.snapshot()).toEqual(before);
});

test('second version, use, uninstall, reinstall', async () => {
  expect((await install(env.sb, ['1.4.4', ...api()])).code).toBe(0);
  const list = await cli(env.sb, ['list']);
  expect(list.stdout).toMatch(/^2 installed in .*, current 1\.4\.4\n/);
  expect(list.stdout).toMatch(/\* 1\.4\.4 +borg-linux-glibc231-x86_64\.tgz {2}glibc 2\.31 {2}release, good /);
  // One fingerprint format, the primary key's: shortened in the table, never 40 digits in a row.
  expect(list.stdout).toContain(`good ${shortFingerprint(env.keys.mirror.primary)} `);
  expect(list.stdout).not.toMatch(/[0-9A-F]{40}/);
  expect((await cli(env.sb, ['use', '1.4.2'])).code).toBe(0);
  const un = await cli(env.sb, ['uninstall', '1.4.4']);
  expect(un.stdout).toMatch(/^removed borg 1\.4\.4 /);
  const again = await install(env.sb, ['1.4.4', ...api()]);
  expect(again.code).toBe(0);
  expect(again.stdout).toMatch(/^installed borg 1\.4\.4; borg -V runs\n.*\(was 1\.4\.2\)/s);
  expect(again.stdout).toContain(`(signature good by ${groupFingerprint(env.keys.mirror.primary)})`);
});

test('the same version again is a no-op without a download; --force downloads and replaces', async () => {
  const before = env.sb.snapshot();
  const count = env.gh.requests.length;
  const r = await install(env.sb, ['1.4.4', ...api()]);
  expect(r.stdout).toMatch(/already installed .* and current/);
  expect(env.sb.snapshot()).toEqual(before);
  expect(env.gh.requests.slice(count).filter((q) => q.server === 'assets')).toEqual([]);
  const forced = await install(env.sb, ['1.4.4', '--force', ...api()]);
  expect(forced.stdout).toMatch(/^reinstalled borg 1\.4\.4/);
});

test('an unknown version is exit 3 and changes nothing', async () => {
  const before = env.sb.snapshot();
  const r = await install(env.sb, ['9.9.9', ...api()]);
  expect(r.code).toBe(3);
  expect(errorLine(r)).toMatch(/9\.9\.9/);
  expect(env.sb.snapshot()).toEqual(before);
});

test('SIGINT during the download: exit 130, nothing changed, no temp leftovers', async () => {
  const rel = (await (await fetch(`${env.gh.apiUrl}/repos/${env.gh.repo}/releases/tags/1.5.0`)).json()) as {
    assets: { id: number; name: string }[];
  };
  const assetPath = `/assets/${rel.assets.find((a) => a.name === ASSET)!.id}`;
  env.gh.setFault({ kind: 'stall', afterBytes: 2000, match: assetPath, times: 5 });
  const before = env.sb.snapshot();
  const r = await install(env.sb, ['1.5.0', ...api()], {
    onSpawn: (child) => {
      const timer = setInterval(() => {
        if (env.gh.requests.some((q) => q.server === 'assets' && q.path.startsWith(assetPath + '?'))) {
          clearInterval(timer);
          setTimeout(() => child.kill('SIGINT'), 200);
        }
      }, 20);
      child.on('exit', () => clearInterval(timer));
    },
  });
  env.gh.clearFaults();
  // The fetch stage keeps the .part in the cache for resuming; nothing is in the prefix.
  expect([r.code, errorLine(r)]).toEqual([
    130,
    expect.stringMatching(/^interrupted; the partial download .*\.part is kept for the next run/),
  ]);
  expect(env.sb.snapshot()).toEqual(before);
  expect(fs.readdirSync(env.sb.prefix).filter((n) => n.startsWith('.'))).toEqual([]);
});

test('no build of the release fits: install names the releases whose signed build does (exit 3, nothing changed)', async () => {
  const newer = path.join(env.sb.root, 'only-236.tgz');
  fs.copyFileSync(env.fx.oneDirTgz(ASSET, '1.7.0'), newer);
  const asc = await env.keys.sign(newer);
  env.gh.addRelease(
    '1.7.0',
    [
      { name: 'borg-linux-glibc236-x86_64.tgz', body: fs.readFileSync(newer) },
      { name: 'borg-linux-glibc236-x86_64.tgz.asc', body: fs.readFileSync(asc) },
    ],
    { withDigest: true },
  );
  const before = env.sb.snapshot();
  const r = await install(env.sb, ['1.7.0', ...api(), '--glibc', '2.31', '--arch', 'x86_64']);
  expect([r.code, errorLine(r)]).toEqual([
    3,
    expect.stringMatching(
      /^borg 1\.7\.0 has no signed build for glibc 2\.31 on x86_64; other releases have a signed build that fits: 1\.5\.0 \(borg-linux-glibc231-x86_64\.tgz, glibc 2\.31\)/,
    ),
  ]);
  expect(env.sb.snapshot()).toEqual(before);
});
