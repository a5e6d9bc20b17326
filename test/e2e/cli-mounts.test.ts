// Prefixes on real mounts (we run as root here and in CI): a noexec tmpfs is refused before any
// download, naming the mount; a tiny tmpfs that fills up fails cleanly with nothing left on it.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ASSET, useInstallEnv } from '../helpers/install-env';
import { errorLine, install, placeAs } from '../helpers/install-sandbox';
import { requireTool } from '../helpers/tools';

jest.setTimeout(120000);

const mounts: string[] = [];
// Registered before the install environment, so that the mounts go before the sandbox under them.
afterAll(() => {
  for (const m of mounts.reverse()) execFileSync('umount', [m]);
});
const env = useInstallEnv();

function mountTmpfs(dir: string, options: string): string {
  fs.mkdirSync(dir, { recursive: true });
  execFileSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir]);
  mounts.push(dir);
  return dir;
}

beforeAll(() => {
  requireTool('mount', 'mount');
  requireTool('umount', 'mount');
});
beforeAll(async () => {
  expect(process.getuid?.()).toBe(0); // mounting needs root; CI runs the tests as root
  await env.publish('1.4.2', env.fx.oneDirTgz(ASSET, '1.4.2'));
});

test('a prefix on a noexec mount is refused before any download, naming the mount', async () => {
  const mnt = mountTmpfs(path.join(env.sb.root, 'noexec mnt'), 'size=4m,noexec,mode=0755');
  const before = fs.readdirSync(mnt);
  const r = await install(env.sb, ['1.4.2', ...env.api(), '--prefix', path.join(mnt, 'borg')]);
  expect(r.code).toBe(6);
  expect(errorLine(r)).toBe(
    `--prefix ${path.join(mnt, 'borg')} is on a noexec mount (mount ${mnt}), where borg cannot run; ` +
      'choose an exec-capable place with --prefix, e.g. /root/.local/share/borg-provision or a dataset on a pool (/mnt/<pool>/...) on TrueNAS',
  );
  expect(env.gh.requests).toEqual([]);
  expect(fs.readdirSync(mnt)).toEqual(before);
});

test('a read-only prefix is refused too', async () => {
  const mnt = mountTmpfs(path.join(env.sb.root, 'ro mnt'), 'size=1m,ro');
  const r = await install(env.sb, ['1.4.2', ...env.api(), '--prefix', mnt]);
  expect([r.code, errorLine(r)]).toEqual([
    6,
    expect.stringMatching(/^--prefix .* is on a read-only filesystem \(mount .*ro mnt\)/),
  ]);
  expect(env.gh.requests).toEqual([]);
});

test('a full disk fails with exit 6 and leaves nothing on it', async () => {
  const mnt = mountTmpfs(path.join(env.sb.root, 'tiny mnt'), 'size=2m,mode=0755');
  const big = env.fx.oneDirTgz(ASSET, '1.4.2', 'ok', (d) =>
    fs.writeFileSync(path.join(d, '_internal', 'data.bin'), randomBytes(3 << 20)),
  );
  const f = placeAs(big, path.join(env.sb.root, 'full'), ASSET);
  await env.keys.sign(f);
  const r = await install(env.sb, ['1.4.2', '--from', f, ...env.keys.keyFlags, '--prefix', mnt]);
  expect([r.code, errorLine(r)]).toEqual([
    6,
    expect.stringMatching(/^cannot unpack into .*: the disk is full: free space or choose another --prefix$/),
  ]);
  expect(fs.readdirSync(mnt)).toEqual([]);
  expect(fs.existsSync(path.join(env.sb.binDir, 'borg'))).toBe(false);
});

test('a download cache that fills up fails with exit 6, naming the file and what to do; nothing is installed', async () => {
  // The archive is written to the cache as it arrives (synchronously, chunk by chunk): ENOSPC
  // there must end the install as cleanly as a full prefix does.
  const cache = mountTmpfs(path.join(env.sb.root, 'tiny cache'), 'size=1m,mode=0755');
  const big = env.fx.oneDirTgz(ASSET, '1.4.3', 'ok', (d) =>
    fs.writeFileSync(path.join(d, '_internal', 'data.bin'), randomBytes(3 << 20)),
  );
  await env.publish('1.4.3', big);
  const r = await install(env.sb, ['1.4.3', ...env.api()], {
    env: { XDG_CACHE_HOME: cache },
  });
  expect([r.code, errorLine(r)]).toEqual([
    6,
    expect.stringMatching(
      new RegExp(
        `^cannot write ${cache}/borg-provision/.*/${ASSET.replace(/\./g, '\\.')}\\.part: the disk is full: free space or point XDG_CACHE_HOME at a roomier place$`,
      ),
    ),
  ]);
  expect(fs.existsSync(path.join(env.sb.prefix, 'borg-dir-1.4.3'))).toBe(false);
  expect(fs.existsSync(path.join(env.sb.binDir, 'borg'))).toBe(false);
});

test('a download cache that is full before the download starts gets the same advice (exit 6)', async () => {
  const cache = mountTmpfs(path.join(env.sb.root, 'full cache'), 'size=256k,mode=0755');
  try {
    fs.writeFileSync(path.join(cache, 'filler'), randomBytes(512 << 10));
  } catch {
    // ENOSPC: full, as intended
  }
  const r = await install(env.sb, ['1.4.2', ...env.api()], {
    env: { XDG_CACHE_HOME: cache },
  });
  expect([r.code, errorLine(r)]).toEqual([
    6,
    expect.stringMatching(/^cannot .*: the disk is full: free space or point XDG_CACHE_HOME at a roomier place$/),
  ]);
  expect(fs.existsSync(path.join(env.sb.binDir, 'borg'))).toBe(false);
});
