// The shared target and API flags: one validation and one resolution for every command, and the
// same help text in `releases` and `build` (the commands run end to end: test/e2e/target-flags-cli).
import * as path from 'node:path';
import { apiOptionsFromFlags, DEFAULT_API_URL } from '../../src/cli/api-flags';
import { parseArchFlag, parseGlibcFlag, resolveTargetFromFlags } from '../../src/cli/target-flags';
import { BadInputError, ExitCode, UsageError } from '../../src/errors';
import { libcElf, put, truenasRoot } from '../helpers/root-tree';
import { useTempDir } from '../helpers/temp-dir';

jest.setTimeout(60000);

const work = useTempDir('bp-target-flags-', 'all');

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
      elf: { class: 64, machine: 183 },
      libcFile: null,
      source: 'given',
    });
  });

  test('--glibc with --arch and a file as well is bad usage (the file would be ignored)', async () => {
    await expect(resolveTargetFromFlags({ glibc: '2.36', arch: 'x86_64', libc: '/nope' })).rejects.toThrow(
      /--glibc and --arch already name the whole target: drop --libc\/--root/,
    );
  });

  test('--libc and --root together: the file is judged; the root must exist', async () => {
    const libc = put(work(), 'nas/libc.so.6', libcElf('2.31', 'Debian GLIBC 2.31-13+deb11u11'));
    const root = truenasRoot(path.join(work(), 'root')); // its own libc is 2.36
    const t = await resolveTargetFromFlags({ libc, root });
    expect(t).toMatchObject({ glibc: '2.31', arch: 'x86_64', source: libc });
    expect(t.libcFile?.libc.path).toBe(libc);
    await expect(resolveTargetFromFlags({ libc, root: path.join(work(), 'missing') })).rejects.toThrow(BadInputError);
    expect(await resolveTargetFromFlags({ root })).toMatchObject({ glibc: '2.36', source: `root ${root}` });
  });

  test('a lone --glibc or --arch overrides that fact of the libc read', async () => {
    const libc = put(work(), 'one/libc.so.6', libcElf('2.36', null));
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

test('API options: --api-url, GITHUB_TOKEN (empty is none), BORG_PROVISION_NET', async () => {
  const signal = new AbortController().signal;
  const opts = await apiOptionsFromFlags({}, signal, { GITHUB_TOKEN: 'tok', BORG_PROVISION_NET: 'maxRetries=1' });
  expect(opts).toEqual({ apiUrl: DEFAULT_API_URL, token: 'tok', signal, net: { maxRetries: 1 } });
  expect(
    await apiOptionsFromFlags({ 'api-url': 'http://127.0.0.1:8080' }, undefined, { GITHUB_TOKEN: '' }),
  ).toMatchObject({ apiUrl: 'http://127.0.0.1:8080', token: undefined });
  for (const bad of ['api.github.com', 'ftp://x', '']) {
    await expect(apiOptionsFromFlags({ 'api-url': bad }, undefined, {})).rejects.toThrow(
      new UsageError(`--api-url ${bad} is not an http(s) URL, e.g. https://api.github.com`),
    );
  }
});
