// `install --from` end to end through the real CLI: the air-gapped path, every refusal with its
// exit code and one-line message, and "nothing changed on disk" by a before/after snapshot.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { jsonOf } from '../helpers/cli';
import { exportPublicKey, genSigningKey, signDetached, transplantSubkey } from '../helpers/gpg';
import { ASSET, useInstallEnv } from '../helpers/install-env';
import { cli, errorLine, install, makeSandbox, placeAs } from '../helpers/install-sandbox';

jest.setTimeout(120000);

const env = useInstallEnv({ github: false });
let n = 0;

/** A fresh directory holding `file` under the release asset name, signed (unless sign: false). */
async function release(
  file: string,
  o: { name?: string; sign?: boolean | string; digest?: 'SHA1' } = {},
): Promise<string> {
  const dest = placeAs(file, path.join(env.sb.root, 'assets', `r${++n}`), o.name ?? ASSET);
  if (o.sign !== false)
    await env.keys.sign(dest, typeof o.sign === 'string' ? o.sign : undefined, { digest: o.digest });
  return dest;
}

beforeAll(async () => {
  // The user already has 1.4.1 working: every refusal below must leave it exactly so.
  const first = await install(env.sb, [
    '1.4.1',
    '--from',
    await release(env.fx.oneDirTgz(ASSET, '1.4.1')),
    ...env.keys.keyFlags,
  ]);
  expect(first.code).toBe(0);
});

async function expectRefusal(args: string[], code: number, message: RegExp): Promise<void> {
  const before = env.sb.snapshot();
  const r = await install(env.sb, args);
  expect({ code: r.code, line: errorLine(r) }).toEqual({ code, line: expect.stringMatching(message) });
  expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
  expect(env.sb.snapshot()).toEqual(before);
  expect(execFileSync(path.join(env.sb.binDir, 'borg'), ['-V'], { encoding: 'utf8' })).toBe('borg.exe 1.4.1\n');
}

describe('refusals leave the previous install untouched', () => {
  test('tampered archive', async () => {
    const f = await release(env.fx.oneDirTgz(ASSET, '1.4.2'));
    const buf = fs.readFileSync(f);
    buf[buf.length - 30] ^= 0xff;
    fs.writeFileSync(f, buf);
    await expectRefusal(['1.4.2', '--from', f, ...env.keys.keyFlags], 5, /signature|digest|hash/i);
  });

  test('a failed first install into a new prefix leaves no empty prefix behind', async () => {
    const f = await release(env.fx.oneDirTgz(ASSET, '1.4.2'), { sign: env.keys.other.subkey });
    const fresh = path.join(env.sb.root, 'fresh', 'new prefix');
    const r = await install(env.sb, ['1.4.2', '--from', f, ...env.keys.keyFlags, '--prefix', fresh]);
    expect(r.code).toBe(5);
    expect(fs.existsSync(path.join(env.sb.root, 'fresh'))).toBe(false);
  });

  test('signature by another key', async () => {
    const f = await release(env.fx.oneDirTgz(ASSET, '1.4.2'), { sign: env.keys.other.subkey });
    await expectRefusal(['1.4.2', '--from', f, ...env.keys.keyFlags], 5, /signature|key/i);
  });

  test('signature by a subkey without a valid binding', async () => {
    const f = await release(env.fx.oneDirTgz(ASSET, '1.4.2'), { sign: env.keys.other.subkey });
    const grafted = transplantSubkey(
      await env.keys.exportKey(env.keys.mirror.primary),
      await env.keys.exportKey(env.keys.other.primary),
    );
    const keyFile = path.join(env.sb.root, 'grafted.gpg');
    fs.writeFileSync(keyFile, grafted);
    await expectRefusal(
      ['1.4.2', '--from', f, '--signing-key', keyFile, '--fingerprint', env.keys.mirror.primary],
      5,
      /subkey|binding|key/i,
    );
  });

  test('revoked key', async () => {
    const revoked = await env.keys.genKey('Revoked');
    const f = await release(env.fx.oneDirTgz(ASSET, '1.4.2'), { sign: revoked.subkey });
    await env.keys.revoke(revoked.primary);
    const keyFile = path.join(env.sb.root, 'revoked.asc');
    fs.writeFileSync(keyFile, await env.keys.exportKey(revoked.primary, true));
    await expectRefusal(
      ['1.4.2', '--from', f, '--signing-key', keyFile, '--fingerprint', revoked.primary],
      5,
      /revoked/i,
    );
  });

  test('SHA-1 signature', async () => {
    const f = await release(env.fx.oneDirTgz(ASSET, '1.4.2'), { digest: 'SHA1' });
    await expectRefusal(['1.4.2', '--from', f, ...env.keys.keyFlags], 5, /SHA-?1/i);
  });

  test('missing .asc', async () => {
    const f = await release(env.fx.oneDirTgz(ASSET, '1.4.2'), { sign: false });
    await expectRefusal(
      ['1.4.2', '--from', f, ...env.keys.keyFlags],
      5,
      /^borg-linux-glibc231-x86_64\.tgz has no signature \(.*\.asc is missing\)/,
    );
  });

  test('unsigned -gh build without --allow-unsigned', async () => {
    const f = await release(env.fx.oneDirTgz(ASSET, '1.4.2'), {
      sign: false,
      name: 'borg-linux-glibc235-x86_64-gh.tgz',
    });
    await expectRefusal(
      ['1.4.2', '--from', f, ...env.keys.keyFlags],
      5,
      /has no signature.*--allow-unsigned accepts a -gh build unverified/,
    );
  });

  const escaping: [string, () => string, RegExp][] = [
    ['a ".." entry', () => env.fx.dotDotTgz('x.tgz'), /"\.\.\/evil" escapes the install directory/],
    [
      'an absolute path',
      () => env.fx.absoluteTgz('x.tgz', path.join(env.sb.root, 'outside', 'abs')),
      /escapes the install directory \(absolute path\)/,
    ],
    [
      'a symlink pointing out, written through',
      () => env.fx.symlinkOutTgz('x.tgz', path.join(env.sb.root, 'outside')),
      /symlink to absolute path/,
    ],
    ['a symlink written through', () => env.fx.symlinkThroughTgz('x.tgz'), /written through the symlink/],
    ['a hard link out', () => env.fx.hardlinkOutTgz('x.tgz', '/etc/passwd'), /escapes the install directory/],
    ['a device file', () => env.fx.deviceTgz('x.tgz'), /is a character device/],
  ];
  test.each(escaping)('signed archive with %s', async (_name, make, message) => {
    const f = await release(make());
    await expectRefusal(['1.4.2', '--from', f, ...env.keys.keyFlags], 5, message);
    expect(fs.existsSync(path.join(env.sb.root, 'outside', 'abs'))).toBe(false);
    expect(fs.existsSync(path.join(env.sb.root, 'assets', 'evil'))).toBe(false);
  });

  test('an ELF needing GLIBC_2.99', async () => {
    const f = await release(env.fx.needsGlibc299(ASSET, '1.4.2'));
    await expectRefusal(
      ['1.4.2', '--from', f, ...env.keys.keyFlags],
      5,
      /^_internal\/libfixture\.so needs GLIBC_2\.99 \(from libc\.so\.6\) but the target has glibc 2\.\d+/,
    );
  });

  test('a build needing a newer glibc than --glibc', async () => {
    const f = await release(env.fx.oneDirTgz(ASSET, '1.4.2'));
    await expectRefusal(
      ['1.4.2', '--from', f, '--glibc', '2.31', '--arch', 'x86_64', ...env.keys.keyFlags],
      5,
      /needs GLIBC_2\.34 .* target has glibc 2\.31/,
    );
  });

  test('--arch takes the shared aliases (aarch64 -> arm64); an unknown arch or glibc is exit 2', async () => {
    const f = await release(env.fx.oneDirTgz(ASSET, '1.4.2'));
    const plan = await install(env.sb, [
      '1.4.2',
      '--from',
      f,
      '--glibc',
      '2.36',
      '--arch',
      'aarch64',
      '--dry-run',
      '--json',
      ...env.keys.keyFlags,
    ]);
    expect(plan.code).toBe(0);
    expect(jsonOf<{ plan: { target: unknown } }>(plan).plan.target).toEqual({ glibc: '2.36', arch: 'arm64' });
    await expectRefusal(
      ['1.4.2', '--from', f, '--arch', 'sparc', ...env.keys.keyFlags],
      2,
      /^--arch sparc is not an arch we know: use one of /,
    );
    await expectRefusal(
      ['1.4.2', '--from', f, '--glibc', '2', ...env.keys.keyFlags],
      2,
      /^--glibc 2 is not a glibc release/,
    );
  });

  test('a failing smoke test rolls back', async () => {
    const f = await release(env.fx.oneDirTgz(ASSET, '1.4.2', 'fail'));
    await expectRefusal(
      ['1.4.2', '--from', f, ...env.keys.keyFlags],
      6,
      /did not run .*; not activated: borg 1\.4\.1 stays current/,
    );
  });

  test('a build artifact whose SHA-256 does not match its manifest', async () => {
    const f = env.fx.buildArtifact('1.4.2', { wrongSha: true });
    await expectRefusal(['--from', f], 5, /borg-dir-1\.4\.2\.tgz does not match its build manifest/);
  });

  test('no version and no --from', async () => {
    await expectRefusal([], 2, /^give the borg version to install, e.g\. borg-provision install 1\.4\.2$/);
  });

  test('--from a missing path, a bad version', async () => {
    await expectRefusal(['1.4.2', '--from', path.join(env.sb.root, 'nope.tgz')], 2, /no such file or directory/);
    await expectRefusal(['1.4.2; rm -rf /', '--from', path.join(env.sb.root, 'nope.tgz')], 2, /is not a borg version/);
  });

  test('--json refusals print the error object, and no PATH warning before an unrelated error', async () => {
    const f = await release(env.fx.oneDirTgz(ASSET, '1.4.2'), { sign: false });
    const before = env.sb.snapshot();
    const r = await install(env.sb, ['1.4.2', '--from', f, '--json'], { env: { PATH: '/usr/bin:/bin' } });
    expect(r.code).toBe(5);
    expect(JSON.parse(r.stdout)).toEqual({
      error: { kind: 'signature', exitCode: 5, message: expect.stringMatching(/has no signature/) },
    });
    expect(r.stderr).not.toContain('is not on PATH');
    expect(env.sb.snapshot()).toEqual(before);
  });

  test('a bin-dir off PATH is warned about after the install that put the wrapper there, not on --dry-run or "already installed"', async () => {
    const own = makeSandbox(); // its own prefix and bin-dir: the other tests' versions stay as they are
    try {
      const f = await release(env.fx.oneDirTgz(ASSET, '1.6.1'));
      const offPath = { env: { PATH: '/usr/bin:/bin' } };
      const warning = `borg-provision: warning: ${own.binDir} is not on PATH: add it, or run ${path.join(own.binDir, 'borg')} by its full path`;
      const dry = await install(own, ['1.6.1', '--from', f, '--dry-run', ...env.keys.keyFlags], offPath);
      expect([dry.code, dry.stderr.includes('is not on PATH')]).toEqual([0, false]);
      const done = await install(own, ['1.6.1', '--from', f, ...env.keys.keyFlags], offPath);
      expect(done.code).toBe(0);
      expect(done.stderr).toContain(warning);
      const again = await install(own, ['1.6.1', '--from', f, ...env.keys.keyFlags], offPath);
      expect([again.code, again.stderr.includes('is not on PATH')]).toEqual([0, false]);
    } finally {
      own.cleanup();
    }
  });

  test('--dry-run prints the plan and writes nothing', async () => {
    const f = await release(env.fx.oneDirTgz(ASSET, '1.4.2'));
    const before = env.sb.snapshot();
    const r = await install(env.sb, ['1.4.2', '--from', f, '--dry-run', ...env.keys.keyFlags]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^would install borg 1\.4\.2 from borg-linux-glibc231-x86_64\.tgz \(file, onedir\)/);
    expect(r.stdout).toContain('nothing was written (--dry-run)');
    expect(env.sb.snapshot()).toEqual(before);
  });
});

describe('installs from local files', () => {
  test('signed asset: installed, current, listed with its verdict; same version again is a no-op', async () => {
    const f = await release(env.fx.oneDirTgz(ASSET, '1.4.2'));
    const r = await install(env.sb, ['1.4.2', '--from', path.dirname(f), ...env.keys.keyFlags, '--json']);
    expect(r.code).toBe(0);
    const j = jsonOf<{ action: string; smoke: string; verification: { status: string; primaryFingerprint: string } }>(
      r,
    );
    expect(j).toMatchObject({
      action: 'installed',
      smoke: 'borg.exe 1.4.2',
      verification: { status: 'good', primaryFingerprint: env.keys.mirror.primary },
    });
    expect(r.stderr).toMatch(/warning: trusting signing key .* instead of borg's pinned key/);

    const before = env.sb.snapshot();
    const again = await install(env.sb, ['1.4.2', '--from', f, ...env.keys.keyFlags]);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/borg 1\.4\.2 is already installed .* and current; --force reinstalls it/);
    expect(env.sb.snapshot()).toEqual(before);

    const list = jsonOf<{
      current: string;
      versions: { version: string; current: boolean; source: string; signer: { verdict: string } }[];
    }>(await cli(env.sb, ['list', '--json']));
    expect(list.current).toBe('1.4.2');
    expect(list.versions.map((v) => [v.version, v.current, v.source, v.signer.verdict])).toEqual([
      ['1.4.1', false, 'file', 'good'],
      ['1.4.2', true, 'file', 'good'],
    ]);
  });

  test('--force reinstalls; use switches back with a smoke test; uninstall refuses the current one', async () => {
    const f = await release(env.fx.oneDirTgz(ASSET, '1.4.2'));
    const exe = path.join(env.sb.prefix, 'borg-dir-1.4.2', 'borg.exe');
    const ino = fs.statSync(exe).ino;
    const r = await install(env.sb, ['1.4.2', '--from', f, '--force', ...env.keys.keyFlags]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^reinstalled borg 1\.4\.2; borg -V runs/);
    expect(fs.statSync(exe).ino).not.toBe(ino);

    const use = await cli(env.sb, ['use', '1.4.1']);
    expect(use.stdout).toBe('borg 1.4.1 is current (was 1.4.2): borg.exe 1.4.1\n');
    const before = env.sb.snapshot();
    const un = await cli(env.sb, ['uninstall', '1.4.1']);
    expect([un.code, errorLine(un)]).toEqual([
      2,
      'borg 1.4.1 is the current version: run borg-provision use OTHER-VERSION first, or pass --force to remove it and leave no current borg',
    ]);
    expect(env.sb.snapshot()).toEqual(before);
    const missing = await cli(env.sb, ['use', '9.9.9']);
    expect([missing.code, errorLine(missing)]).toEqual([
      2,
      expect.stringMatching(/borg 9\.9\.9 is not installed .*installed: 1\.4\.1, 1\.4\.2/),
    ]);
  });

  test('a build --vagrant artifact is installed as "built locally", loudly', async () => {
    const f = env.fx.buildArtifact('1.5.0');
    const r = await install(env.sb, ['--from', f]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(
      /warning: borg-dir-1\.5\.0\.tgz is a locally built, UNSIGNED archive: it was checked only by SHA-256/,
    );
    // The human output says it too (verdict first), not only the warning and --json.
    const sha = execFileSync('sha256sum', [f], { encoding: 'utf8' }).split(' ')[0];
    const [first, from] = r.stdout.split('\n');
    expect(first).toBe('installed borg 1.5.0 (locally built, unsigned by borg); borg -V runs');
    expect(from).toBe(
      `  from:     borg-dir-1.5.0.tgz (built locally, NOT signed by borg; SHA-256 ${sha} matches its build manifest)`,
    );
    const list = jsonOf<{ versions: { version: string; source: string }[] }>(await cli(env.sb, ['list', '--json']));
    expect(list.versions.find((v) => v.version === '1.5.0')?.source).toBe('built locally');
    const un = await cli(env.sb, ['uninstall', '1.5.0', '--force', '--json']);
    expect(jsonOf(un)).toMatchObject({ version: '1.5.0', wasCurrent: true, current: null });
    expect(fs.existsSync(path.join(env.sb.prefix, 'borg-dir-1.5.0'))).toBe(false);
    expect(fs.existsSync(path.join(env.sb.binDir, 'borg'))).toBe(false);
    const use = await cli(env.sb, ['use', '1.4.2']);
    expect(use.code).toBe(0);
  });

  test('an unsigned -gh one-file build with --allow-unsigned, run with its own TMPDIR', async () => {
    const f = await release(env.fx.oneFile('x', '1.6.0'), { sign: false, name: 'borg-linux-glibc235-x86_64-gh' });
    const r = await install(env.sb, ['1.6.0', '--from', f, '--allow-unsigned']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/warning: borg-linux-glibc235-x86_64-gh is an UNSIGNED GitHub build/);
    expect(r.stdout).toMatch(
      /^installed borg 1\.6\.0 \(UNSIGNED, unverified\); borg -V runs\n {2}from: {5}borg-linux-glibc235-x86_64-gh \(UNSIGNED, not verified \(--allow-unsigned\); SHA-256 [0-9a-f]{64}\)/,
    );
    expect(r.stdout).toMatch(
      /\n {2}glibc: .*\(one-file: bootloader only, the libraries packed inside are not scanned\)\n/,
    );
    expect(fs.statSync(path.join(env.sb.prefix, 'tmp')).mode & 0o777).toBe(0o700);
    // Under a sudo-like environment (no TMPDIR, no /run/user) the wrapper still provides one.
    expect(
      execFileSync(path.join(env.sb.binDir, 'borg'), ['-V'], { env: { PATH: '/usr/bin:/bin' }, encoding: 'utf8' }),
    ).toBe('borg.exe 1.6.0\n');
    const plan = await install(env.sb, ['1.6.0', '--from', f, '--allow-unsigned', '--dry-run', '--json']);
    expect(jsonOf<{ plan: { elfScan: string; checks: string[] } }>(plan).plan).toMatchObject({
      elfScan: 'bootloader only (one-file)',
      checks: expect.arrayContaining([expect.stringMatching(/one-file bootloader .*not scanned/)]),
    });
  });
});

describe('--from: signatures win over unsigned local builds', () => {
  type Plan = {
    plan: { asset: string; signatureUrl: string | null; source: string; chosen: string | null; checks: string[] };
  };

  /** A directory holding a release asset `name` (signed unless sign: false) and the local build of `version`. */
  async function mixedDir(version: string, name: string, o: { sign?: boolean } = {}): Promise<string> {
    const asset = await release(env.fx.oneDirTgz(name, version), { name, sign: o.sign });
    const dir = path.dirname(asset);
    const build = env.fx.buildArtifact(version);
    for (const f of [build, build.replace(/\.tgz$/, '.manifest.json')])
      fs.copyFileSync(f, path.join(dir, path.basename(f)));
    return dir;
  }

  test('a folder with a signed asset and an unsigned local build of that version: the signed asset is chosen, and says so', async () => {
    const dir = await mixedDir('1.7.0', ASSET);
    const r = await install(env.sb, ['1.7.0', '--from', dir, '--dry-run', '--json', ...env.keys.keyFlags]);
    expect(r.code).toBe(0);
    const { plan } = jsonOf<Plan>(r);
    expect(plan).toMatchObject({ asset: ASSET, signatureUrl: path.join(dir, `${ASSET}.asc`), source: 'file' });
    expect(plan.chosen).toMatch(
      /^borg-linux-glibc231-x86_64\.tgz: signed release asset, the best fit for glibc \S+ x86_64 over the local build borg-dir-1\.7\.0\.tgz$/,
    );
    const human = await install(env.sb, ['1.7.0', '--from', dir, '--dry-run', ...env.keys.keyFlags]);
    expect(human.stdout).toMatch(/\n {2}chosen: {4}borg-linux-glibc231-x86_64\.tgz: signed release asset/);
  });

  test('the local build is taken only when no signed asset in the folder fits', async () => {
    const dir = await mixedDir('1.7.2', 'borg-linux-glibc231-arm64.tgz');
    const r = await install(env.sb, ['1.7.2', '--from', dir, '--dry-run', '--json', ...env.keys.keyFlags]);
    expect(r.code).toBe(0);
    const { plan } = jsonOf<Plan>(r);
    expect(plan).toMatchObject({ asset: 'borg-dir-1.7.2.tgz', signatureUrl: null, source: 'built locally' });
    expect(plan.chosen).toMatch(/^borg-dir-1\.7\.2\.tgz: no signed release asset in .* fits glibc \S+ x86_64$/);
  });

  test('a borg-dir .tgz with both a manifest and an .asc: a bad signature is refused (exit 5), not passed on its SHA-256', async () => {
    const f = env.fx.buildArtifact('1.7.1');
    await env.keys.sign(f, env.keys.other.subkey);
    const before = env.sb.snapshot();
    const r = await install(env.sb, ['--from', f, ...env.keys.keyFlags]);
    expect({ code: r.code, line: errorLine(r) }).toEqual({ code: 5, line: expect.stringMatching(/signature|key/i) });
    expect(env.sb.snapshot()).toEqual(before);
  });

  test('a borg-dir .tgz with both a manifest and a good .asc is verified by its signature', async () => {
    const f = env.fx.buildArtifact('1.7.3');
    await env.keys.sign(f);
    const r = await install(env.sb, ['--from', f, '--dry-run', '--json', ...env.keys.keyFlags]);
    expect(r.code).toBe(0);
    const { plan } = jsonOf<Plan>(r);
    expect(plan).toMatchObject({ asset: 'borg-dir-1.7.3.tgz', signatureUrl: `${f}.asc`, source: 'file', chosen: null });
    expect(plan.checks[0]).toBe(`OpenPGP signature ${f}.asc`);
  });
});

test('a key copy that has expired: the install says so each time, and suggests a current copy once', async () => {
  const own = makeSandbox();
  try {
    // Made with a one-day expiry two days ago: the copy has expired, the signature is still good.
    const made = new Date(Date.now() - 2 * 86400_000).toISOString().slice(0, 19).replace(/[-:]/g, '');
    const exp = await genSigningKey(env.keys.home, { name: 'Expiring Mirror', at: made, expire: '1d' });
    const keyFile = path.join(own.root, 'expiring.asc');
    fs.writeFileSync(keyFile, await exportPublicKey(env.keys.home, exp.primary, { armor: true }));
    const tgz = placeAs(env.fx.oneDirTgz(ASSET, '1.6.2'), path.join(own.root, 'assets'), ASSET);
    await signDetached(env.keys.home, exp.signingSubkey!, tgz, { at: made });
    const flags = ['1.6.2', '--from', tgz, '--signing-key', keyFile, '--fingerprint', exp.primary];
    const first = await install(own, flags);
    expect(first.code).toBe(0);
    expect(first.stderr).toMatch(
      /warning: good signature, but this copy of the signing key \(custom\) expired on .*accepted like gpg's EXPKEYSIG\n/,
    );
    expect(first.stderr).toContain(
      `warning: the signing key copy in use is expired: get a current export of ${keyFile} for the current key (said once)`,
    );
    const second = await install(own, [...flags, '--force']);
    expect(second.code).toBe(0);
    expect(second.stderr).toMatch(/accepted like gpg's EXPKEYSIG/);
    expect(second.stderr).not.toContain('said once');
  } finally {
    own.cleanup();
  }
});
