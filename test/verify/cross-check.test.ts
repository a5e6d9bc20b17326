// One table, case by case: our verdict and gpgv's verdict (its --status-fd lines read through the
// same policy) must agree and equal the expected verdict. Keys and signatures are made by real gpg;
// the tests pin THEIR OWN primary fingerprint (nobody has borg's secret key).
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { SignatureError } from '../../src/errors';
import { loadSigningKey, verifyDetachedFile } from '../../src/verify';
import {
  GpgHome,
  GpgvResult,
  TestKey,
  exportPublicKey,
  genSigningKey,
  gpgvStatus,
  makeGpgHome,
  revokePrimary,
  revokeSubkey,
  setExpiry,
  signDetached,
  transplantSubkey,
} from '../helpers/gpg';

type Verdict = 'good' | 'good-expired-key' | 'refuse';

interface Case {
  name: string;
  keyring: string;
  pin: string;
  sig: string;
  data: string;
  strict?: boolean;
  expected: Verdict;
  /** Why we refuse (matched against our one-line message). */
  because?: RegExp;
  /** What gpgv must have said, to show the case really is what its name says. */
  gpgvSays?: string;
}

/** gpgv's status lines read through our policy. Its exit code alone proves nothing (FACTS.md). */
function gpgvVerdict(st: GpgvResult, pinned: string, strict: boolean): Verdict {
  const valid = st.lines.find((l) => l.keyword === 'VALIDSIG');
  if (!valid) return 'refuse';
  // VALIDSIG <sig-fpr> <date> <ts> <expire-ts> <ver> <reserved> <pk-algo> <hash-algo> <class> <primary-fpr>
  if (valid.args[9] !== pinned) return 'refuse';
  if (['1', '2', '3'].includes(valid.args[7])) return 'refuse'; // MD5, SHA-1, RIPEMD-160
  const has = (k: string): boolean => st.lines.some((l) => l.keyword === k);
  if (has('BADSIG') || has('REVKEYSIG') || has('ERRSIG')) return 'refuse';
  if (has('GOODSIG')) return 'good';
  if (has('EXPKEYSIG')) return strict ? 'refuse' : 'good-expired-key';
  return 'refuse';
}

async function ourVerdict(c: Case): Promise<{ verdict: Verdict; message: string }> {
  try {
    const key = await loadSigningKey({ keyFile: c.keyring, fingerprint: c.pin });
    const r = await verifyDetachedFile({ file: c.data, signature: c.sig, key, strictKeyExpiry: c.strict });
    return { verdict: r.status, message: r.warnings.join('; ') };
  } catch (err) {
    // Every refusal must be a typed verification failure, never a crash (exit 1).
    if (!(err instanceof SignatureError)) throw err;
    return { verdict: 'refuse', message: err.message };
  }
}

describe('our verdict agrees with gpgv read through the same policy', () => {
  let home: GpgHome;
  let dir: string;
  const cases: Case[] = [];

  beforeAll(async () => {
    home = await makeGpgHome();
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'bp-verify-xc-'));
    const f = (n: string): string => path.join(dir, n);
    const writeRing = async (name: string, ...parts: Buffer[]): Promise<string> => {
      await fs.writeFile(f(name), Buffer.concat(parts));
      return f(name);
    };
    const data = f('borg-linux-glibc231-x86_64.tgz');
    await fs.writeFile(data, Buffer.alloc(3 * 1024 * 1024 + 17, 'borg'));

    // The mirror's key: primary [SC] + signing subkey [S].
    const main: TestKey = await genSigningKey(home, { name: 'Mirror Main' });
    const mainSub = main.signingSubkey as string;
    const mainRing = await writeRing('main.gpg', await exportPublicKey(home, main.primary));
    const bySub = await signDetached(home, mainSub, data, { out: f('by-subkey.asc') });
    const byPrimary = await signDetached(home, main.primary, data, { out: f('by-primary.asc') });
    const sha1 = await signDetached(home, mainSub, data, { out: f('sha1.asc'), digest: 'SHA1' });

    // Another key entirely, in the same keyring file (a gpg user's keyring holds many keys).
    const other = await genSigningKey(home, { name: 'Unrelated' });
    const bothRing = await writeRing(
      'both.gpg',
      await exportPublicKey(home, main.primary),
      await exportPublicKey(home, other.primary),
    );
    const byOther = await signDetached(home, other.signingSubkey as string, data, { out: f('by-other.asc') });

    // A subkey grafted onto the mirror key with a binding signature made by its real owner.
    const donor = await genSigningKey(home, { name: 'Donor' });
    const graftRing = await writeRing(
      'graft.gpg',
      transplantSubkey(await exportPublicKey(home, main.primary), await exportPublicKey(home, donor.primary)),
    );
    const byGraft = await signDetached(home, donor.signingSubkey as string, data, { out: f('by-grafted.asc') });

    // The borg situation, in borg's shape (RSA primary [SC], RSA signing and encryption subkeys):
    // made in 2020 expiring after a year, later extended. The OLD copy (exported before the
    // extension) is expired; a signature made in 2022 postdates its expiry.
    const exp = await genSigningKey(home, {
      name: 'Expiring',
      algo: 'rsa2048',
      at: '20200101T000000',
      expire: '1y',
      encryptionSubkey: true,
    });
    const expSub = exp.signingSubkey as string;
    const beforeExpiry = await signDetached(home, expSub, data, { out: f('exp-before.asc'), at: '20200601T000000' });
    const oldCopy = await writeRing('exp-old.gpg', await exportPublicKey(home, exp.primary));
    await setExpiry(home, exp.primary, '15y', { at: '20220101T000000' });
    await setExpiry(home, exp.primary, '15y', { at: '20220101T000000', subkeys: [expSub] });
    const afterExpiry = await signDetached(home, expSub, data, { out: f('exp-after.asc'), at: '20220601T000000' });
    const newCopy = await writeRing('exp-new.gpg', await exportPublicKey(home, exp.primary));

    // Revoked primary key; revoked signing subkey (its primary key stays good).
    const rev = await genSigningKey(home, { name: 'Revoked' });
    const byRevoked = await signDetached(home, rev.signingSubkey as string, data, { out: f('by-revoked.asc') });
    await revokePrimary(home, rev.primary);
    const revRing = await writeRing('revoked.gpg', await exportPublicKey(home, rev.primary));
    const subrev = await genSigningKey(home, { name: 'Subkey Revoked' });
    const byRevokedSub = await signDetached(home, subrev.signingSubkey as string, data, {
      out: f('by-revoked-sub.asc'),
    });
    await revokeSubkey(home, subrev.primary, subrev.signingSubkey as string);
    const byStillGoodPrimary = await signDetached(home, subrev.primary, data, {
      out: f('by-primary-after-subrev.asc'),
    });
    const subrevRing = await writeRing('subrevoked.gpg', await exportPublicKey(home, subrev.primary));

    // Damaged inputs.
    const tampered = f('tampered.tgz');
    const bytes = await fs.readFile(data);
    bytes[bytes.length - 1] ^= 1; // the very last byte: proves the whole file is hashed
    await fs.writeFile(tampered, bytes);
    const wrongFile = f('other-file.tgz');
    await fs.writeFile(wrongFile, 'another release\n');
    const asc = await fs.readFile(bySub, 'utf8');
    const truncated = f('truncated.asc');
    await fs.writeFile(truncated, asc.slice(0, Math.floor(asc.length / 2)));
    const garbage = f('garbage.asc');
    await fs.writeFile(garbage, Buffer.from('\x89PNG this is not a signature at all'.repeat(8), 'latin1'));

    const m = main.primary;
    cases.push(
      {
        name: 'good, made by the primary key',
        keyring: mainRing,
        pin: m,
        sig: byPrimary,
        data,
        expected: 'good',
        gpgvSays: 'GOODSIG',
      },
      {
        name: 'good, made by the bound signing subkey',
        keyring: mainRing,
        pin: m,
        sig: bySub,
        data,
        expected: 'good',
        gpgvSays: 'GOODSIG',
      },
      {
        name: 'expired copy, signed before its expiry',
        keyring: oldCopy,
        pin: exp.primary,
        sig: beforeExpiry,
        data,
        expected: 'good-expired-key',
        gpgvSays: 'EXPKEYSIG',
      },
      {
        name: 'expired copy, signed after its expiry (borg today)',
        keyring: oldCopy,
        pin: exp.primary,
        sig: afterExpiry,
        data,
        expected: 'good-expired-key',
        gpgvSays: 'EXPKEYSIG',
      },
      {
        name: 'expired copy with strict key expiry',
        keyring: oldCopy,
        pin: exp.primary,
        sig: afterExpiry,
        data,
        strict: true,
        expected: 'refuse',
        because: /expired on 2020-12-31.*strict-key-expiry/,
        gpgvSays: 'EXPKEYSIG',
      },
      {
        name: 'refreshed copy of the same key',
        keyring: newCopy,
        pin: exp.primary,
        sig: afterExpiry,
        data,
        expected: 'good',
        gpgvSays: 'GOODSIG',
      },
      {
        name: 'revoked primary key',
        keyring: revRing,
        pin: rev.primary,
        sig: byRevoked,
        data,
        expected: 'refuse',
        because: /is revoked/,
        gpgvSays: 'REVKEYSIG',
      },
      {
        name: 'revoked signing subkey',
        keyring: subrevRing,
        pin: subrev.primary,
        sig: byRevokedSub,
        data,
        expected: 'refuse',
        because: /subkey .* is revoked/,
        gpgvSays: 'REVKEYSIG',
      },
      {
        name: 'primary still good after its subkey was revoked',
        keyring: subrevRing,
        pin: subrev.primary,
        sig: byStillGoodPrimary,
        data,
        expected: 'good',
        gpgvSays: 'GOODSIG',
      },
      {
        name: 'second unrelated key in the same keyring',
        keyring: bothRing,
        pin: m,
        sig: byOther,
        data,
        expected: 'refuse',
        because: /not a key of the trusted signing key/,
        gpgvSays: 'GOODSIG',
      },
      {
        name: 'subkey without a valid binding',
        keyring: graftRing,
        pin: m,
        sig: byGraft,
        data,
        expected: 'refuse',
        because: /not a valid signing key/,
        gpgvSays: 'ERRSIG',
      },
      {
        name: 'SHA-1 signature',
        keyring: mainRing,
        pin: m,
        sig: sha1,
        data,
        expected: 'refuse',
        because: /SHA1, which is too weak/,
        gpgvSays: 'GOODSIG',
      },
      {
        name: 'tampered data (last byte)',
        keyring: mainRing,
        pin: m,
        sig: bySub,
        data: tampered,
        expected: 'refuse',
        because: /BAD signature/,
        gpgvSays: 'BADSIG',
      },
      {
        name: 'signature of another file',
        keyring: mainRing,
        pin: m,
        sig: bySub,
        data: wrongFile,
        expected: 'refuse',
        because: /BAD signature/,
        gpgvSays: 'BADSIG',
      },
      {
        name: 'truncated signature',
        keyring: mainRing,
        pin: m,
        sig: truncated,
        data,
        expected: 'refuse',
        because: /not a valid OpenPGP signature/,
      },
      {
        name: 'garbage signature',
        keyring: mainRing,
        pin: m,
        sig: garbage,
        data,
        expected: 'refuse',
        because: /not a valid OpenPGP signature|signatures; expected exactly one/,
      },
    );
  }, 60000);

  afterAll(async () => {
    await home?.cleanup();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  it('gives the same verdict as gpgv in every case', async () => {
    const rows: string[] = [];
    const mismatches: string[] = [];
    for (const c of cases) {
      const st = await gpgvStatus(c.keyring, c.sig, c.data);
      const theirs = gpgvVerdict(st, c.pin, !!c.strict);
      const ours = await ourVerdict(c);
      const said = st.lines.map((l) => l.keyword).filter((k) => /SIG$/.test(k) && k !== 'NEWSIG');
      rows.push(
        `${c.name.padEnd(52)} expected ${c.expected.padEnd(16)} ours ${ours.verdict.padEnd(16)} gpgv ${theirs.padEnd(16)} [${said.join(',')}]`,
      );
      if (ours.verdict !== c.expected || theirs !== c.expected) mismatches.push(`${c.name}: ${ours.message}`);
      if (c.gpgvSays && !said.includes(c.gpgvSays))
        mismatches.push(`${c.name}: gpgv said ${said.join(',') || 'nothing'}, not ${c.gpgvSays}`);
      if (c.because && !c.because.test(ours.message))
        mismatches.push(`${c.name}: refused for another reason: ${ours.message}`);
      if (ours.verdict === 'good-expired-key' && !/accepted like gpg's EXPKEYSIG/.test(ours.message))
        mismatches.push(`${c.name}: no warning`);
    }
    if (process.env.SHOW_TABLE) console.log(rows.join('\n'));
    expect(cases).toHaveLength(16);
    expect({ table: rows, mismatches }).toEqual({ table: rows, mismatches: [] });
  });
});
