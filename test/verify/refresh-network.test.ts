// key refresh goes through the fetch stage's dispatcher: redirects are followed (never https ->
// http), 5xx answers are retried with the shared network options.
import { promises as fs } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { NetworkError } from '../../src/errors';
import { PINNED_FINGERPRINT, bundledKeyPath, refreshSigningKey, refreshedKeyPath } from '../../src/verify';

const VKS = `/vks/v1/by-fingerprint/${PINNED_FINGERPRINT}`;
const net = { minBackoffMs: 5, maxBackoffMs: 10, maxRetries: 2 };

describe('key refresh over the shared network stack', () => {
  let dir: string;
  let server: http.Server;
  let base: string;
  let key: string;
  let flaky = 0;
  const hits: string[] = [];

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'bp-refresh-net-'));
    key = await fs.readFile(bundledKeyPath(), 'utf8');
    server = http.createServer((req, res) => {
      hits.push(req.url ?? '');
      if (req.url === `/moved${VKS}`) res.writeHead(302, { location: `/good${VKS}` }).end();
      else if (req.url === `/flaky${VKS}` && flaky-- > 0) res.writeHead(503).end('busy');
      else if (req.url === `/good${VKS}` || req.url === `/flaky${VKS}`)
        res.writeHead(200, { 'content-type': 'application/pgp-keys' }).end(key);
      else res.writeHead(404).end('not found');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((r) => server?.close(r));
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  const envFor = async (): Promise<NodeJS.ProcessEnv> => ({
    HOME: dir,
    XDG_CONFIG_HOME: await fs.mkdtemp(path.join(dir, 'cfg-')),
  });

  it('follows a redirect of the keyserver', async () => {
    const env = await envFor();
    const r = await refreshSigningKey({ keyserver: `${base}/moved`, env, net });
    expect(r).toMatchObject({ changed: true, path: refreshedKeyPath(env) });
    expect(hits.slice(-2)).toEqual([`/moved${VKS}`, `/good${VKS}`]);
  });

  it('retries a 503 and then succeeds', async () => {
    const env = await envFor();
    flaky = 1;
    hits.length = 0;
    const r = await refreshSigningKey({ keyserver: `${base}/flaky`, env, net });
    expect(r.changed).toBe(true);
    expect(hits).toEqual([`/flaky${VKS}`, `/flaky${VKS}`]);
  });

  it('still answers a 404 at once with exit 4 and writes nothing', async () => {
    const env = await envFor();
    hits.length = 0;
    const err = await refreshSigningKey({ keyserver: `${base}/missing`, env, net }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NetworkError);
    expect(hits).toHaveLength(1);
    await expect(fs.access(refreshedKeyPath(env))).rejects.toThrow();
  });
});
