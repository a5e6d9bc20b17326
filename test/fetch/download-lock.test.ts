// Two downloads of the same file into the same cache folder (two installs into different
// prefixes): one fetches, the other waits on `<name>.part.lock` and then finds a cache hit.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { InterruptedError, LockedError } from '../../src/errors';
import { download } from '../../src/fetch';
import { startGithubServer, type GithubServer } from '../helpers/github-server';
import { loopbackNet, sha } from '../helpers/loopback-net';

const TAG = '9.9.6';
const NAME = 'borg-linux-glibc231-x86_64.tgz';
const net = loopbackNet({ maxRetries: 3, bodyTimeoutMs: 300, headersTimeoutMs: 2000, connectTimeoutMs: 2000 });

describe('download: one transfer per file at a time', () => {
  let gh: GithubServer;
  let tmp: string;
  let dest: string;
  const body = randomBytes(200 * 1024);

  beforeAll(async () => {
    gh = await startGithubServer();
    gh.addRelease(TAG, [{ name: NAME, body }], { withDigest: true });
  });
  afterAll(() => gh.close());
  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bp-fetch-lock-'));
    dest = path.join(tmp, 'cache');
    fs.mkdirSync(dest);
    gh.clearFaults();
    gh.requests.length = 0;
  });
  afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

  const req = (extra: Partial<Parameters<typeof download>[0]> = {}): Parameters<typeof download>[0] => ({
    url: gh.downloadUrl(TAG, NAME),
    fileName: NAME,
    destDir: dest,
    expectedSize: body.length,
    expectedSha256: `sha256:${sha(body)}`,
    net,
    ...extra,
  });
  const lockPath = (): string => path.join(dest, `${NAME}.part.lock`);
  const deadPid = (): number => spawnSync(process.execPath, ['-e', '0']).pid!;

  it('two concurrent downloads of a slow body: both succeed byte-identical, the second is a cache hit', async () => {
    // The first transfer stalls after 1000 bytes and resumes after the body timeout: slow enough
    // that the second download starts while the first is still writing its .part.
    gh.setFault({ kind: 'stall', afterBytes: 1000 });
    const [a, b] = await Promise.all([download(req()), download(req())]);
    expect([a.fromCache, b.fromCache].sort()).toEqual([false, true]);
    expect(a.sha256).toBe(sha(body));
    expect(b.sha256).toBe(sha(body));
    expect(fs.readFileSync(a.path).equals(body)).toBe(true);
    // Only the one transfer asked for the body: its first GET (stalled) and its resume.
    const gets = gh.requests.filter((q) => q.server === 'assets');
    expect(gets).toHaveLength(2);
    expect(gets[1]!.headers.range).toBe('bytes=1000-');
    expect(fs.readdirSync(dest).sort()).toEqual([NAME, `${NAME}.sha256`]);
  });

  it('takes over a stale lock whose process is gone, and removes it when done', async () => {
    fs.writeFileSync(lockPath(), `${deadPid()}\n`);
    const r = await download(req());
    expect(r.fromCache).toBe(false);
    expect(fs.existsSync(lockPath())).toBe(false);
  });

  it("stops waiting when interrupted (exit 130), leaving the other holder's lock alone", async () => {
    fs.writeFileSync(lockPath(), `${process.pid}\n`); // a live holder
    const stop = new AbortController();
    setTimeout(() => stop.abort(), 150);
    const err = await download(req({ signal: stop.signal })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InterruptedError);
    expect(fs.readFileSync(lockPath(), 'utf8')).toBe(`${process.pid}\n`);
    expect(gh.requests.filter((q) => q.server === 'assets')).toHaveLength(0);
  });

  it('gives up (exit 6) on a live holder that makes no progress within the time allowed', async () => {
    fs.writeFileSync(lockPath(), `${process.pid}\n`);
    const err = await download(req({ net: { ...net, maxTotalMs: 300 } })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LockedError);
    expect((err as LockedError).exitCode).toBe(6);
    expect((err as Error).message).toBe(
      `another borg-provision (pid ${process.pid}) is downloading ${path.join(dest, NAME)} and made no progress for 0.3 s: wait for it, or stop it and run again`,
    );
    expect(fs.readdirSync(dest)).toEqual([`${NAME}.part.lock`]);
  });
});
