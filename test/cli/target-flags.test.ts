// The shared target and API flags: one validation and one resolution for every command, and the
// same help text in `releases` and `build`.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { apiFlags, apiOptionsFromFlags, DEFAULT_API_URL } from '../../src/cli/api-flags';
import { parseArchFlag, parseGlibcFlag, resolveTargetFromFlags, targetFlags } from '../../src/cli/target-flags';
import { BadInputError, ExitCode, UsageError } from '../../src/errors';
import { jsonOf, runCli } from '../helpers/cli';
import { startGithubServer, type GithubServer } from '../helpers/github-server';
import { addBorgReleases } from '../helpers/borg-releases';
import { libcElf, put, tempDir, truenasRoot } from '../helpers/root-tree';

jest.setTimeout(60000);

let work: string;
beforeAll(() => {
  work = tempDir('bp-target-flags-');
});
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

describe('--arch', () => {
  test.each([
    ['x86_64', 'x86_64'],
    ['amd64', 'x86_64'],
    ['AMD64', 'x86_64'],
    ['aarch64', 'arm64'],
    ['arm64', 'arm64'],
    ['i686', 'i386'],
    ['i386', 'i386'],
    ['armv7l', 'armhf'],
    ['ppc64el', 'ppc64le'],
    ['s390x', 's390x'],
  ])('%s is %s', async (given, arch) => {
    expect(await parseArchFlag(given)).toBe(arch);
  });

  test('an unknown arch is bad usage (exit 2), listing the known ones', async () => {
    const err = await parseArchFlag('sparc').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as UsageError).exitCode).toBe(ExitCode.usage);
    expect((err as Error).message).toMatch(
      /^--arch sparc is not an arch we know: use one of x86_64, x32, i386, arm64, .*\(or aarch64, amd64, i686, armv7l\)$/,
    );
  });
});

test('--glibc is X.Y or X.Y.Z', () => {
  expect(parseGlibcFlag('2.31')).toBe('2.31');
  expect(parseGlibcFlag('2.35.1')).toBe('2.35.1');
  for (const bad of ['2', '2.x', 'v2.31', '2.31.', '2.31.1.1', ' 2.31']) {
    expect(() => parseGlibcFlag(bad)).toThrow(
      new UsageError(`--glibc ${bad} is not a glibc release: give it as X.Y (or X.Y.Z), e.g. 2.31`),
    );
  }
});

describe('resolveTargetFromFlags', () => {
  test('--glibc with --arch: given, nothing read, the arch normalized', async () => {
    expect(await resolveTargetFromFlags({ glibc: '2.36', arch: 'aarch64' })).toEqual({
      glibc: '2.36',
      arch: 'arm64',
      source: 'given',
    });
  });

  test('--glibc with --arch and a file as well is bad usage (the file would be ignored)', async () => {
    await expect(resolveTargetFromFlags({ glibc: '2.36', arch: 'x86_64', libc: '/nope' })).rejects.toThrow(
      /--glibc and --arch already name the whole target: drop --libc\/--root/,
    );
  });

  test('--libc and --root together: the file is judged; the root must exist', async () => {
    const libc = put(work, 'nas/libc.so.6', libcElf('2.31', 'Debian GLIBC 2.31-13+deb11u11'));
    const root = truenasRoot(path.join(work, 'root')); // its own libc is 2.36
    const t = await resolveTargetFromFlags({ libc, root });
    expect(t).toMatchObject({ glibc: '2.31', arch: 'x86_64', source: libc });
    expect(t.libcTarget?.libc.path).toBe(libc);
    await expect(resolveTargetFromFlags({ libc, root: path.join(work, 'missing') })).rejects.toThrow(BadInputError);
    expect(await resolveTargetFromFlags({ root })).toMatchObject({ glibc: '2.36', source: `root ${root}` });
  });

  test('a lone --glibc or --arch overrides that fact of the libc read', async () => {
    const libc = put(work, 'one/libc.so.6', libcElf('2.36', null));
    expect(await resolveTargetFromFlags({ libc, glibc: '2.31' })).toMatchObject({ glibc: '2.31', arch: 'x86_64' });
    expect(await resolveTargetFromFlags({ libc, arch: 'aarch64' })).toMatchObject({ glibc: '2.36', arch: 'arm64' });
  });

  test('a program that is no libc is bad input (exit 2)', async () => {
    await expect(resolveTargetFromFlags({ libc: '/bin/ls' })).rejects.toThrow(
      /\/bin\/ls is an ELF file but not a C library/,
    );
    await expect(resolveTargetFromFlags({ libc: '/bin/ls' })).rejects.toBeInstanceOf(BadInputError);
  });
});

test('API options: --api-url, GITHUB_TOKEN (empty is none), BORG_PROVISION_NET', () => {
  const signal = new AbortController().signal;
  expect(apiOptionsFromFlags({}, signal, { GITHUB_TOKEN: 'tok', BORG_PROVISION_NET: 'maxRetries=1' })).toEqual({
    apiUrl: DEFAULT_API_URL,
    token: 'tok',
    signal,
    net: { maxRetries: 1 },
  });
  expect(apiOptionsFromFlags({ 'api-url': 'http://127.0.0.1:8080' }, undefined, { GITHUB_TOKEN: '' })).toMatchObject({
    apiUrl: 'http://127.0.0.1:8080',
    token: undefined,
  });
  for (const bad of ['api.github.com', 'ftp://x', '']) {
    expect(() => apiOptionsFromFlags({ 'api-url': bad }, undefined, {})).toThrow(
      new UsageError(`--api-url ${bad} is not an http(s) URL, e.g. https://api.github.com`),
    );
  }
});

describe('the commands use them', () => {
  let gh: GithubServer;
  let env: NodeJS.ProcessEnv;
  beforeAll(async () => {
    gh = await startGithubServer();
    addBorgReleases(gh);
    env = {
      HOME: work,
      XDG_CACHE_HOME: path.join(work, 'cache'),
      XDG_CONFIG_HOME: path.join(work, 'config'),
      XDG_DATA_HOME: path.join(work, 'data'),
      GITHUB_TOKEN: '',
    };
  });
  afterAll(() => gh.close());

  test('releases and build use the very same flag definitions, and show --api-url with its default', async () => {
    const [{ default: Releases }, { default: Build }] = await Promise.all([
      import('../../src/commands/releases'),
      import('../../src/commands/build'),
    ]);
    for (const name of ['libc', 'root', 'arch'] as const) {
      expect(Releases.flags[name]).toBe(targetFlags[name]);
      expect(Build.flags[name]).toBe(targetFlags[name]);
    }
    expect(Releases.flags.glibc).toBe(targetFlags.glibc);
    expect(Releases.flags['api-url']).toBe(apiFlags['api-url']);
    expect(Build.flags['api-url']).toBe(apiFlags['api-url']);
    const helps = await Promise.all([runCli(['releases', '--help'], { env }), runCli(['build', '--help'], { env })]);
    for (const h of helps) {
      expect(h.stdout.replace(/\s+/g, ' ')).toContain(
        '--api-url=URL [default: https://api.github.com] GitHub API base URL (a mirror or GitHub Enterprise)',
      );
    }
  });

  test('releases: --libc with --root judges the file; an arch alias works; a bad --api-url exits 2', async () => {
    const libc = put(work, 'rel/libc.so.6', libcElf('2.36', null));
    const r = await runCli(['releases', '1.4.5', '--api-url', gh.apiUrl, '--libc', libc, '--root', '/', '--json'], {
      env,
    });
    expect(r.code).toBe(0);
    expect(jsonOf<Record<string, unknown>>(r)).toMatchObject({
      target: { glibc: '2.36', arch: 'x86_64' },
      targetSource: libc,
    });
    const alias = await runCli(
      ['releases', '1.4.5', '--api-url', gh.apiUrl, '--glibc', '2.36', '--arch', 'amd64', '--json'],
      { env },
    );
    expect(jsonOf<Record<string, unknown>>(alias)).toMatchObject({
      target: { glibc: '2.36', arch: 'x86_64' },
      targetSource: 'given',
    });
    const bad = await runCli(['releases', '--api-url', 'not a url'], { env });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe(
      'borg-provision: error: --api-url not a url is not an http(s) URL, e.g. https://api.github.com\n',
    );
    expect(gh.requests).toEqual([expect.anything(), expect.anything()]); // the bad one asked nothing
  });
});
