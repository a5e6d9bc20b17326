// The commands use the shared target and API flags (test/cli/target-flags.test.ts): the very same
// definitions, the same help text, and --libc, --arch and --api-url judged the same way end to end.
import * as path from 'node:path';
import { apiFlags } from '../../src/cli/api-flags';
import { targetFlags } from '../../src/cli/target-flags';
import { jsonOf, runCli } from '../helpers/cli';
import { startGithubServer, type GithubServer } from '../helpers/github-server';
import { addBorgReleases } from '../helpers/borg-releases';
import { libcElf, put } from '../helpers/root-tree';
import { useTempDir } from '../helpers/temp-dir';

jest.setTimeout(60000);

const work = useTempDir('bp-target-flags-cli-', 'all');

describe('the commands use them', () => {
  let gh: GithubServer;
  let env: NodeJS.ProcessEnv;
  beforeAll(async () => {
    gh = await startGithubServer();
    addBorgReleases(gh);
    env = {
      HOME: work(),
      XDG_CACHE_HOME: path.join(work(), 'cache'),
      XDG_CONFIG_HOME: path.join(work(), 'config'),
      XDG_DATA_HOME: path.join(work(), 'data'),
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
    const libc = put(work(), 'rel/libc.so.6', libcElf('2.36', null));
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
