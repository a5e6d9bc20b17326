import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ChecksumError, InterruptedError, NetworkError } from '../../src/errors';
import { cacheDir, download, downloadWithSignature, type ProgressEvent } from '../../src/fetch';
import { getRelease, selectAsset } from '../../src/releases';
import { startGithubServer, type GithubServer } from '../helpers/github-server';
import { loopbackNet, sha } from '../helpers/loopback-net';

const TAG = '9.9.9';
const NAME = 'borg-linux-glibc231-x86_64.tgz';
const SIZE = 256 * 1024;
const net = loopbackNet({ maxRetries: 2, bodyTimeoutMs: 300, headersTimeoutMs: 2000, connectTimeoutMs: 2000 });

describe('download: faults, resume, cache', () => {
  let gh: GithubServer;
  let tmp: string;
  let dest: string;
  let body: Buffer;
  const oldCache = process.env.XDG_CACHE_HOME;

  beforeAll(async () => {
    gh = await startGithubServer();
    body = randomBytes(SIZE);
    gh.addRelease(
      TAG,
      [
        { name: NAME, body },
        { name: `${NAME}.asc`, body: Buffer.from('-----BEGIN PGP SIGNATURE-----\nx\n-----END PGP SIGNATURE-----\n') },
        { name: 'borg-linux-glibc235-arm64-gh.tgz', body: randomBytes(1000) },
      ],
      { withDigest: true },
    );
  });
  afterAll(async () => {
    await gh.close();
    if (oldCache === undefined) delete process.env.XDG_CACHE_HOME;
    else process.env.XDG_CACHE_HOME = oldCache;
  });
  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bp-fetch-'));
    dest = path.join(tmp, 'dest');
    process.env.XDG_CACHE_HOME = path.join(tmp, 'cache');
    gh.clearFaults();
    gh.requests.length = 0;
  });
  afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

  const req = (extra: Partial<Parameters<typeof download>[0]> = {}): Parameters<typeof download>[0] => ({
    url: gh.downloadUrl(TAG, NAME),
    fileName: NAME,
    destDir: dest,
    expectedSize: SIZE,
    expectedSha256: `sha256:${sha(body)}`,
    net,
    ...extra,
  });
  const assetRequests = (): typeof gh.requests => gh.requests.filter((r) => r.server === 'assets');
  const left = (): string[] => (fs.existsSync(dest) ? fs.readdirSync(dest).sort() : []);

  it('follows the redirect, streams to the final name and records the SHA-256', async () => {
    const events: ProgressEvent[] = [];
    const r = await download(req({ onProgress: (e) => events.push(e) }));
    expect(r).toEqual({ path: path.join(dest, NAME), size: SIZE, sha256: sha(body), fromCache: false });
    expect(fs.readFileSync(r.path).equals(body)).toBe(true);
    expect(left()).toEqual([NAME, `${NAME}.sha256`]);
    expect(fs.readFileSync(path.join(dest, `${NAME}.sha256`), 'utf8')).toBe(`${sha(body)}  ${NAME}\n`);
    expect(gh.requests.map((q) => q.server)).toEqual(['api', 'assets']);
    expect(events[0]).toMatchObject({ type: 'start', total: SIZE, resumedFrom: 0 });
    expect(events.at(-2)).toEqual({ type: 'progress', fileName: NAME, bytes: SIZE, total: SIZE });
    expect(events.at(-1)).toEqual({ type: 'done', fileName: NAME, bytes: SIZE, fromCache: false });
  });

  it('caches under $XDG_CACHE_HOME/borg-provision/<tag>, and re-hashes a cache hit', async () => {
    const first = await download(req({ destDir: undefined }));
    expect(first.path).toBe(path.join(tmp, 'cache', 'borg-provision', TAG, NAME));
    expect(cacheDir()).toBe(path.join(tmp, 'cache', 'borg-provision'));
    const again = await download(req({ destDir: undefined, expectedSha256: undefined }));
    expect(again).toMatchObject({ fromCache: true, sha256: sha(body) });
    expect(assetRequests()).toHaveLength(1);
    // a corrupted cache file of the right size is not trusted: fetched again and fixed
    const fd = fs.openSync(first.path, 'r+');
    fs.writeSync(fd, Buffer.from([body[10] ^ 0xff]), 0, 1, 10);
    fs.closeSync(fd);
    const fixed = await download(req({ destDir: undefined, expectedSha256: undefined }));
    expect(fixed.fromCache).toBe(false);
    expect(fs.readFileSync(first.path).equals(body)).toBe(true);
    expect(assetRequests()).toHaveLength(2);
  });

  it('resumes a cut connection with Range + If-Range and ends byte-identical', async () => {
    gh.setFault({ kind: 'cut', afterBytes: 100_000 });
    const r = await download(req());
    expect(fs.readFileSync(r.path).equals(body)).toBe(true);
    const [first, second] = assetRequests();
    expect(first.headers.range).toBeUndefined();
    expect(second.headers.range).toMatch(/^bytes=\d+-$/);
    expect(Number(/\d+/.exec(second.headers.range!)![0])).toBeGreaterThan(0);
    expect(second.headers['if-range']).toMatch(/^"[0-9a-f]{20}"$/);
    expect(left()).toEqual([NAME, `${NAME}.sha256`]);
  });

  it('retries a 500 and succeeds', async () => {
    gh.setFault({ kind: 'status', status: 500 });
    const events: ProgressEvent[] = [];
    const r = await download(req({ onProgress: (e) => events.push(e) }));
    expect(fs.readFileSync(r.path).equals(body)).toBe(true);
    expect(assetRequests()).toHaveLength(2);
    expect(events.find((e) => e.type === 'retry')).toMatchObject({ attempt: 1, reason: 'HTTP 500' });
  });

  it('honours Retry-After on a 429, even beyond the backoff cap', async () => {
    gh.setFault({ kind: 'retry-after', seconds: 1 });
    const t0 = Date.now();
    const r = await download(req());
    expect(Date.now() - t0).toBeGreaterThanOrEqual(950);
    expect(fs.readFileSync(r.path).equals(body)).toBe(true);
  });

  it('gives up at once when Retry-After asks for more than the total time allowed', async () => {
    gh.setFault({ kind: 'retry-after', seconds: 3600 });
    const t0 = Date.now();
    const err = await download(req({ net: { ...net, maxTotalMs: 60_000 } })).catch((e: unknown) => e);
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(err).toBeInstanceOf(NetworkError);
    expect((err as Error).message).toBe(
      `download of ${gh.downloadUrl(TAG, NAME)} failed: HTTP 429; waiting 3600 s more would pass the 60 s allowed, retry later`,
    );
    expect(left()).toEqual([]);
  });

  it('retries when the response headers never come (headers timeout), then fails with exit 4', async () => {
    gh.setFault({ kind: 'hang', times: 10 });
    const err = await download(req({ net: { ...net, headersTimeoutMs: 300, maxRetries: 1 } })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NetworkError);
    expect((err as Error).message).toBe(
      `download of ${gh.downloadUrl(TAG, NAME)} failed: timed out waiting for the response headers (after 2 attempts)`,
    );
    expect(assetRequests()).toHaveLength(2);
    expect(left()).toEqual([]);
  });

  it('resumes after a stall longer than the body timeout', async () => {
    gh.setFault({ kind: 'stall', afterBytes: 64 * 1024 });
    const r = await download(req());
    expect(fs.readFileSync(r.path).equals(body)).toBe(true);
    expect(assetRequests()[1].headers.range).toBe(`bytes=${64 * 1024}-`);
  });

  it('gives up on a transfer that always stalls: exit 4, .part kept, no final file', async () => {
    gh.setFault({ kind: 'stall', afterBytes: 1000, times: 10 });
    const err = await download(req()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NetworkError);
    expect((err as NetworkError).exitCode).toBe(4);
    expect((err as Error).message).toBe(
      `download of ${gh.downloadUrl(TAG, NAME)} failed: the transfer stalled (body timeout) (after 3 attempts); the partial file ${path.join(dest, NAME)}.part is kept and the next run resumes it`,
    );
    expect(left()).toEqual([`${NAME}.part`, `${NAME}.part.json`]);
    // each attempt resumed where the last stalled, 1000 bytes further on
    expect(fs.statSync(path.join(dest, `${NAME}.part`)).size).toBe(3000);
    expect(assetRequests().map((q) => q.headers.range)).toEqual([undefined, 'bytes=1000-', 'bytes=2000-']);
  });

  it('fails on a body always shorter than its Content-Length: exit 4, no final file', async () => {
    gh.setFault({ kind: 'short', missingBytes: 10, times: 10 });
    const err = await download(req()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NetworkError);
    expect((err as Error).message).toMatch(
      /failed: connection closed before the transfer completed \(after 3 attempts\)/,
    );
    expect(left()).not.toContain(NAME);
  });

  it('resumes once after a short body', async () => {
    gh.setFault({ kind: 'short', missingBytes: 10 });
    const r = await download(req());
    expect(fs.readFileSync(r.path).equals(body)).toBe(true);
    const from = Number(/^bytes=(\d+)-$/.exec(assetRequests()[1].headers.range ?? '')?.[1]);
    expect(from).toBeGreaterThan(0);
    expect(from).toBeLessThanOrEqual(SIZE - 10);
  });

  it('does not retry a 404: exit 4 naming the URL, nothing written', async () => {
    gh.setFault({ kind: 'status', status: 404 });
    const err = await download(req()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NetworkError);
    expect((err as Error).message).toBe(`download of ${gh.downloadUrl(TAG, NAME)} failed: HTTP 404`);
    expect(assetRequests()).toHaveLength(1);
    expect(left()).toEqual([]);
  });

  it('stops a redirect loop after the bound', async () => {
    gh.setFault({ kind: 'redirect-loop' });
    const err = await download(req({ net: { ...net, maxRedirections: 3 } })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NetworkError);
    expect((err as Error).message).toBe(
      `download of ${gh.downloadUrl(TAG, NAME)} failed: too many redirects (more than 3)`,
    );
    expect(gh.requests).toHaveLength(4); // the API's 302, then 3 hops on the asset server
    expect(left()).toEqual([]);
  });

  it('starts over when the server answers a range request with the whole file', async () => {
    gh.setFault({ kind: 'cut', afterBytes: 50_000 });
    await expect(download(req({ net: { ...net, maxRetries: 0 } }))).rejects.toThrow(NetworkError);
    expect(fs.statSync(path.join(dest, `${NAME}.part`)).size).toBe(50_000);
    gh.setFault({ kind: 'ignore-range' });
    const events: ProgressEvent[] = [];
    const r = await download(req({ onProgress: (e) => events.push(e) }));
    expect(fs.readFileSync(r.path).equals(body)).toBe(true);
    expect(assetRequests().at(-1)!.headers.range).toBe('bytes=50000-');
    expect(events.some((e) => e.type === 'restart')).toBe(true);
  });

  it('starts over when the file changed between runs (If-Range no longer matches)', async () => {
    const name = 'borg-linux-glibc235-arm64-gh.tgz';
    const url = gh.downloadUrl(TAG, name);
    gh.setFault({ kind: 'cut', afterBytes: 400 });
    await expect(download({ url, fileName: name, destDir: dest, net: { ...net, maxRetries: 0 } })).rejects.toThrow(
      NetworkError,
    );
    const newer = randomBytes(1200);
    gh.replaceAsset(TAG, name, newer);
    const r = await download({ url, fileName: name, destDir: dest, expectedSize: 1200, net });
    expect(fs.readFileSync(r.path).equals(newer)).toBe(true);
    expect(assetRequests().at(-1)!.headers['if-range']).toBeDefined();
  });

  it('keeps the .part on abort (exit 130) and resumes it on the next run', async () => {
    gh.setFault({ kind: 'stall', afterBytes: 70_000 });
    const ac = new AbortController();
    const events: ProgressEvent[] = [];
    const p = download(
      req({ signal: ac.signal, net: { ...net, bodyTimeoutMs: 5000 }, onProgress: (e) => events.push(e) }),
    );
    setTimeout(() => ac.abort(), 150);
    const err = await p.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InterruptedError);
    expect((err as InterruptedError).exitCode).toBe(130);
    expect(left()).toEqual([`${NAME}.part`, `${NAME}.part.json`]);
    const r = await download(req());
    expect(fs.readFileSync(r.path).equals(body)).toBe(true);
    expect(assetRequests().at(-1)!.headers.range).toBe('bytes=70000-');
    expect(left()).toEqual([NAME, `${NAME}.sha256`]);
  });

  it('refuses bytes whose digest differs: exit 5, nothing kept', async () => {
    const err = await download(req({ expectedSha256: 'sha256:' + '0'.repeat(64) })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ChecksumError);
    expect((err as ChecksumError).exitCode).toBe(5);
    expect((err as Error).message).toMatch(
      /is corrupt: SHA-256 [0-9a-f]{64} differs from the announced digest sha256:0{64}; it was deleted/,
    );
    expect(left()).toEqual([]);
  });

  it('refuses a file whose size differs from the announced one before streaming it', async () => {
    const err = await download(req({ expectedSize: SIZE + 1, expectedSha256: undefined })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ChecksumError);
    expect((err as Error).message).toBe(
      `download of ${gh.downloadUrl(TAG, NAME)} is the wrong file: the server sends ${SIZE} bytes, GitHub announced ${SIZE + 1}; nothing was kept`,
    );
    expect(left()).toEqual([]);
  });

  it('refuses a file name with a directory in it', async () => {
    await expect(download(req({ fileName: '../evil' }))).rejects.toThrow(/a plain file name is needed/);
    expect(fs.existsSync(path.join(tmp, 'evil'))).toBe(false);
  });

  it('fetches the archive and its signature concurrently', async () => {
    const rel = await getRelease(TAG, { apiUrl: gh.apiUrl, net });
    const choice = selectAsset(rel, { glibc: '2.36', arch: 'x86_64' }).selected!;
    expect(choice.name).toBe(NAME);
    const got = await downloadWithSignature(choice, { destDir: dest, net });
    expect(fs.readFileSync(got.archive.path).equals(body)).toBe(true);
    expect(got.signature?.path).toBe(path.join(dest, `${NAME}.asc`));
    expect(fs.readFileSync(got.signature!.path, 'utf8')).toMatch(/BEGIN PGP SIGNATURE/);
    const unsigned = selectAsset(rel, { glibc: '2.36', arch: 'arm64' }, { allowUnsigned: true }).selected!;
    expect((await downloadWithSignature(unsigned, { destDir: dest, net })).signature).toBeNull();
  });

  it('really runs the two downloads at once: the signature arrives while the archive stalls', async () => {
    const rel = await getRelease(TAG, { apiUrl: gh.apiUrl, net });
    const choice = selectAsset(rel, { glibc: '2.36', arch: 'x86_64' }).selected!;
    gh.requests.length = 0;
    gh.setFault({ kind: 'stall', afterBytes: 1000, match: '/assets/1' });
    const got = await downloadWithSignature(choice, { destDir: dest, net });
    expect(fs.readFileSync(got.archive.path).equals(body)).toBe(true);
    const paths = assetRequests().map((q) => q.path.replace(/\?.*/, ''));
    expect(paths).toEqual(expect.arrayContaining(['/assets/1', '/assets/2']));
    // the signature was requested before the stalled archive was retried
    expect(paths.indexOf('/assets/2')).toBeLessThan(paths.lastIndexOf('/assets/1'));
    expect(paths.filter((p) => p === '/assets/1')).toHaveLength(2);
  });

  it('checks the digest and size GitHub announces for a chosen asset (exit 5, nothing final)', async () => {
    const asc = { name: `${NAME}.asc`, body: Buffer.from('sig') };
    gh.addRelease('9.9.8', [{ name: NAME, body }, asc], {
      withDigest: true,
      announcedDigest: { [NAME]: `sha256:${'ab'.repeat(32)}` },
    });
    gh.addRelease('9.9.7', [{ name: NAME, body }, asc], { announcedSize: { [NAME]: SIZE - 1 } });
    for (const [tag, why] of [
      ['9.9.8', /differs from the announced digest sha256:(ab){32}/],
      ['9.9.7', /the server sends 262144 bytes, GitHub announced 262143/],
    ] as const) {
      const choice = selectAsset(await getRelease(tag, { apiUrl: gh.apiUrl, net }), {
        glibc: '2.36',
        arch: 'x86_64',
      }).selected!;
      const err = await downloadWithSignature(choice, { destDir: dest, net }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ChecksumError);
      expect((err as Error).message).toMatch(why);
      expect(left()).not.toContain(NAME);
      expect(left()).not.toContain(`${NAME}.part`);
    }
  });

  it('reports the failing half of a signature download with exit 4', async () => {
    const rel = await getRelease(TAG, { apiUrl: gh.apiUrl, net });
    const choice = selectAsset(rel, { glibc: '2.36', arch: 'x86_64' }).selected!;
    gh.setFault({ kind: 'status', status: 404, match: '/assets/2' });
    const err = await downloadWithSignature(choice, { destDir: dest, net }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NetworkError);
    expect((err as Error).message).toBe(`download of ${gh.downloadUrl(TAG, `${NAME}.asc`)} failed: HTTP 404`);
    expect(left()).not.toContain(`${NAME}.asc`);
  });
});
