// verifyDetachedFile beyond the gpgv table: result fields, RSA keys, signature-file refusals,
// dates, missing files, interruption, and that file handles are not leaked.
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as openpgp from 'openpgp';
import { BadInputError, InterruptedError, SignatureError } from '../../src/errors';
import { SigningKey, loadSigningKey, verifyDetachedFile } from '../../src/verify';
import { GpgHome, TestKey, genSigningKey, makeGpgHome, signDetached, writeKeyFile } from '../helpers/gpg';

describe('verifyDetachedFile', () => {
  let home: GpgHome;
  let dir: string;
  let ed: TestKey;
  let rsa: TestKey;
  let edKey: SigningKey;
  let rsaKey: SigningKey;
  let data: string;
  const f = (n: string): string => path.join(dir, n);

  beforeAll(async () => {
    home = await makeGpgHome();
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'bp-verify-file-'));
    data = f('borg.tgz');
    await fs.writeFile(data, Buffer.alloc(2 * 1024 * 1024 + 5, 7));
    ed = await genSigningKey(home, { name: 'Ed Mirror', at: '20240101T000000' });
    rsa = await genSigningKey(home, { name: 'RSA Mirror', algo: 'rsa2048', primaryUsage: 'cert' });
    edKey = await loadSigningKey({
      keyFile: await writeKeyFile(home, ed.primary, f('ed.asc'), { armor: true }),
      fingerprint: ed.primary,
    });
    rsaKey = await loadSigningKey({
      keyFile: await writeKeyFile(home, rsa.primary, f('rsa.gpg')),
      fingerprint: rsa.primary,
    });
  }, 40000);

  afterAll(async () => {
    await home?.cleanup();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  const refusal = async (p: Promise<unknown>): Promise<Error> => {
    const err = await p.then(
      () => new Error('expected a refusal'),
      (e: Error) => e,
    );
    return err;
  };

  it("reports who signed, when and with which hash (RSA subkey like borg's, binary signature)", async () => {
    const sig = await signDetached(home, rsa.signingSubkey as string, data, {
      out: f('rsa.sig'),
      armor: false,
      digest: 'SHA512',
    });
    const r = await verifyDetachedFile({ file: data, signature: sig, key: rsaKey });
    expect(r).toEqual({
      status: 'good',
      primaryFingerprint: rsa.primary,
      signingFingerprint: rsa.signingSubkey,
      signatureCreated: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      hash: 'SHA512',
      warnings: [],
      keySource: 'custom',
      keyExpiredAt: null,
      keyFix: null,
      // the digest of exactly the bytes verified (install unpacks only bytes with this digest)
      sha256: createHash('sha256')
        .update(await fs.readFile(data))
        .digest('hex'),
    });
    expect(Math.abs(Date.parse(r.signatureCreated) - Date.now())).toBeLessThan(10 * 60 * 1000);
  });

  it('treats a certify-only primary key as no signing key (only its subkey signs)', async () => {
    // gpg will not even sign with a certify-only key; the policy our verification applies agrees.
    const signing = await rsaKey.publicKey.getSigningKey(undefined, null);
    expect(signing.getFingerprint().toUpperCase()).toBe(rsa.signingSubkey);
    await expect(rsaKey.publicKey.getSigningKey(rsaKey.publicKey.getKeyID(), null)).rejects.toThrow(
      /Could not find valid signing key/,
    );
  });

  it('refuses a text-mode signature, a signature file with two signatures, and an empty one', async () => {
    const notes = f('notes.txt');
    await fs.writeFile(notes, 'borg 1.4.2\nsigned in text mode\n');
    const text = await signDetached(home, ed.signingSubkey as string, notes, {
      out: f('text.asc'),
      extraArgs: ['--textmode'],
    });
    expect((await refusal(verifyDetachedFile({ file: notes, signature: text, key: edKey }))).message).toMatch(
      /not a signature over a binary file/,
    );

    const one = await signDetached(home, ed.signingSubkey as string, data, { out: f('one.sig'), armor: false });
    const two = await signDetached(home, ed.primary, data, { out: f('two.sig'), armor: false });
    const both = f('both.sig');
    await fs.writeFile(both, Buffer.concat([await fs.readFile(one), await fs.readFile(two)]));
    const e2 = await refusal(verifyDetachedFile({ file: data, signature: both, key: edKey }));
    expect(e2).toBeInstanceOf(SignatureError);
    expect(e2.message).toMatch(/holds 2 signatures; expected exactly one/);

    const empty = f('empty.asc');
    await fs.writeFile(empty, '');
    expect(await refusal(verifyDetachedFile({ file: data, signature: empty, key: edKey }))).toBeInstanceOf(
      SignatureError,
    );
  });

  it('refuses a signature dated in the future and an expired signature', async () => {
    const future = await signDetached(home, ed.signingSubkey as string, data, {
      out: f('future.asc'),
      at: '20400101T000000',
    });
    const e1 = await refusal(verifyDetachedFile({ file: data, signature: future, key: edKey }));
    expect(e1).toBeInstanceOf(SignatureError);
    expect(e1.message).toMatch(/dated in the future \(2040-01-01.*check the system clock/);

    const expired = await signDetached(home, ed.signingSubkey as string, data, {
      out: f('expired-sig.asc'),
      at: '20240601T000000',
      extraArgs: ['--default-sig-expire', '1d'],
    });
    const e2 = await refusal(verifyDetachedFile({ file: data, signature: expired, key: edKey }));
    expect(e2).toBeInstanceOf(SignatureError);
    expect(e2.message).toMatch(/expired on 2024-06-02/);
  });

  it('judges every byte: one flipped past the first MiB, or one byte added, is a BAD signature', async () => {
    const sig = await signDetached(home, rsa.signingSubkey as string, data, { out: f('whole.sig'), digest: 'SHA512' });
    const good = await verifyDetachedFile({ file: data, signature: sig, key: rsaKey });
    const bytes = await fs.readFile(data);
    expect(good.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
    const flipped = Buffer.from(bytes);
    flipped[1024 * 1024 + 17] ^= 1;
    await fs.writeFile(f('flipped.tgz'), flipped);
    await fs.writeFile(f('longer.tgz'), Buffer.concat([bytes, Buffer.from([0])]));
    for (const bad of [f('flipped.tgz'), f('longer.tgz')]) {
      const err = await refusal(verifyDetachedFile({ file: bad, signature: sig, key: rsaKey }));
      expect(err).toBeInstanceOf(SignatureError);
      expect(err.message).toMatch(
        /^BAD signature: .* does not match .*whole\.sig \(.+\); the file is damaged or was altered/,
      );
    }
  });

  it('refuses a signature packet of another version than 4 before reading the file', async () => {
    const sig = await fs.readFile(
      await signDetached(home, rsa.signingSubkey as string, data, { out: f('v4.sig'), armor: false }),
    );
    const v5 = Buffer.from(sig);
    v5[bodyStart(v5)] = 5; // the version octet
    await fs.writeFile(f('v5.sig'), v5);
    // openpgp.js drops a v5 packet unless told to read them; told so, it is ours to refuse.
    const parse = openpgp.config.enableParsingV5Entities;
    openpgp.config.enableParsingV5Entities = true;
    try {
      const err = await refusal(verifyDetachedFile({ file: f('nope.tgz'), signature: f('v5.sig'), key: rsaKey }));
      expect(err).toBeInstanceOf(SignatureError);
      expect(err.message).toBe("the signature is a version 5 signature: only version 4 signatures (gpg's) are checked");
    } finally {
      openpgp.config.enableParsingV5Entities = parse;
    }
  });

  it('verifies only a regular file, and only as long as it was when opened', async () => {
    const sig = await signDetached(home, rsa.signingSubkey as string, data, { out: f('regular.sig') });
    const dirErr = await refusal(verifyDetachedFile({ file: dir, signature: sig, key: rsaKey }));
    expect(dirErr).toBeInstanceOf(BadInputError);
    expect(dirErr.message).toMatch(/cannot verify .*: is a directory$/);
    const devErr = await refusal(verifyDetachedFile({ file: '/dev/zero', signature: sig, key: rsaKey }));
    expect(devErr).toBeInstanceOf(BadInputError);
    expect(devErr.message).toBe('cannot verify /dev/zero: not a regular file');
    // procfs says 0 bytes and then reads more: a file that changed under the check.
    const grown = await refusal(verifyDetachedFile({ file: '/proc/self/status', signature: sig, key: rsaKey }));
    expect(grown).toBeInstanceOf(SignatureError);
    expect(grown.message).toMatch(
      /^\/proc\/self\/status changed while it was being verified \(\d+ of 0 bytes read\): try again$/,
    );
  });

  it('says which file is missing: the signature (exit 5) or the data (exit 2)', async () => {
    const sig = await signDetached(home, ed.signingSubkey as string, data, { out: f('ok.asc') });
    const e1 = await refusal(verifyDetachedFile({ file: data, signature: f('nope.asc'), key: edKey }));
    expect(e1).toBeInstanceOf(SignatureError);
    expect(e1.message).toMatch(/signature file .*nope\.asc is missing/);
    const e2 = await refusal(verifyDetachedFile({ file: f('nope.tgz'), signature: sig, key: edKey }));
    expect(e2).toBeInstanceOf(BadInputError);
    expect(e2.message).toMatch(/cannot verify .*nope\.tgz: no such file/);
  });

  it('stops with InterruptedError when the signal fires, and closes the file', async () => {
    const big = f('sparse-big.tgz');
    const h = await fs.open(big, 'w');
    await h.truncate(2 * 1024 * 1024 * 1024); // sparse: no disk used, but 2 GiB to read
    await h.close();
    const sig = await signDetached(home, ed.signingSubkey as string, f('ok-data'), { out: f('any.asc') }).catch(
      async () => {
        await fs.writeFile(f('ok-data'), 'x');
        return signDetached(home, ed.signingSubkey as string, f('ok-data'), { out: f('any.asc') });
      },
    );
    const fdsBefore = (await fs.readdir('/proc/self/fd')).length;

    const pre = new AbortController();
    pre.abort();
    expect(
      await refusal(verifyDetachedFile({ file: big, signature: sig, key: edKey, signal: pre.signal })),
    ).toBeInstanceOf(InterruptedError);

    const ac = new AbortController();
    const started = Date.now();
    setTimeout(() => ac.abort(), 150);
    const err = await refusal(verifyDetachedFile({ file: big, signature: sig, key: edKey, signal: ac.signal }));
    expect(err).toBeInstanceOf(InterruptedError);
    expect(Date.now() - started).toBeLessThan(5000);
    expect((await fs.readdir('/proc/self/fd')).length).toBeLessThanOrEqual(fdsBefore);
    await fs.rm(big);
  });
});

/** Where the body of the first OpenPGP packet starts (RFC 4880 4.2: old or new header format). */
function bodyStart(b: Buffer): number {
  if (b[0] & 0x40) return b[1] < 192 ? 2 : b[1] < 224 ? 3 : 6;
  return 1 + [1, 2, 4][b[0] & 3];
}
