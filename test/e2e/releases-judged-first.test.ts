// Issue 14: a VERSION is judged before any request, the same way by every command; `releases`
// says where the target came from; its advice names only releases the server lists.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { jsonOf, runCli } from '../helpers/cli';
import { startGithubServer, type GithubServer } from '../helpers/github-server';
import { fakeBody } from '../helpers/borg-releases';

jest.setTimeout(60000);

let gh: GithubServer;
let tmp: string;
let env: NodeJS.ProcessEnv;

const withSig = (tag: string, names: string[]): { name: string; body: Buffer }[] =>
  names.flatMap((n) => [n, `${n}.asc`]).map((name) => ({ name, body: fakeBody(tag, name) }));

beforeAll(async () => {
  gh = await startGithubServer();
  // 1.4.1 here has no glibc 2.28 build (the real one does): the advice must not name it.
  gh.addRelease('1.4.1', withSig('1.4.1', ['borg-linux-glibc231.tgz']), { publishedAt: '2025-04-19T12:00:00Z' });
  gh.addRelease('1.2.9', withSig('1.2.9', ['borg-linuxold64.tgz']), { publishedAt: '2025-05-05T12:00:00Z' });
  gh.addRelease('1.4.5', withSig('1.4.5', ['borg-linux-glibc231-x86_64.tgz']), { publishedAt: '2026-03-20T12:00:00Z' });
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bp-judged-'));
  env = { HOME: tmp, XDG_CACHE_HOME: path.join(tmp, 'cache'), XDG_DATA_HOME: path.join(tmp, 'data'), GITHUB_TOKEN: '' };
});
afterAll(async () => {
  await gh.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('a bad VERSION, before any request', () => {
  const api = (): string[] => ['--api-url', gh.apiUrl];
  test.each([
    [['releases', 'abc'], true],
    [['install', 'abc'], true],
    [['install', 'abc', '--dry-run'], true],
    [['build', 'abc', '--vagrant'], true],
    [['use', 'abc'], false],
    [['uninstall', 'abc'], false],
  ])('%j: exit 2, the same line, no request', async (argv, networked) => {
    const before = gh.requests.length;
    const r = await runCli([...argv, ...(networked ? api() : [])], { env });
    expect(r.stderr).toBe(
      'borg-provision: error: "abc" is not a borg version: give one like 1.4.2 or 2.0.0b22 (see borg-provision releases)\n',
    );
    expect(r.code).toBe(2);
    expect(gh.requests.length).toBe(before);
  });
});

test('a lone --glibc: the target says the glibc came from the flag and the arch from this machine', async () => {
  const r = await runCli(['releases', '1.4.5', '--api-url', gh.apiUrl, '--glibc', '2.36'], { env });
  expect(r.code).toBe(0);
  expect(r.stdout.split('\n')[0]).toMatch(
    /^borg 1\.4\.5 for glibc 2\.36 \S+ \(--glibc 2\.36, arch of this machine\): /,
  );
  const j = await runCli(['releases', '1.4.5', '--api-url', gh.apiUrl, '--glibc', '2.36', '--json'], { env });
  expect(jsonOf<{ targetSource: string }>(j).targetSource).toBe('--glibc 2.36, arch of this machine');
});

test('the advice for an old glibc names only releases whose signed build the server lists', async () => {
  const r = await runCli(['releases', '1.4.5', '--api-url', gh.apiUrl, '--glibc', '2.28', '--arch', 'x86_64'], { env });
  expect(r.code).toBe(3);
  expect(r.stderr).toBe(
    'borg-provision: error: borg 1.4.5 has no signed build for glibc 2.28 on x86_64; another release has a signed build that fits: ' +
      '1.2.9 (borg-linuxold64.tgz, glibc 2.24); or build one for this target: borg-provision build --vagrant\n',
  );
});
