import { NetworkError, ReleaseNotFoundError } from '../../src/errors';
import { getRelease, listReleases, nearestVersions } from '../../src/releases';
import { startGithubServer, type GithubServer } from '../helpers/github-server';
import { addBorgReleases, fakeBody } from '../helpers/borg-releases';

const net = { minBackoffMs: 5, maxBackoffMs: 20, maxRetries: 2, bodyTimeoutMs: 2000, headersTimeoutMs: 2000 };

describe('the GitHub API client against a stand-in server', () => {
  let gh: GithubServer;
  beforeAll(async () => {
    gh = await startGithubServer({ pageSize: 2 });
    addBorgReleases(gh);
  });
  afterAll(() => gh.close());
  beforeEach(() => {
    gh.clearFaults();
    gh.requests.length = 0;
  });

  it('reads a release by tag with sizes, URLs and digests', async () => {
    const r = await getRelease('1.4.5', { apiUrl: gh.apiUrl, net });
    expect(r).toMatchObject({ tag: '1.4.5', version: '1.4.5', prerelease: false, publishedAt: '2026-03-20T12:00:00Z' });
    const tgz = r.assets.find((a) => a.name === 'borg-linux-glibc231-x86_64.tgz')!;
    expect(tgz.size).toBe(fakeBody('1.4.5', tgz.name).length);
    expect(tgz.url).toBe(gh.downloadUrl('1.4.5', tgz.name));
    expect(tgz.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect((await getRelease('1.2.9', { apiUrl: gh.apiUrl, net })).assets.every((a) => a.digest === null)).toBe(true);
  });

  it('accepts a v-prefixed version for a bare tag, and a bare version for a v tag', async () => {
    expect((await getRelease('v1.4.2', { apiUrl: gh.apiUrl, net })).tag).toBe('1.4.2');
    gh.addRelease('v0.9.1', [], { publishedAt: '2015-01-01T00:00:00Z' });
    const r = await getRelease('0.9.1', { apiUrl: gh.apiUrl, net });
    expect(r).toMatchObject({ tag: 'v0.9.1', version: '0.9.1' });
  });

  it('sends GITHUB_TOKEN as a bearer token when set, and nothing otherwise', async () => {
    await getRelease('1.4.5', { apiUrl: gh.apiUrl, net, token: 'ghp_secret' });
    expect(gh.requests.at(-1)!.headers.authorization).toBe('Bearer ghp_secret');
    await getRelease('1.4.5', { apiUrl: gh.apiUrl, net });
    expect(gh.requests.at(-1)!.headers.authorization).toBeUndefined();
  });

  it('answers an unknown tag with the nearest real releases', async () => {
    const err = await getRelease('1.4.3', { apiUrl: gh.apiUrl, net }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ReleaseNotFoundError);
    expect((err as Error).message).toBe(
      'borg release 1.4.3 does not exist in borgbackup/borg: the nearest releases are 1.4.2, 1.4.1, 1.4.5, 2.0.0b22 (see borg-provision releases)',
    );
  });

  it('follows the paginated list, newest first, up to the limit', async () => {
    const all = await listReleases({ apiUrl: gh.apiUrl, net, limit: 100 });
    expect(all.map((r) => r.tag)).toEqual(['2.0.0b22', '1.4.5', '1.4.2', '1.2.9', '1.4.1', 'v0.9.1']);
    expect(all[0]).toEqual({
      tag: '2.0.0b22',
      version: '2.0.0b22',
      name: '2.0.0b22',
      publishedAt: '2026-04-10T12:00:00Z',
      prerelease: true,
    });
    expect(gh.requests.filter((q) => q.path.includes('/releases?')).length).toBe(3); // pages of 2
    expect((await listReleases({ apiUrl: gh.apiUrl, net, limit: 3 })).map((r) => r.tag)).toEqual([
      '2.0.0b22',
      '1.4.5',
      '1.4.2',
    ]);
  });

  it('explains a rate limit with its reset time, without retrying', async () => {
    gh.setFault({ kind: 'rate-limit', resetInSeconds: 600 });
    const err = await getRelease('1.4.5', { apiUrl: gh.apiUrl, net }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NetworkError);
    expect((err as NetworkError).exitCode).toBe(4);
    expect((err as Error).message).toMatch(
      /^GitHub API rate limit reached \(http:\/\/127\.0\.0\.1:\d+\/repos\/borgbackup\/borg\/releases\/tags\/1\.4\.5, HTTP 403\): it resets at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \(in 10 min\); wait for the reset, or set GITHUB_TOKEN to raise the limit$/,
    );
    expect(gh.requests.length).toBe(1);
  });

  it('retries a 500 (undici retry interceptor) and succeeds', async () => {
    gh.setFault({ kind: 'status', status: 500, on: 'api' });
    expect((await getRelease('1.4.5', { apiUrl: gh.apiUrl, net })).tag).toBe('1.4.5');
    expect(gh.requests.length).toBe(2);
  });

  it('gives up on a lasting 502 with a NetworkError naming the URL', async () => {
    gh.setFault({ kind: 'status', status: 502, on: 'api', times: 10 });
    const err = await getRelease('1.4.5', { apiUrl: gh.apiUrl, net }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NetworkError);
    expect((err as Error).message).toMatch(
      /^GitHub API request http:\/\/127\.0\.0\.1:\d+\/repos\/borgbackup\/borg\/releases\/tags\/1\.4\.5 failed: HTTP 502/,
    );
    expect(gh.requests.length).toBe(net.maxRetries + 1);
  });

  it('names the URL and the cause when nothing listens', async () => {
    const err = await listReleases({ apiUrl: 'http://127.0.0.1:9', net }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NetworkError);
    expect((err as Error).message).toBe(
      'GitHub API request http://127.0.0.1:9/repos/borgbackup/borg/releases?per_page=30 failed: connection refused; check the network or --api-url and retry',
    );
  });
});

describe('nearestVersions', () => {
  it('takes two below and two above in PEP 440 order', () => {
    expect(nearestVersions('1.4.0', ['1.2.9', '1.4.0rc1', '1.4.0b1', '1.4.1', '1.4.2', '1.4.3'])).toEqual([
      '1.4.0rc1',
      '1.4.0b1',
      '1.4.1',
      '1.4.2',
    ]);
    expect(nearestVersions('junk', ['1.2.9', '1.4.1', '2.0.0b1'])).toEqual(['2.0.0b1', '1.4.1', '1.2.9']);
  });
});
