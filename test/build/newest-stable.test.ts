// Which borg a build picks without VERSION: the newest release that is not a pre-release by
// PEP 440, even when GitHub's "prerelease" flag was not set on it.
import { newestStableVersion } from '../../src/build/sdist';
import { ReleaseNotFoundError } from '../../src/errors';
import { startGithubServer, type GithubServer } from '../helpers/github-server';

const net = { minBackoffMs: 5, maxBackoffMs: 20, maxRetries: 1 };

describe('newestStableVersion', () => {
  let gh: GithubServer;
  beforeAll(async () => {
    gh = await startGithubServer();
  });
  afterAll(() => gh.close());

  it('skips pre-releases by their version (rc without a number, .dev without a number), not only by the flag', async () => {
    gh.addRelease('1.4.4', [], { publishedAt: '2026-01-01T00:00:00Z' });
    gh.addRelease('1.4.5', [], { publishedAt: '2026-02-01T00:00:00Z' });
    gh.addRelease('1.5.0.post1', [], { publishedAt: '2026-02-02T00:00:00Z' });
    gh.addRelease('2.0.0b22', [], { prerelease: true, publishedAt: '2026-03-01T00:00:00Z' });
    gh.addRelease('2.0.0rc', [], { publishedAt: '2026-04-01T00:00:00Z' });
    gh.addRelease('2.1.0.dev', [], { publishedAt: '2026-05-01T00:00:00Z' });
    gh.addRelease('nightly', [], { publishedAt: '2026-06-01T00:00:00Z' });
    expect(await newestStableVersion({ apiUrl: gh.apiUrl, net })).toBe('1.5.0.post1');
  });

  it('says so when there is no stable release (exit 3)', async () => {
    const only = await startGithubServer();
    try {
      only.addRelease('2.0.0rc1', []);
      const err = await newestStableVersion({ apiUrl: only.apiUrl, net }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ReleaseNotFoundError);
      expect((err as Error).message).toBe(
        'found no stable borg release to build: give the version, e.g. build --vagrant 1.4.2',
      );
    } finally {
      await only.close();
    }
  });
});
