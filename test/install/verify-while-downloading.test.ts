// In-process: a fresh download is verified by the worker that followed it (no second read of the
// archive); a cached one, or a --from file, is verified from disk. Both give the same verdict.
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { install, type InstallOptions } from '../../src/install/pipeline';
import { resolveTargetFromFlags, type ResolvedTarget } from '../../src/cli/target-flags';
import { StreamVerifier } from '../../src/verify/stream-client';
import { BorgFixtures } from '../helpers/borg-fixture';
import { startGithubServer, type GithubServer } from '../helpers/github-server';
import { makeKeys, makeSandbox, placeAs, type Keys, type Sandbox } from './sandbox';

jest.setTimeout(120000);

const ASSET = 'borg-linux-glibc231-x86_64.tgz';
let fx: BorgFixtures;
let sb: Sandbox;
let keys: Keys;
let gh: GithubServer;
let target: ResolvedTarget;
let archiveBytes: string;
const savedEnv = { ...process.env };

beforeAll(async () => {
  fx = new BorgFixtures();
  sb = makeSandbox();
  Object.assign(process.env, sb.env); // the cache and config directories: never the real user's
  keys = await makeKeys(sb.root);
  target = await resolveTargetFromFlags({});
  gh = await startGithubServer();
  const tgz = fx.oneDirTgz(ASSET, '1.4.2');
  archiveBytes = tgz;
  gh.addRelease('1.4.2', [
    { name: ASSET, body: fs.readFileSync(tgz) },
    { name: `${ASSET}.asc`, body: fs.readFileSync(await keys.sign(tgz)) },
  ]);
});
afterAll(async () => {
  process.env = savedEnv;
  await gh.close();
  await keys.home.cleanup();
  fx.cleanup();
  sb.cleanup();
});
afterEach(() => jest.restoreAllMocks());

const opts = (o: Partial<InstallOptions>): InstallOptions => ({
  prefix: sb.prefix,
  binDir: sb.binDir,
  target,
  signingKey: keys.mirrorFile,
  fingerprint: keys.mirror.primary,
  apiUrl: gh.apiUrl,
  ...o,
});

test('a fresh download: the following worker gives the verdict, the file is not read again for it', async () => {
  const follow = jest.spyOn(StreamVerifier.prototype, 'follow');
  const fromFile = jest.spyOn(StreamVerifier.prototype, 'verifyFile');
  const r = await install(opts({ version: '1.4.2' }));
  expect(r.action).toBe('installed');
  expect(r.verification).toMatchObject({ status: 'good', signingFingerprint: keys.mirror.subkey });
  expect(follow).toHaveBeenCalledTimes(1);
  expect(fromFile).not.toHaveBeenCalled();
  // Bound to the bytes by the download's own SHA-256 of what it handed the worker.
  expect(r.verification!.sha256).toBe(createHash('sha256').update(fs.readFileSync(archiveBytes)).digest('hex'));
});

test('a cached download is verified from the file', async () => {
  const follow = jest.spyOn(StreamVerifier.prototype, 'follow');
  const fromFile = jest.spyOn(StreamVerifier.prototype, 'verifyFile');
  const r = await install(opts({ version: '1.4.2', force: true }));
  expect(r.action).toBe('reinstalled');
  expect(r.verification).toMatchObject({ status: 'good' });
  expect(follow).not.toHaveBeenCalled();
  expect(fromFile).toHaveBeenCalledTimes(1);
});

test('--from a signed file is verified from the file', async () => {
  const dest = placeAs(fx.oneDirTgz(ASSET, '1.4.3'), path.join(sb.root, 'from'), ASSET);
  await keys.sign(dest);
  const fromFile = jest.spyOn(StreamVerifier.prototype, 'verifyFile');
  const r = await install(opts({ version: '1.4.3', from: dest }));
  expect(r.verification).toMatchObject({ status: 'good' });
  expect(fromFile).toHaveBeenCalledWith(dest, `${dest}.asc`);
});

/** Publishes a ~7 MiB build (more than the worker is ever sent ahead of its hash) as `tag`. */
async function publishBig(tag: string): Promise<number> {
  const tgz = fx.oneDirTgz(ASSET, tag, 'ok', (dir) => fs.writeFileSync(path.join(dir, '_internal', 'noise.bin'), randomBytes(7 << 20)));
  gh.addRelease(tag, [
    { name: ASSET, body: fs.readFileSync(tgz) },
    { name: `${ASSET}.asc`, body: fs.readFileSync(await keys.sign(tgz)) },
  ]);
  const rel = (await (await fetch(`${gh.apiUrl}/repos/${gh.repo}/releases/tags/${tag}`)).json()) as { assets: { id: number; name: string }[] };
  return rel.assets.find((a) => a.name === ASSET)!.id;
}

const quickRetries = { minBackoffMs: 10, maxBackoffMs: 50 };

/** Spies on StreamVerifier.follow and counts how often the download had to wait for the worker. */
function countWaits(): { follow: jest.SpyInstance; waits: () => number } {
  const original = StreamVerifier.prototype.follow;
  let waits = 0;
  const follow = jest.spyOn(StreamVerifier.prototype, 'follow').mockImplementation(function (this: StreamVerifier, file: string) {
    const session = original.call(this, file);
    const ready = session.ready.bind(session);
    session.ready = () => {
      waits++;
      return ready();
    };
    return session;
  });
  return { follow, waits: () => waits };
}

test('a late signature: the archive waits for it, then is verified as it downloaded, a resumed .part too', async () => {
  const id = await publishBig('1.4.5');
  // The .asc comes a second late (429, Retry-After: 1); the archive's first connection is cut.
  gh.setFault({ kind: 'retry-after', seconds: 1, on: 'api', match: `${ASSET}.asc` });
  gh.setFault({ kind: 'cut', afterBytes: 5 << 20, match: `/assets/${id}` });
  const { follow, waits } = countWaits();
  const fromFile = jest.spyOn(StreamVerifier.prototype, 'verifyFile');
  const r = await install(opts({ version: '1.4.5', net: quickRetries }));
  expect(r).toMatchObject({ action: 'installed', verification: { status: 'good' } });
  expect(follow).toHaveBeenCalledTimes(2); // the cut attempt, then the resumed one
  expect(waits()).toBeGreaterThan(0); // held a few MiB ahead of the check, not buffered
  expect(fromFile).not.toHaveBeenCalled();
  expect(gh.requests.some((q) => q.server === 'assets' && q.path.startsWith(`/assets/${id}`) && q.headers.range)).toBe(true);
});

test('a signature later than the follower waits: the download goes on, and the file is verified from disk', async () => {
  await publishBig('1.4.6');
  gh.setFault({ kind: 'retry-after', seconds: 1, on: 'api', match: `${ASSET}.asc` });
  const { follow, waits } = countWaits();
  const fromFile = jest.spyOn(StreamVerifier.prototype, 'verifyFile');
  const verifier = new StreamVerifier({ keyFile: keys.mirrorFile, fingerprint: keys.mirror.primary, followStallMs: 150 });
  const r = await install(opts({ version: '1.4.6', net: quickRetries, verifier }));
  expect(r).toMatchObject({ action: 'installed', verification: { status: 'good' } });
  expect(waits()).toBeGreaterThan(0);
  expect(follow.mock.results[0].value).toMatchObject({ abandoned: true, complete: false });
  expect(fromFile).toHaveBeenCalledTimes(1);
});
