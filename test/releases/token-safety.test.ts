// GITHUB_TOKEN goes to the API's own origin only: never to a host a Link header or a redirect names,
// never over plain http to a non-loopback host.
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { NetworkError } from '../../src/errors';
import { getRelease, listReleases } from '../../src/releases';
import { mayCarryToken } from '../../src/net';
import { startGithubServer, type GithubServer } from '../helpers/github-server';
import { addBorgReleases } from '../helpers/borg-releases';

const net = { minBackoffMs: 5, maxBackoffMs: 20, maxRetries: 1, bodyTimeoutMs: 2000, headersTimeoutMs: 2000 };

/** A front API on its own port; `answer` decides what it says. Records the headers it was sent. */
async function startFront(
  answer: (req: http.IncomingMessage, res: http.ServerResponse) => void,
): Promise<{ url: string; auth: (string | undefined)[]; close: () => Promise<void> }> {
  const auth: (string | undefined)[] = [];
  const server = http.createServer((req, res) => {
    auth.push(req.headers.authorization);
    answer(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, auth, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

describe('the GitHub token stays with the API origin', () => {
  let gh: GithubServer;
  beforeAll(async () => {
    gh = await startGithubServer({ pageSize: 2 });
    addBorgReleases(gh);
  });
  afterAll(() => gh.close());
  beforeEach(() => {
    gh.requests.length = 0;
  });

  it('refuses a Link rel="next" to another origin (exit 4) and never contacts it', async () => {
    const front = await startFront((_req, res) => {
      res.writeHead(200, {
        'content-type': 'application/json',
        link: `<${gh.apiUrl}/repos/borgbackup/borg/releases?per_page=2&page=2>; rel="next"`,
      });
      res.end(JSON.stringify([{ tag_name: '1.4.5', name: '1.4.5', published_at: null, prerelease: false }]));
    });
    try {
      const err = await listReleases({ apiUrl: front.url, net, token: 'ghp_secret', limit: 10 }).catch(
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(NetworkError);
      expect((err as Error).message).toMatch(
        /^GitHub API release list points its next page to http:\/\/127\.0\.0\.1:\d+ instead of http:\/\/127\.0\.0\.1:\d+: refused; check --api-url$/,
      );
      expect(front.auth).toEqual(['Bearer ghp_secret']);
      expect(gh.requests).toEqual([]);
    } finally {
      await front.close();
    }
  });

  it('does not forward the token over a redirect to another origin', async () => {
    const front = await startFront((req, res) => {
      res.writeHead(302, { location: `${gh.apiUrl}${req.url}` });
      res.end();
    });
    try {
      const r = await getRelease('1.4.5', { apiUrl: front.url, net, token: 'ghp_secret' });
      expect(r.tag).toBe('1.4.5');
      expect(front.auth[0]).toBe('Bearer ghp_secret');
      expect(gh.requests.length).toBeGreaterThan(0);
      expect(gh.requests.every((q) => q.headers.authorization === undefined)).toBe(true);
    } finally {
      await front.close();
    }
  });

  it('sends the token only over https or to a loopback http URL', () => {
    expect(mayCarryToken('https://api.github.com/repos/x')).toBe(true);
    expect(mayCarryToken('https://ghe.example.com/api/v3')).toBe(true);
    expect(mayCarryToken('http://127.0.0.1:8080/x')).toBe(true);
    expect(mayCarryToken('http://127.1.2.3/x')).toBe(true);
    expect(mayCarryToken('http://localhost:3000/x')).toBe(true);
    expect(mayCarryToken('http://[::1]:3000/x')).toBe(true);
    expect(mayCarryToken('http://api.github.com/x')).toBe(false);
    expect(mayCarryToken('http://10.0.0.5/x')).toBe(false);
    expect(mayCarryToken('http://127.0.0.1.example.com/x')).toBe(false);
    expect(mayCarryToken('ftp://127.0.0.1/x')).toBe(false);
  });
});
