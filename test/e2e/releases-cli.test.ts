// `borg-provision releases` as a user runs it: the built CLI in a subprocess, against the
// GitHub stand-in on 127.0.0.1, with HOME and the XDG folders in a temp dir.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { jsonOf, runCli, type CliResult } from '../helpers/cli';
import { startGithubServer, type GithubServer } from '../helpers/github-server';
import { addBorgReleases, fakeBody } from '../helpers/borg-releases';

jest.setTimeout(60000);

describe('borg-provision releases', () => {
  let gh: GithubServer;
  let tmp: string;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    gh = await startGithubServer();
    addBorgReleases(gh);
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bp-releases-cli-'));
    env = {
      HOME: tmp,
      XDG_CACHE_HOME: path.join(tmp, 'cache'),
      XDG_CONFIG_HOME: path.join(tmp, 'config'),
      XDG_DATA_HOME: path.join(tmp, 'data'),
      GITHUB_TOKEN: '',
      BORG_PROVISION_NET: 'minBackoffMs=5,maxBackoffMs=20,maxRetries=2,bodyTimeoutMs=1000',
    };
  });
  afterAll(async () => {
    await gh.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });
  beforeEach(() => {
    gh.clearFaults();
    gh.requests.length = 0;
  });

  const run = (args: string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<CliResult> =>
    runCli(['releases', '--api-url', gh.apiUrl, ...args], { env: { ...env, ...extraEnv } });
  const oneErrorLine = (r: CliResult): string => {
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    return lines[0];
  };

  it('lists the recent releases, newest first (exit 0)', async () => {
    const r = await run([]);
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n').slice(0, 3)).toEqual([
      '5 most recent borg releases, newest first:',
      '  2.0.0b22     2026-04-10  pre-release',
      '  1.4.5        2026-03-20',
    ]);
    const j = jsonOf<{ releases: { tag: string; prerelease: boolean }[] }>(await run(['--json', '--limit', '2']));
    expect(j.releases.map((x) => x.tag)).toEqual(['2.0.0b22', '1.4.5']);
  });

  it('shows the assets, the choice and the reasons for a given target', async () => {
    const r = await run(['1.4.2', '--glibc', '2.36', '--arch', 'x86_64']);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toBe(
      'borg 1.4.2 for glibc 2.36 x86_64 (given): borg-linux-glibc236-x86_64.tgz (signed, onedir, glibc 2.36)',
    );
    expect(lines).toContainEqual(
      expect.stringMatching(/^ {2}\* borg-linux-glibc236-x86_64\.tgz +fits: .*; chosen: signed, one-dir/),
    );
    expect(lines).toContainEqual(
      expect.stringMatching(/^ {2}- borg-linux-glibc241-x86_64 +needs glibc 2\.41, the target has 2\.36$/),
    );
    expect(r.stderr).toBe('');
  });

  it('prints the --json shape of the issue', async () => {
    const r = await run(['v1.4.5', '--glibc', '2.36', '--arch', 'x86_64', '--json']);
    expect(r.code).toBe(0);
    const j = jsonOf<Record<string, any>>(r);
    expect(j.version).toBe('1.4.5');
    expect(j.target).toEqual({ glibc: '2.36', arch: 'x86_64' });
    const name = 'borg-linux-glibc231-x86_64.tgz';
    expect(j.selected).toMatchObject({
      name,
      url: gh.downloadUrl('1.4.5', name),
      size: fakeBody('1.4.5', name).length,
      os: 'linux',
      arch: 'x86_64',
      glibc: '2.31',
      kind: 'onedir',
      signed: true,
      signatureUrl: gh.downloadUrl('1.4.5', `${name}.asc`),
      builtOn: 'local',
      eligible: true,
    });
    expect(j.selected.digest).toMatch(/^sha256:/);
    for (const a of j.assets) {
      expect(Object.keys(a)).toEqual(
        expect.arrayContaining([
          'name',
          'url',
          'size',
          'os',
          'arch',
          'glibc',
          'kind',
          'signed',
          'signatureUrl',
          'builtOn',
          'eligible',
          'reasons',
        ]),
      );
    }
    expect(j.assets.find((a: { name: string }) => a.name === 'borg-linux-glibc235-arm64-gh.tgz')).toMatchObject({
      builtOn: 'github',
      signed: false,
      eligible: false,
    });
  });

  it('exits 3 when no build fits, saying what would; --json still lists the reasons', async () => {
    const r = await run(['1.4.5', '--glibc', '2.28', '--arch', 'x86_64']);
    expect(r.code).toBe(3);
    expect(oneErrorLine(r)).toBe(
      'borg-provision: error: borg 1.4.5 has no signed build for glibc 2.28 on x86_64; other releases have a signed build that fits: 1.4.1 (borg-linux-glibc228.tgz, glibc 2.28), 1.2.9 (borg-linux64.tgz, glibc 2.28); or build one for this target: borg-provision build --vagrant',
    );
    expect(r.stdout.split('\n')[0]).toBe('borg 1.4.5 for glibc 2.28 x86_64 (given): no build fits');
    const j = await run(['1.4.5', '--glibc', '2.36', '--arch', 'arm64', '--json']);
    expect(j.code).toBe(3);
    const doc = jsonOf<Record<string, any>>(j);
    expect(doc.selected).toBeNull();
    expect(doc.error).toMatchObject({ kind: 'no-compatible-build', exitCode: 3 });
    expect(doc.error.message).toMatch(/--allow-unsigned accepts them unverified/);
    expect(doc.assets.length).toBeGreaterThan(5);
  });

  it('accepts an unsigned -gh build only with --allow-unsigned, warning loudly', async () => {
    const r = await run(['2.0.0b22', '--glibc', '2.41', '--arch', 'aarch64', '--allow-unsigned']);
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')[0]).toBe(
      'borg 2.0.0b22 for glibc 2.41 arm64 (given): borg-linux-glibc239-arm64-gh.tgz (UNSIGNED, onedir, glibc 2.39)',
    );
    expect(r.stderr).toMatch(/^borg-provision: warning: borg-linux-glibc239-arm64-gh.tgz is UNSIGNED/);
  });

  it('answers an unknown version with the nearest releases (exit 3)', async () => {
    const r = await run(['1.4.3']);
    expect(r.code).toBe(3);
    expect(oneErrorLine(r)).toBe(
      'borg-provision: error: borg release 1.4.3 does not exist in borgbackup/borg: the nearest releases are 1.4.2, 1.4.1, 1.4.5, 2.0.0b22 (see borg-provision releases)',
    );
  });

  it('explains a rate limit (exit 4) and never prints the token', async () => {
    gh.setFault({ kind: 'rate-limit', resetInSeconds: 120 });
    const r = await run(['1.4.5', '--glibc', '2.36', '--arch', 'x86_64'], { GITHUB_TOKEN: 'ghp_verysecret123' });
    expect(r.code).toBe(4);
    expect(oneErrorLine(r)).toMatch(
      /^borg-provision: error: GitHub API rate limit reached \(.*HTTP 403\): it resets at .*Z \(in 2 min\); wait for the reset$/,
    );
    expect(gh.requests[0].headers.authorization).toBe('Bearer ghp_verysecret123');
    expect(r.stdout + r.stderr).not.toContain('verysecret');
  });

  it('exits 4 naming the URL when the API cannot be reached, each retry announced first', async () => {
    const r = await runCli(
      ['releases', '--api-url', 'http://127.0.0.1:9', '1.4.5', '--glibc', '2.36', '--arch', 'x86_64'],
      { env },
    );
    expect(r.code).toBe(4);
    expect(r.stderr.trim().split('\n')).toEqual([
      'borg-provision: retrying in 0.0 s (1/2): connection refused',
      'borg-provision: retrying in 0.0 s (2/2): connection refused',
      'borg-provision: error: GitHub API request http://127.0.0.1:9/repos/borgbackup/borg/releases/tags/1.4.5 failed: connection refused; check the network or --api-url and retry',
    ]);
    const quiet = await runCli(
      ['releases', '--api-url', 'http://127.0.0.1:9', '1.4.5', '--glibc', '2.36', '--arch', 'x86_64', '--quiet'],
      { env },
    );
    expect(oneErrorLine(quiet)).toMatch(/^borg-provision: error: GitHub API request .* failed: connection refused/);
  });

  it('bounds the whole API phase by one deadline (apiDeadlineMs) when the server never answers', async () => {
    gh.setFault({ on: 'api', kind: 'hang', times: 10 });
    const started = Date.now();
    const r = await run(['1.4.5', '--glibc', '2.36', '--arch', 'x86_64'], {
      BORG_PROVISION_NET: 'headersTimeoutMs=300,minBackoffMs=100,maxBackoffMs=200,maxRetries=20,apiDeadlineMs=1500',
    });
    expect(Date.now() - started).toBeLessThan(10000);
    expect(r.code).toBe(4);
    const lines = r.stderr.trim().split('\n');
    expect(
      lines
        .slice(0, -2)
        .every((l) =>
          /^borg-provision: retrying in 0\.[12] s \(\d+\/20\): timed out waiting for the response headers$/.test(l),
        ),
    ).toBe(true);
    expect(lines.length).toBeGreaterThan(2);
    expect(lines.slice(-2)).toEqual([
      expect.stringMatching(
        /^borg-provision: error: GitHub API did not answer .*releases\/tags\/1\.4\.5 within 2 s( \(last: timed out waiting for the response headers\))?$/,
      ),
      'borg-provision: hint: check the network or --api-url; BORG_PROVISION_NET=apiDeadlineMs=3000 waits longer',
    ]);
  });

  it.each([
    [
      ['1.4.5', '--glibc', '2', '--arch', 'x86_64'],
      '--glibc 2 is not a glibc release: give it as X.Y (or X.Y.Z), e.g. 2.31',
    ],
    [
      ['1.4.5', '--glibc', '2.36', '--arch', 'sparc'],
      '--arch sparc is not an arch we know: use one of x86_64, x32, i386, arm64, arm64be, armhf, armel, s390x, s390, ppc64le, ppc64, powerpc, riscv64, riscv32, loong64, mips64el, mips64, mipsel, mips, sparc64, ia64, alpha (or aarch64, amd64, i686, armv7l)',
    ],
    [['--asset', 'borg-linux64'], '--asset needs a VERSION: borg-provision releases VERSION --asset ...'],
    [
      ['1.4.5', '--glibc', '2.36', '--arch', 'x86_64', '--asset', 'borg-nope'],
      '--asset borg-nope is not in this release; its Linux assets are: borg-linux-glibc231-x86_64, borg-linux-glibc231-x86_64.tgz, borg-linux-glibc235-x86_64-gh, borg-linux-glibc235-x86_64-gh.tgz, borg-linux-glibc235-arm64-gh, borg-linux-glibc235-arm64-gh.tgz',
    ],
    [['1.4.5', '--no-such-flag'], 'Nonexistent flag: --no-such-flag (see --help)'],
  ])('refuses bad usage %j with exit 2 and one line', async (args, message) => {
    const r = await run(args);
    expect(r.code).toBe(2);
    expect(oneErrorLine(r)).toBe(`borg-provision: error: ${message}`);
  });

  it('refuses --download onto a file (exit 2) without touching it', async () => {
    const file = path.join(tmp, 'a-file');
    fs.writeFileSync(file, 'keep');
    const r = await run(['1.4.5', '--glibc', '2.36', '--arch', 'x86_64', '--download', file]);
    expect(r.code).toBe(2);
    expect(oneErrorLine(r)).toBe(`borg-provision: error: --download ${file} exists and is not a directory`);
    expect(fs.readFileSync(file, 'utf8')).toBe('keep');
    expect(gh.requests).toHaveLength(0);
  });

  it('refuses --download below a file (exit 2), and a --libc that is not a libc (exit 2)', async () => {
    const file = path.join(tmp, 'plain-file');
    fs.writeFileSync(file, 'x');
    const r = await run(['1.4.5', '--glibc', '2.36', '--arch', 'x86_64', '--download', path.join(file, 'sub')]);
    expect(r.code).toBe(2);
    expect(oneErrorLine(r)).toBe(
      `borg-provision: error: --download ${path.join(file, 'sub')} cannot be used (ENOTDIR): give a directory path`,
    );
    const bad = await run(['1.4.5', '--libc', file]);
    expect(bad.code).toBe(2);
    expect(oneErrorLine(bad)).toContain(file);
    const missing = await run(['1.4.5', '--libc', path.join(tmp, 'no-such-libc.so.6')]);
    expect(missing.code).toBe(2);
    expect(oneErrorLine(missing)).toContain('no-such-libc.so.6');
    expect(gh.requests).toHaveLength(0);
  });

  it('--download fetches the choice and its signature, unverified, with no bar on a pipe', async () => {
    const dir = path.join(tmp, 'dl');
    const r = await run(['1.4.5', '--glibc', '2.36', '--arch', 'x86_64', '--download', dir]);
    expect(r.code).toBe(0);
    const name = 'borg-linux-glibc231-x86_64.tgz';
    expect(fs.readFileSync(path.join(dir, name)).equals(gh.assetBody('1.4.5', name))).toBe(true);
    expect(fs.readFileSync(path.join(dir, `${name}.asc`)).equals(gh.assetBody('1.4.5', `${name}.asc`))).toBe(true);
    expect(fs.readdirSync(dir).sort()).toEqual([name, `${name}.asc`, `${name}.asc.sha256`, `${name}.sha256`]);
    expect(r.stdout).toMatch(/NOT verified yet/);
    expect(r.stderr).toBe('');
    const j = jsonOf<Record<string, any>>(
      await run(['1.4.5', '--glibc', '2.36', '--arch', 'x86_64', '--download', dir, '--json']),
    );
    expect(j.download).toMatchObject({
      dir,
      verified: false,
      archive: { path: path.join(dir, name), fromCache: true },
      signature: { fromCache: true },
    });
  });

  it('--download exits 4 on a lasting server error and leaves nothing under a final name', async () => {
    const dir = path.join(tmp, 'dl-fail');
    gh.setFault({ kind: 'status', status: 503, times: 20 });
    const r = await run(['1.4.1', '--glibc', '2.36', '--arch', 'x86_64', '--download', dir]);
    expect(r.code).toBe(4);
    expect(oneErrorLine(r)).toMatch(
      /^borg-provision: error: download of http:\/\/127\.0\.0\.1:\d+\/borgbackup\/borg\/releases\/download\/1\.4\.1\/borg-linux-glibc236\.tgz(\.asc)? failed: HTTP 503 \(after 3 attempts\)$/,
    );
    expect(fs.readdirSync(dir).filter((f) => !f.endsWith('.part') && !f.endsWith('.part.json'))).toEqual([]);
  });

  it('SIGINT during --download exits 130, keeps the .part for resuming, and nothing final', async () => {
    const dir = path.join(tmp, 'dl-int');
    gh.setFault({ kind: 'stall', afterBytes: 500, times: 20 });
    const r = await runCli(
      ['releases', '--api-url', gh.apiUrl, '1.2.9', '--glibc', '2.36', '--arch', 'x86_64', '--download', dir],
      {
        env: { ...env, BORG_PROVISION_NET: 'bodyTimeoutMs=20000' },
        onSpawn: (child) => {
          const poll = setInterval(() => {
            if (fs.existsSync(path.join(dir, 'borg-linuxnewer64.tgz.part'))) {
              clearInterval(poll);
              setTimeout(() => child.kill('SIGINT'), 200);
            }
          }, 50);
        },
      },
    );
    expect(r.code).toBe(130);
    expect(oneErrorLine(r)).toMatch(
      /^borg-provision: error: interrupted; the partial download .*borg-linuxnewer64\.tgz(\.asc)?\.part is kept for the next run/,
    );
    const files = fs.readdirSync(dir);
    expect(files).toContain('borg-linuxnewer64.tgz.part');
    // the small signature may have completed before the interrupt: then it is whole
    for (const f of files.filter((x) => !/\.part(\.json)?$/.test(x) && !x.endsWith('.sha256'))) {
      expect(f).toBe('borg-linuxnewer64.tgz.asc');
      expect(fs.readFileSync(path.join(dir, f)).equals(gh.assetBody('1.2.9', f))).toBe(true);
    }
  });

  it("judges against a real libc with --libc (this machine's own)", async () => {
    const libc = ['/lib/x86_64-linux-gnu/libc.so.6', '/lib/aarch64-linux-gnu/libc.so.6', '/usr/lib64/libc.so.6'].find(
      (p) => fs.existsSync(p),
    );
    const release = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } }).header
      ?.glibcVersionRuntime;
    expect(libc && release).toBeTruthy();
    const r = await run(['1.4.2', '--libc', libc!, '--json']);
    expect([0, 3]).toContain(r.code);
    const j = jsonOf<Record<string, any>>(r);
    expect(j.target.glibc).toBe(release);
    expect(j.targetSource).toBe(libc);
    if (process.arch === 'x64') expect(j.target.arch).toBe('x86_64');
  });

  it('reads the target from --root, or from the running machine by default', async () => {
    const release = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } }).header
      ?.glibcVersionRuntime;
    for (const [args, source] of [
      [['--root', '/'], 'root /'],
      [[], 'this machine'],
    ] as const) {
      const r = await run(['1.4.1', ...args, '--json']);
      const j = jsonOf<Record<string, any>>(r);
      expect(j.target.glibc).toBe(release);
      expect(j.targetSource).toBe(source);
    }
  });
});
