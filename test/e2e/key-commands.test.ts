// `key show` and `key refresh` through the built CLI, against a real HTTP keyserver stand-in on
// 127.0.0.1 that answers the VKS path like keys.openpgp.org does.
import { promises as fs } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import * as openpgp from 'openpgp';
import { PINNED_FINGERPRINT, bundledKeyPath } from '../../src/verify';
import { jsonOf, runCli } from '../helpers/cli';
import { GpgHome, exportPublicKey, genSigningKey, makeGpgHome, run, splitPackets } from '../helpers/gpg';

/** The subkey borg's releases are signed with (a fact of the bundled key; the code trusts any bound signing subkey). */
const BORG_SIGNING_SUBKEY = '2F81AFFBAB04E11FE8EE65D4243ACFA951F78E01';

const VKS = `/vks/v1/by-fingerprint/${PINNED_FINGERPRINT}`;

/** The bundled key as keys.openpgp.org serves an unconfirmed key: no user IDs and their signatures. */
async function withoutUserIds(home: GpgHome, armored: string): Promise<Buffer> {
  const bin = await run('gpg', ['--dearmor'], home.env, armored);
  const kept: Buffer[] = [];
  let inUser = false;
  for (const p of splitPackets(bin)) {
    if (p.tag === 13 || p.tag === 17) inUser = true;
    else if (p.tag !== 2) inUser = false;
    if (!inUser) kept.push(p.bytes);
  }
  return Buffer.concat(kept);
}

describe('key show and key refresh (CLI)', () => {
  let home: GpgHome;
  let dir: string;
  let server: http.Server;
  let base: string;
  const requests: string[] = [];
  const bodies: Record<string, { status: number; body: Buffer | string }> = {};

  beforeAll(async () => {
    home = await makeGpgHome();
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'bp-verify-cli-'));
    const bundled = await fs.readFile(bundledKeyPath(), 'utf8');
    const stranger = await genSigningKey(home, { name: 'Not Borg' });
    bodies[`/good${VKS}`] = { status: 200, body: bundled };
    bodies[`/stripped${VKS}`] = { status: 200, body: await withoutUserIds(home, bundled) };
    bodies[`/wrong${VKS}`] = { status: 200, body: await exportPublicKey(home, stranger.primary, { armor: true }) };
    bodies[`/html${VKS}`] = { status: 200, body: '<html><body>Welcome to the hotel wifi</body></html>' };
    server = http.createServer((req, res) => {
      requests.push(req.url ?? '');
      const hit = bodies[req.url ?? ''];
      res.writeHead(hit?.status ?? 404, { 'content-type': 'application/pgp-keys' });
      res.end(hit?.body ?? 'not found');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }, 30000);

  afterAll(async () => {
    await new Promise((r) => server?.close(r));
    await home?.cleanup();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  /** A fresh HOME and XDG_CONFIG_HOME per test: the real user's config is never touched. */
  async function sandbox(): Promise<{ env: NodeJS.ProcessEnv; cfg: string; stored: string }> {
    const h = await fs.mkdtemp(path.join(dir, 'home-'));
    const cfg = path.join(h, 'config');
    return {
      env: { HOME: h, XDG_CONFIG_HOME: cfg, BORG_PROVISION_NET: 'minBackoffMs=5,maxBackoffMs=10,maxRetries=1' },
      cfg,
      stored: path.join(cfg, 'borg-provision', 'borg-signing-key.asc'),
    };
  }

  async function listTree(d: string): Promise<string[]> {
    return (await fs.readdir(d, { recursive: true }).catch(() => [])).map(String).sort();
  }

  it('key show: the bundled key, verdict first, fingerprint grouped, expired copy', async () => {
    const { env } = await sandbox();
    const r = await runCli(['key', 'show'], { env });
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe("Signing key: borg's pinned key, bundled copy, EXPIRED in this copy on 2024-02-15");
    // The same screen says what that means: still checked, and how to get the current copy.
    const meaning = lines.slice(1, 5).join(' ');
    expect(meaning).toMatch(/Signatures are still\s+checked against this key/);
    expect(meaning).toContain('run `borg-provision key refresh` to get the current copy');
    expect(r.stdout).toContain('fingerprint:  6D5B EF9A DD20 7580 5747  B70F 9F88 FB52 FAF7 B393');
    expect(r.stdout).toMatch(
      /subkey: +2F81 AFFB AB04 E11F E8EE {2}65D4 243A CFA9 51F7 8E01 {2}rsa4096 {2}sign {2}expired 2024-02-15/,
    );
    expect(r.stderr).toBe('');
  });

  it('key show --json', async () => {
    const { env } = await sandbox();
    const j = jsonOf<Record<string, unknown>>(await runCli(['key', 'show', '--json'], { env }));
    expect(j).toMatchObject({
      source: 'bundled',
      pinned: true,
      fingerprint: PINNED_FINGERPRINT,
      expired: true,
      revoked: false,
      algorithm: 'rsa4096',
    });
    expect(j.subkeys).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          fingerprint: BORG_SIGNING_SUBKEY,
          capabilities: ['sign'],
          bound: true,
          revoked: false,
          expired: true,
        }),
      ]),
    );
  });

  it('key refresh stores the pinned key atomically; key show then uses the refreshed copy', async () => {
    const { env, cfg, stored } = await sandbox();
    const r = await runCli(['key', 'refresh', '--keyserver', `${base}/good`], { env });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Refreshed: borg's signing key 6D5B EF9A/);
    expect(requests).toContain(`/good${VKS}`);
    expect(await listTree(cfg)).toEqual(['borg-provision', 'borg-provision/borg-signing-key.asc']);
    const keys = await openpgp.readKeys({ armoredKeys: await fs.readFile(stored, 'utf8') });
    expect(keys.map((k) => k.getFingerprint().toUpperCase())).toEqual([PINNED_FINGERPRINT]);

    const show = jsonOf<{ source: string; path: string }>(await runCli(['key', 'show', '--json'], { env }));
    expect(show).toMatchObject({ source: 'refreshed', path: stored });

    const again = jsonOf<{ changed: boolean }>(
      await runCli(['key', 'refresh', '--json', '--keyserver', `${base}/good`], { env }),
    );
    expect(again.changed).toBe(false);
  });

  it('key refresh merges a key served without user IDs into the bundled copy (keys.openpgp.org style), under ~/.config', async () => {
    const { env } = await sandbox();
    const homeOnly = { HOME: env.HOME, XDG_CONFIG_HOME: '' };
    const r = await runCli(['key', 'refresh', '--keyserver', `${base}/stripped/`], { env: homeOnly });
    expect(r.code).toBe(0);
    const stored = path.join(env.HOME as string, '.config', 'borg-provision', 'borg-signing-key.asc');
    const show = jsonOf<{ source: string; path: string; userIds: string[] }>(
      await runCli(['key', 'show', '--json'], { env: homeOnly }),
    );
    expect(show.source).toBe('refreshed');
    expect(show.path).toBe(stored);
    expect(show.userIds).toHaveLength(4);
  });

  it('key refresh merges into an existing refreshed copy instead of replacing it', async () => {
    const { env, stored } = await sandbox();
    await fs.mkdir(path.dirname(stored), { recursive: true });
    await fs.copyFile(bundledKeyPath(), stored);
    const r = await runCli(['key', 'refresh', '--json', '--keyserver', `${base}/stripped`], { env });
    expect(r.code).toBe(0);
    expect(jsonOf<{ changed: boolean; key: { source: string; userIds: string[] } }>(r)).toMatchObject({
      changed: false,
      key: { source: 'refreshed', userIds: expect.arrayContaining(['Thomas Waldmann <tw@waldmann-edv.de>']) },
    });
  });

  it('key refresh refuses a key with another primary fingerprint: exit 5, one line, nothing written', async () => {
    const { env, cfg } = await sandbox();
    const r = await runCli(['key', 'refresh', '--keyserver', `${base}/wrong`], { env });
    expect(r.code).toBe(5);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(
      /^borg-provision: error: .*served key [0-9A-F]{40}, not borg's pinned key 6D5BEF9A.*nothing was written/,
    );
    expect(await listTree(cfg)).toEqual([]);
  });

  it('key refresh keeps an existing copy untouched when the new answer is refused', async () => {
    const { env, stored, cfg } = await sandbox();
    await fs.mkdir(path.dirname(stored), { recursive: true });
    await fs.copyFile(bundledKeyPath(), stored);
    const before = await fs.readFile(stored);
    const r = await runCli(['key', 'refresh', '--keyserver', `${base}/wrong`], { env });
    expect(r.code).toBe(5);
    expect(await fs.readFile(stored)).toEqual(before);
    expect(await listTree(cfg)).toEqual(['borg-provision', 'borg-provision/borg-signing-key.asc']);
  });

  it.each([
    ['a 404', '/missing', /has no key 6D5BEF9A/],
    ['an HTML page', '/html', /did not answer with an OpenPGP key/],
  ])('key refresh answers %s with exit 4 and writes nothing', async (_what, sub, re) => {
    const { env, cfg } = await sandbox();
    const r = await runCli(['key', 'refresh', '--keyserver', `${base}${sub}`], { env });
    expect(r.code).toBe(4);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(re);
    expect(await listTree(cfg)).toEqual([]);
  });

  it('key refresh answers a refused connection with exit 4', async () => {
    const { env, cfg } = await sandbox();
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const r = await runCli(['key', 'refresh', '--keyserver', `http://127.0.0.1:${port}`], { env });
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(
      /^borg-provision: error: cannot refresh the signing key from http:\/\/127\.0\.0\.1:\d+\/vks\/v1\/by-fingerprint\/6D5B.*ECONNREFUSED/,
    );
    expect(await listTree(cfg)).toEqual([]);
  });

  it('key refresh answers an unwritable config directory with exit 6 and leaves no temp file', async () => {
    const { env, cfg } = await sandbox();
    await fs.mkdir(cfg, { recursive: true });
    await fs.writeFile(path.join(cfg, 'borg-provision'), 'a file where the directory should be');
    const r = await runCli(['key', 'refresh', '--keyserver', `${base}/good`], { env });
    expect(r.code).toBe(6);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^borg-provision: error: cannot write .*borg-provision\/borg-signing-key\.asc/);
    expect(await listTree(cfg)).toEqual(['borg-provision']);
  });

  it('key refresh refuses a keyserver that is not an http(s) URL (exit 2)', async () => {
    const { env } = await sandbox();
    const r = await runCli(['key', 'refresh', '--keyserver', 'ftp://keys.example.org'], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--keyserver must be an http\(s\) URL/);
  });

  it('key show --signing-key warns every time; a missing key file is exit 2', async () => {
    const { env } = await sandbox();
    const other = await genSigningKey(home, { name: 'Private Mirror' });
    const file = path.join(dir, 'mirror.asc');
    await fs.writeFile(file, await exportPublicKey(home, other.primary, { armor: true }));
    const r = await runCli(['key', 'show', '--json', '--signing-key', file, '--fingerprint', other.primary], { env });
    expect(r.code).toBe(0);
    expect(jsonOf<{ source: string; pinned: boolean }>(r)).toMatchObject({ source: 'custom', pinned: false });
    expect(r.stderr).toMatch(/^borg-provision: warning: trusting signing key .* instead of borg's pinned key/);

    const missing = await runCli(['key', 'show', '--signing-key', path.join(dir, 'nope.asc')], { env });
    expect(missing.code).toBe(2);
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);
    expect(missing.stderr).toMatch(/cannot read signing key .*nope\.asc: no such file/);
  });
});
