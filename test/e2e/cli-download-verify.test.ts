// A release download as install verifies it: every refusal must hold on a download as on a local
// file, with the same
// exit code, one-line message and nothing changed; and a download that is cut and resumed, or
// started over, must be verified over the whole file from byte 0.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { jsonOf } from '../helpers/cli';
import { transplantSubkey } from '../helpers/gpg';
import { errorLine, install } from '../helpers/install-sandbox';
import { ASSET, useInstallEnv } from '../helpers/install-env';

jest.setTimeout(120000);

const env = useInstallEnv();
let tags = 0;

/** A version no release has yet: each test publishes its own. */
function nextTag(): string {
  return `1.4.${10 + ++tags}`;
}

/** Publishes `tgz` with its signature `asc` under `tag`; returns the tag. */
function publish(tag: string, tgz: string, asc: Buffer): string {
  env.gh.addRelease(tag, [
    { name: ASSET, body: fs.readFileSync(tgz) },
    { name: `${ASSET}.asc`, body: asc },
  ]);
  return tag;
}

/** The archive's path on the asset server, where faults apply (so they hit it, not the .asc). */
async function archivePath(tag: string): Promise<string> {
  const rel = (await (await fetch(`${env.gh.apiUrl}/repos/${env.gh.repo}/releases/tags/${tag}`)).json()) as {
    assets: { id: number; name: string }[];
  };
  const id = rel.assets.find((a) => a.name === ASSET)!.id;
  expect(id).toBeGreaterThan(9); // `match` is a substring test: /assets/1 would match /assets/12 too
  return `/assets/${id}`;
}

/** Big enough (~600 KB, incompressible) that most of it reaches the .part before an early close. */
function bigArchive(version: string): string {
  return env.fx.oneDirTgz(ASSET, version, 'ok', (dir) =>
    fs.writeFileSync(path.join(dir, '_internal', 'noise.bin'), randomBytes(600_000)),
  );
}

async function signed(tgz: string, by?: string, o: { digest?: 'SHA1' } = {}): Promise<Buffer> {
  return fs.readFileSync(await env.keys.sign(tgz, by, o));
}

beforeAll(async () => {
  // Nine unrelated assets first: every asset id used below then has two digits (see archivePath).
  env.gh.addRelease(
    '0.0.1',
    Array.from({ length: 9 }, (_, i) => ({ name: `other-${i}.txt`, body: Buffer.from('x') })),
  );
  const first = env.fx.oneDirTgz(ASSET, '1.4.1');
  await env.publish('1.4.1', first);
  const r = await install(env.sb, ['1.4.1', ...env.api()]);
  expect(r.code).toBe(0);
});

async function expectRefusal(tag: string, flags: string[], code: number, message: RegExp): Promise<void> {
  const before = env.sb.snapshot();
  const r = await install(env.sb, [tag, '--api-url', env.gh.apiUrl, ...flags]);
  expect({ code: r.code, line: errorLine(r) }).toEqual({ code, line: expect.stringMatching(message) });
  expect(r.stderr).not.toMatch(/\n\s+at /);
  expect(env.sb.snapshot()).toEqual(before);
  expect(execFileSync(path.join(env.sb.binDir, 'borg'), ['-V'], { encoding: 'utf8' })).toBe('borg.exe 1.4.1\n');
}

describe('refusals while verifying a download', () => {
  test('a tampered archive: BAD signature, exit 5', async () => {
    const tag = nextTag();
    const tgz = env.fx.oneDirTgz(ASSET, tag);
    const asc = await signed(tgz);
    const bad = fs.readFileSync(tgz);
    bad[bad.length - 30] ^= 0xff;
    const tampered = path.join(env.sb.root, 'tampered.tgz');
    fs.writeFileSync(tampered, bad);
    await expectRefusal(
      publish(tag, tampered, asc),
      env.keys.keyFlags,
      5,
      /^BAD signature: .*borg-linux-glibc231-x86_64\.tgz does not match .*\.asc/,
    );
  });

  test('a signature by another key, exit 5', async () => {
    const tag = nextTag();
    const tgz = env.fx.oneDirTgz(ASSET, tag);
    await expectRefusal(
      publish(tag, tgz, await signed(tgz, env.keys.other.subkey)),
      env.keys.keyFlags,
      5,
      /was made by .*, which is not a key of the trusted signing key/,
    );
  });

  test('a signature by another key stops a download that has not finished: exit 5 at once', async () => {
    const tag = nextTag();
    const tgz = bigArchive(tag);
    publish(tag, tgz, await signed(tgz, env.keys.other.subkey));
    // The archive stalls after 2000 bytes: only stopping the download lets the install end soon.
    env.gh.setFault({ kind: 'stall', afterBytes: 2000, match: await archivePath(tag), times: 5 });
    const t0 = Date.now();
    try {
      await expectRefusal(tag, env.keys.keyFlags, 5, /was made by .*, which is not a key of the trusted signing key/);
    } finally {
      env.gh.clearFaults();
    }
    expect(Date.now() - t0).toBeLessThan(10000);
  });

  test('a SHA-1 signature, exit 5', async () => {
    const tag = nextTag();
    const tgz = env.fx.oneDirTgz(ASSET, tag);
    await expectRefusal(
      publish(tag, tgz, await signed(tgz, undefined, { digest: 'SHA1' })),
      env.keys.keyFlags,
      5,
      /made with SHA1, which is too weak/,
    );
  });

  test('a subkey without a valid binding, exit 5', async () => {
    const tag = nextTag();
    const tgz = env.fx.oneDirTgz(ASSET, tag);
    publish(tag, tgz, await signed(tgz, env.keys.other.subkey));
    const keyFile = path.join(env.sb.root, 'grafted.gpg');
    fs.writeFileSync(
      keyFile,
      transplantSubkey(
        await env.keys.exportKey(env.keys.mirror.primary),
        await env.keys.exportKey(env.keys.other.primary),
      ),
    );
    await expectRefusal(
      tag,
      ['--signing-key', keyFile, '--fingerprint', env.keys.mirror.primary],
      5,
      /is not a valid signing key of/,
    );
  });

  test('a revoked key, exit 5', async () => {
    const revoked = await env.keys.genKey('Revoked');
    const tag = nextTag();
    const tgz = env.fx.oneDirTgz(ASSET, tag);
    publish(tag, tgz, await signed(tgz, revoked.subkey));
    await env.keys.revoke(revoked.primary);
    const keyFile = path.join(env.sb.root, 'revoked.asc');
    fs.writeFileSync(keyFile, await env.keys.exportKey(revoked.primary, true));
    await expectRefusal(
      tag,
      ['--signing-key', keyFile, '--fingerprint', revoked.primary],
      5,
      /is revoked: refusing its signatures/,
    );
  });
});

describe('a download that does not arrive in one piece is verified whole', () => {
  afterEach(() => env.gh.clearFaults());

  test('cut short and resumed with a Range request', async () => {
    const tag = nextTag();
    const tgz = bigArchive(tag);
    publish(tag, tgz, await signed(tgz));
    const size = fs.statSync(tgz).size;
    // Closed cleanly 1000 bytes early; the bytes that reached the .part are kept, the rest asked for.
    env.gh.setFault({ kind: 'short', missingBytes: 1000, match: await archivePath(tag) });
    const seen = env.gh.requests.length;
    const r = await install(env.sb, [tag, ...env.api(), '--json']);
    expect(r.code).toBe(0);
    const ranges = env.gh.requests
      .slice(seen)
      .filter((q) => q.server === 'assets' && q.headers.range)
      .map((q) => q.headers.range);
    expect(ranges).toHaveLength(1);
    const from = Number(/^bytes=(\d+)-$/.exec(ranges[0] ?? '')?.[1]);
    expect(from).toBeGreaterThan(0);
    expect(from).toBeLessThanOrEqual(size - 1000);
    expect(jsonOf<{ verification: { status: string; sha256: string } }>(r).verification).toEqual(
      expect.objectContaining({
        status: 'good',
        sha256: execFileSync('sha256sum', [tgz], { encoding: 'utf8' }).split(' ')[0],
      }),
    );
  });

  test('started over when the server ignores the range; a stale .part never counts', async () => {
    const tag = nextTag();
    const tgz = bigArchive(tag);
    publish(tag, tgz, await signed(tgz));
    const seen = env.gh.requests.length;
    env.gh.setFault({ kind: 'short', missingBytes: 1000, match: await archivePath(tag) });
    env.gh.setFault({ kind: 'ignore-range', match: await archivePath(tag) });
    const r = await install(env.sb, [tag, ...env.api(), '--json']);
    expect(r.code).toBe(0);
    expect(jsonOf<{ verification: { status: string } }>(r).verification.status).toBe('good');
    // Both faults struck: a resume was asked for, and answered with the whole file from 0.
    expect(env.gh.requests.slice(seen).filter((q) => q.server === 'assets' && q.headers.range).length).toBe(1);
    expect(execFileSync(path.join(env.sb.binDir, 'borg'), ['-V'], { encoding: 'utf8' })).toBe(`borg.exe ${tag}\n`);
  });

  test('an installed download leaves the cache, unless --keep-download; a kept one is verified again, from the file', async () => {
    const cacheOf = (tag: string): string => path.join(env.sb.env.XDG_CACHE_HOME!, 'borg-provision', tag);
    const dropped = nextTag();
    const first = env.fx.oneDirTgz(ASSET, dropped);
    publish(dropped, first, await signed(first));
    expect((await install(env.sb, [dropped, ...env.api()])).code).toBe(0);
    expect(fs.existsSync(cacheOf(dropped))).toBe(false);

    const tag = nextTag();
    const tgz = env.fx.oneDirTgz(ASSET, tag);
    publish(tag, tgz, await signed(tgz));
    expect((await install(env.sb, [tag, ...env.api(), '--keep-download'])).code).toBe(0);
    expect(fs.readdirSync(cacheOf(tag)).sort()).toEqual([
      ASSET,
      `${ASSET}.asc`,
      `${ASSET}.asc.sha256`,
      `${ASSET}.sha256`,
    ]);
    const count = (): number => env.gh.requests.filter((q) => q.server === 'assets').length;
    const before = count();
    const r = await install(env.sb, [
      tag,
      '--api-url',
      env.gh.apiUrl,
      ...env.keys.keyFlags,
      '--force',
      '--json',
      '--keep-download',
    ]);
    expect(r.code).toBe(0);
    expect(jsonOf<{ verification: { status: string } }>(r).verification.status).toBe('good');
    expect(count()).toBe(before); // both files came from the cache, and were verified from disk
  });
});
