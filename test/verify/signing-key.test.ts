// Choosing the trusted key: bundled, refreshed, custom (--signing-key/--fingerprint), and refusals.
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BadInputError, SignatureError, UsageError } from '../../src/errors';
import {
  PINNED_FINGERPRINT,
  bundledKeyPath,
  describeSigningKey,
  groupFingerprint,
  loadSigningKey,
  normalizeFingerprint,
  refreshedKeyPath,
} from '../../src/verify';
import {
  GpgHome,
  TestKey,
  exportPublicKey,
  genSigningKey,
  makeGpgHome,
  revokePrimary,
  revokeSubkey,
  transplantSubkey,
} from '../helpers/gpg';

/** The subkey borg's releases are signed with (a fact of the bundled key; the code trusts any bound signing subkey). */
const BORG_SIGNING_SUBKEY = '2F81AFFBAB04E11FE8EE65D4243ACFA951F78E01';

describe('the bundled borg key', () => {
  it('loads, carries the pinned primary fingerprint and the release signing subkey', async () => {
    const env = { HOME: '/nonexistent-home', XDG_CONFIG_HOME: '/nonexistent-config' };
    const key = await loadSigningKey({ env });
    expect(key).toMatchObject({
      fingerprint: PINNED_FINGERPRINT,
      source: 'bundled',
      pinned: true,
      path: bundledKeyPath(),
      warnings: [],
    });
    expect(key.publicKey.getFingerprint().toUpperCase()).toBe(PINNED_FINGERPRINT);
    const sub = key.publicKey.subkeys.map((s) => s.getFingerprint().toUpperCase());
    expect(sub).toContain(BORG_SIGNING_SUBKEY);
  });

  it('is expired in this copy since 2024-02-15, as openpgp itself reports', async () => {
    const key = await loadSigningKey({ env: { HOME: '/nonexistent-home' } });
    const expiry = (await key.publicKey.getExpirationTime()) as Date;
    expect(expiry.toISOString().slice(0, 10)).toBe('2024-02-15');
    // openpgp's own default policy refuses it as a signing key now: the reason for our policy.
    await expect(key.publicKey.getSigningKey()).rejects.toThrow(/expired/);
    const info = await describeSigningKey(key);
    expect(info).toMatchObject({ expired: true, revoked: false, algorithm: 'rsa4096' });
    const signing = info.subkeys.find((s) => s.fingerprint === BORG_SIGNING_SUBKEY);
    expect(signing).toMatchObject({ capabilities: ['sign'], bound: true, revoked: false, expired: true });
    expect(signing?.expires?.slice(0, 10)).toBe('2024-02-15');
    expect(info.userIds).toContain('Thomas Waldmann <tw@waldmann-edv.de>');
  });
});

describe('fingerprint helpers', () => {
  it('normalizes pasted fingerprints and rejects key IDs', () => {
    expect(normalizeFingerprint('6d5b ef9a dd20 7580 5747  b70f 9f88 fb52 faf7 b393')).toBe(PINNED_FINGERPRINT);
    expect(normalizeFingerprint(`0x${PINNED_FINGERPRINT}`)).toBe(PINNED_FINGERPRINT);
    expect(normalizeFingerprint('9F88FB52FAF7B393')).toBeNull();
    expect(groupFingerprint(PINNED_FINGERPRINT)).toBe('6D5B EF9A DD20 7580 5747  B70F 9F88 FB52 FAF7 B393');
  });
});

describe('choosing the key', () => {
  let home: GpgHome;
  let dir: string;
  let a: TestKey;
  let b: TestKey;
  let aFile: string;
  let bothFile: string;
  const bundled = (): Promise<Buffer> => fs.readFile(bundledKeyPath());

  beforeAll(async () => {
    home = await makeGpgHome();
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'bp-verify-key-'));
    a = await genSigningKey(home, { name: 'Mirror A' });
    b = await genSigningKey(home, { name: 'Mirror B' });
    aFile = path.join(dir, 'a.asc');
    await fs.writeFile(aFile, await exportPublicKey(home, a.primary, { armor: true }));
    bothFile = path.join(dir, 'both.gpg');
    await fs.writeFile(
      bothFile,
      Buffer.concat([await exportPublicKey(home, a.primary), await exportPublicKey(home, b.primary)]),
    );
  }, 30000);

  afterAll(async () => {
    await home?.cleanup();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  const configEnv = async (): Promise<NodeJS.ProcessEnv> => ({
    HOME: dir,
    XDG_CONFIG_HOME: await fs.mkdtemp(path.join(dir, 'cfg-')),
  });

  it('prefers a refreshed copy of the pinned key', async () => {
    const env = await configEnv();
    await fs.mkdir(path.dirname(refreshedKeyPath(env)), { recursive: true });
    await fs.writeFile(refreshedKeyPath(env), await bundled());
    const key = await loadSigningKey({ env });
    expect(key).toMatchObject({
      source: 'refreshed',
      pinned: true,
      path: refreshedKeyPath(env),
      fingerprint: PINNED_FINGERPRINT,
      warnings: [],
    });
  });

  it('falls back to HOME/.config when XDG_CONFIG_HOME is unset', async () => {
    const env = { HOME: dir };
    expect(refreshedKeyPath(env)).toBe(path.join(dir, '.config', 'borg-provision', 'borg-signing-key.asc'));
  });

  // Fail closed: the refreshed copy may carry a revocation the bundled one lacks, so falling back to
  // the bundled copy when the refreshed one cannot be used would let a revoked key's signatures pass.
  it('refuses (exit 5) a refreshed file that holds another key, instead of falling back to the bundled one', async () => {
    const env = await configEnv();
    await fs.mkdir(path.dirname(refreshedKeyPath(env)), { recursive: true });
    await fs.copyFile(aFile, refreshedKeyPath(env));
    const err = await loadSigningKey({ env }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SignatureError);
    expect((err as SignatureError).exitCode).toBe(5);
    expect((err as Error).message).toMatch(
      /borg-signing-key\.asc does not hold borg's pinned key .*: delete it or run `borg-provision key refresh`$/,
    );
  });

  it('refuses (exit 5) a garbled refreshed file', async () => {
    const env = await configEnv();
    await fs.mkdir(path.dirname(refreshedKeyPath(env)), { recursive: true });
    await fs.writeFile(
      refreshedKeyPath(env),
      '-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nnot base64 at all!\n-----END PGP PUBLIC KEY BLOCK-----\n',
    );
    const err = await loadSigningKey({ env }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SignatureError);
    expect((err as Error).message).toMatch(
      /^cannot use the refreshed signing key .*not an OpenPGP public key.*: delete it or run `borg-provision key refresh`$/,
    );
  });

  it('refuses (exit 5) a refreshed key path that cannot be read (a directory stands there)', async () => {
    const env = await configEnv();
    // A directory is unreadable as a file for root too, unlike a chmod 000 file.
    await fs.mkdir(refreshedKeyPath(env), { recursive: true });
    const err = await loadSigningKey({ env }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SignatureError);
    expect((err as Error).message).toMatch(
      /^cannot use the refreshed signing key .*not a regular file.*: delete it or run `borg-provision key refresh`$/,
    );
  });

  it('trusts a custom key file with one key, with a warning that names it', async () => {
    const key = await loadSigningKey({ keyFile: aFile });
    expect(key).toMatchObject({ source: 'custom', pinned: false, fingerprint: a.primary, path: aFile });
    expect(key.warnings).toHaveLength(1);
    expect(key.warnings[0]).toContain(groupFingerprint(a.primary));
    expect(key.warnings[0]).toMatch(/instead of borg's pinned key .*pass --fingerprint/);
  });

  it('keeps only the chosen primary key of a file with several keys', async () => {
    const key = await loadSigningKey({ keyFile: bothFile, fingerprint: b.primary.toLowerCase() });
    expect(key.fingerprint).toBe(b.primary);
    expect(key.publicKey.getKeys().map((k) => k.getFingerprint().toUpperCase())).toEqual([b.primary, b.signingSubkey]);
    expect(key.warnings[0]).toMatch(/only do this for a private mirror you control$/);
  });

  it('refuses a key file with several keys and no --fingerprint (exit 2)', async () => {
    const err = await loadSigningKey({ keyFile: bothFile }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as UsageError).message).toMatch(/holds 2 keys .*pass --fingerprint/);
  });

  it('refuses a key file whose primary fingerprint is not the one given, even if it holds it as a subkey (exit 5)', async () => {
    for (const fpr of [PINNED_FINGERPRINT, a.signingSubkey as string]) {
      const err = await loadSigningKey({ keyFile: aFile, fingerprint: fpr }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SignatureError);
      expect((err as SignatureError).exitCode).toBe(5);
      expect((err as SignatureError).message).toMatch(new RegExp(`holds no key with primary fingerprint ${fpr}`));
    }
  });

  it('warns even when a custom file holds the pinned key', async () => {
    const file = path.join(dir, 'borg-copy.asc');
    await fs.writeFile(file, await bundled());
    const key = await loadSigningKey({ keyFile: file, fingerprint: PINNED_FINGERPRINT });
    expect(key).toMatchObject({ source: 'custom', pinned: true });
    expect(key.warnings[0]).toMatch(/using borg's pinned key from .*borg-copy\.asc/);
  });

  it('refuses --fingerprint without --signing-key unless it is the pinned one', async () => {
    await expect(loadSigningKey({ fingerprint: a.primary, env: { HOME: dir } })).rejects.toThrow(UsageError);
    await expect(loadSigningKey({ fingerprint: a.primary, env: { HOME: dir } })).rejects.toThrow(
      /only together with --signing-key/,
    );
    await expect(
      loadSigningKey({ fingerprint: PINNED_FINGERPRINT.toLowerCase(), env: { HOME: dir } }),
    ).resolves.toMatchObject({ source: 'bundled' });
  });

  it('refuses a fingerprint that is not 40 hex digits (exit 2)', async () => {
    await expect(loadSigningKey({ keyFile: aFile, fingerprint: 'FAF7B393' })).rejects.toThrow(/not a 40-hex-digit/);
    await expect(loadSigningKey({ keyFile: aFile, fingerprint: 'FAF7B393' })).rejects.toBeInstanceOf(UsageError);
  });

  it('describes revoked and unbound subkeys and a revoked primary key (key show)', async () => {
    const c = await genSigningKey(home, { name: 'Described', expire: '3y' });
    await revokeSubkey(home, c.primary, c.signingSubkey as string);
    const file = path.join(dir, 'described.gpg');
    await fs.writeFile(
      file,
      transplantSubkey(await exportPublicKey(home, c.primary), await exportPublicKey(home, b.primary)),
    );
    const info = await describeSigningKey(await loadSigningKey({ keyFile: file, fingerprint: c.primary }));
    expect(info).toMatchObject({
      source: 'custom',
      pinned: false,
      revoked: false,
      expired: false,
      capabilities: ['certify', 'sign'],
    });
    expect(Date.parse(info.expires as string) - Date.now()).toBeGreaterThan(2 * 365 * 86400 * 1000);
    expect(info.subkeys).toEqual([
      expect.objectContaining({ fingerprint: c.signingSubkey, revoked: true, bound: true, capabilities: ['sign'] }),
      expect.objectContaining({ fingerprint: b.signingSubkey, revoked: false, bound: false, capabilities: [] }),
    ]);
    await revokePrimary(home, c.primary);
    await fs.writeFile(file, await exportPublicKey(home, c.primary));
    expect(await describeSigningKey(await loadSigningKey({ keyFile: file, fingerprint: c.primary }))).toMatchObject({
      revoked: true,
    });
  });

  it('answers a missing, garbled or non-key file with exit 2', async () => {
    const garbled = path.join(dir, 'garbled.asc');
    await fs.writeFile(garbled, 'hello, I am not a key\n');
    const sig = path.join(dir, 'x.sig');
    await fs.writeFile(sig, Buffer.from([0x88, 0x01, 0x00]));
    for (const [file, re] of [
      [path.join(dir, 'missing.asc'), /cannot read signing key .*missing\.asc: no such file/],
      [garbled, /garbled\.asc is not an OpenPGP public key/],
      [dir, /is not a regular file/],
      [sig, /is not an OpenPGP public key/],
    ] as const) {
      const err = await loadSigningKey({ keyFile: file }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(BadInputError);
      expect((err as BadInputError).message).toMatch(re);
    }
  });
});
