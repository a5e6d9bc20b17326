// Verifying a detached OpenPGP signature over a (large) file against the signing key, with our
// trust policy. Why not simply `openpgp.verify()`: it judges the signing key at the signature's
// creation time and refuses a signature made after the key's expiry in OUR copy ("Primary key is
// expired"). Borg's key owner extends the expiry and re-uploads, so the bundled 2022 export
// "expired" on 2024-02-15 while every later release is signed by the very same, still valid key.
// GnuPG accepts such a signature with status EXPKEYSIG (exit 0); we follow it, visibly.
//
// So the decision is split in two:
//  1. Key policy, time-independent: `getSigningKey(keyID, null)`: with date null openpgp.js ignores
//     expiry but still requires a cryptographically valid self-signature, a valid subkey binding
//     signature with the "sign" flag and a valid back-signature from the subkey, and counts EVERY
//     revocation signature (hard or soft, before or after the signature). Revocation is checked
//     explicitly first, for a clear message.
//  2. The signature itself, via SignaturePacket.verify() given the digest of the exact bytes
//     (computed where the bytes are: src/verify/signed-digest.ts): digest and public-key check,
//     creation time not in the future, signature not expired, message hash not MD5/SHA-1/RIPEMD-160
//     (openpgp's rejectMessageHashAlgorithms; we check first too, so a weak signature is refused
//     before reading a 300 MB file).
// Expiry is then judged NOW, as gpg does: a key (primary or signing subkey) expired in this copy
// gives 'good-expired-key' plus a warning, or a refusal with strictKeyExpiry. Judging expiry at
// signing time instead would gain nothing: whoever holds the secret key chooses the signature's
// creation time, so only revocation (fetched by `key refresh`) can take a key out of service.
import { getHashes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as openpgp from 'openpgp';
import { SignatureError, throwIfAborted } from '../errors';
import { firstLine } from '../util/text';
import { digestFile } from './file-digest';
import { groupFingerprint } from './pinned';
import type { DigestSpec } from './signed-digest';
import type { KeySource, SigningKey } from './signing-key';

export interface VerifyOptions {
  /** The signed file (e.g. the downloaded archive). */
  file: string;
  /** The detached signature file (`.asc`, armoured or binary). */
  signature: string;
  key: SigningKey;
  /** Refuse a good signature whose key is expired in our copy (gpg's EXPKEYSIG) instead of warning. */
  strictKeyExpiry?: boolean;
  signal?: AbortSignal;
}

/** The verdict on a signature over a file's bytes (all a download verified as it arrived gets). */
export interface Verdict {
  status: 'good' | 'good-expired-key';
  primaryFingerprint: string;
  /** The key that made the signature: the primary key or one of its signing subkeys. */
  signingFingerprint: string;
  /** ISO 8601. */
  signatureCreated: string;
  /** Hash algorithm of the signature, e.g. 'SHA512'. */
  hash: string;
  /** Lines the command must print (e.g. the expired-key warning). Key-choice warnings live in SigningKey.warnings. */
  warnings: string[];
  keySource: KeySource;
  /** When the key copy used says the signing key expired (ISO 8601), if it has; else null. */
  keyExpiredAt: string | null;
}

/** The verdict on a file read from disk (verifyDetachedFile). */
export interface VerifyResult extends Verdict {
  /**
   * SHA-256 (hex) of exactly the bytes the signature was checked over, hashed from the same chunks
   * the signature digest read. A caller that reads the file again (to unpack it) compares against
   * this to know it got the bytes that were verified, not whatever the file holds by then. (A
   * download verified as it arrived has its own SHA-256 of the very chunks it hashed for the
   * signature: src/fetch/types.ts DownloadFollower.)
   */
  sha256: string;
}

/** A signature read and judged on everything but the bytes it signs (prepareSignature). */
export interface PreparedSignature {
  /** How to hash the signed file: whoever holds its bytes computes the digest (SignedDigest). */
  readonly spec: DigestSpec;
  readonly sig: openpgp.SignaturePacket;
  readonly signer: Signer;
  /** The hash algorithm's name, as gpg names it. */
  readonly hash: string;
  readonly options: VerifyOptions;
}

const MAX_SIGNATURE_BYTES = 1024 * 1024;
const WEAK_HASHES = new Set<number>([openpgp.enums.hash.md5, openpgp.enums.hash.sha1, openpgp.enums.hash.ripemd]);

type Signer = openpgp.PublicKey | openpgp.Subkey;

export async function verifyDetachedFile(o: VerifyOptions): Promise<VerifyResult> {
  const p = await prepareSignature(o);
  const { digest, sha256 } = await digestFile(o.file, p.spec, o.signal);
  return { ...(await concludeSignature(p, digest)), sha256 };
}

/**
 * Everything but the bytes: reads the signature and refuses it early for a weak hash, a key that
 * did not make it, a revoked or unbound signing key, or a bad date. Its `spec` says how to hash the
 * signed file; concludeStreamed gives the verdict on that digest.
 */
export async function prepareSignature(o: VerifyOptions): Promise<PreparedSignature> {
  throwIfAborted(o.signal);
  const sig = await readSignaturePacket(o.signature);
  const hash = hashName(sig);
  const signer = findSigner(o.key.publicKey, sig, o);
  await checkSignerPolicy(o.key.publicKey, signer, o);
  checkSignatureTimes(sig, signer, o);
  return { spec: digestSpec(sig, hash), sig, signer, hash, options: o };
}

/**
 * The verdict on a file that was hashed as it arrived (a download, src/verify/stream-client.ts):
 * `bytes` of it went into `digest`, and the download says the file has `size`.
 */
export async function concludeStreamed(p: PreparedSignature, d: { digest: Uint8Array; bytes: number; size: number }): Promise<Verdict> {
  // Checked before the digest: a count that is off is a download that did not arrive whole, not a
  // BAD signature.
  if (d.bytes !== d.size) {
    throw new SignatureError(`${p.options.file} did not arrive whole while it was being verified (${d.bytes} bytes of ${d.size}): try again`);
  }
  return concludeSignature(p, d.digest);
}

async function concludeSignature(p: PreparedSignature, digest: Uint8Array): Promise<Verdict> {
  const { sig, signer, hash, options: o } = p;
  await checkDigest(p, digest);
  const expiredAt = await expiryOf(o.key.publicKey, signer, o);
  const created = sig.created as Date;
  const result: Verdict = {
    status: 'good',
    primaryFingerprint: o.key.fingerprint,
    signingFingerprint: fpr(signer),
    signatureCreated: created.toISOString(),
    hash,
    warnings: [],
    keySource: o.key.source,
    keyExpiredAt: expiredAt ? expiredAt.toISOString() : null,
  };
  if (expiredAt) {
    // `key refresh` fetches borg's key only; a custom key must be re-exported by its owner.
    const fix = o.key.pinned ? 'run `borg-provision key refresh`' : `get a current export of ${o.key.path}`;
    const when = created < expiredAt ? 'before that' : 'after that; its owner has most likely extended the key since';
    if (o.strictKeyExpiry) {
      throw new SignatureError(
        `the signature is good, but this copy of signing key ${fpr(signer)} expired on ${day(expiredAt)} and --strict-key-expiry is set: ${fix}`,
      );
    }
    result.status = 'good-expired-key';
    result.warnings.push(
      `good signature, but this copy of the signing key (${o.key.source}) expired on ${day(expiredAt)} ` +
        `(signature made ${day(created)}, ${when}); accepted like gpg's EXPKEYSIG: ${fix} for the current key`,
    );
  }
  return result;
}

function fpr(k: Signer): string {
  return k.getFingerprint().toUpperCase();
}

function day(d: Date): string {
  return d.toISOString().slice(0, 10);
}

/** Reads the detached signature; it must hold exactly one binary-document signature packet. */
async function readSignaturePacket(file: string): Promise<openpgp.SignaturePacket> {
  let bytes: Buffer;
  try {
    const st = await fs.stat(file);
    if (!st.isFile() || st.size > MAX_SIGNATURE_BYTES) throw new SignatureError(`${file} is not a detached OpenPGP signature`);
    bytes = await fs.readFile(file);
  } catch (err) {
    if (err instanceof SignatureError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'missing' : code === 'EACCES' ? 'not readable (permission denied)' : (err as Error).message;
    throw new SignatureError(`signature file ${file} is ${why}: nothing is installed without a good signature`, { cause: err });
  }
  let parsed: openpgp.Signature;
  try {
    const text = bytes.toString('latin1');
    parsed = text.includes('-----BEGIN PGP SIGNATURE-----')
      ? await openpgp.readSignature({ armoredSignature: text })
      : await openpgp.readSignature({ binarySignature: bytes });
  } catch (err) {
    throw new SignatureError(`${file} is not a valid OpenPGP signature (${firstLine(err)})`, { cause: err });
  }
  const packets = Array.from(parsed.packets).filter((p) => p instanceof openpgp.SignaturePacket);
  // One signature, no more: a second one by another key would be ambiguous to report, and borg's
  // .asc files hold exactly one. Fail closed rather than pick.
  if (packets.length !== 1) throw new SignatureError(`${file} holds ${packets.length} signatures; expected exactly one`);
  const sig = packets[0];
  if (sig.signatureType !== openpgp.enums.signature.binary) {
    throw new SignatureError(`${file} is not a signature over a binary file (signature type ${sig.signatureType})`);
  }
  if (!sig.created) throw new SignatureError(`${file} has no creation time`);
  return sig;
}

/** RFC 4880/9580 hash algorithm IDs, named as gpg names them (and as VALIDSIG numbers them). */
const HASH_NAMES: Record<number, string> = {
  1: 'MD5', 2: 'SHA1', 3: 'RIPEMD160', 8: 'SHA256', 9: 'SHA384', 10: 'SHA512', 11: 'SHA224', 12: 'SHA3-256', 14: 'SHA3-512',
};

function hashName(sig: openpgp.SignaturePacket): string {
  const algo = sig.hashAlgorithm ?? -1;
  const name = HASH_NAMES[algo] ?? `hash #${algo}`;
  // SHA-1 signatures can be forged with chosen-prefix collisions (SHAmbles, 2020); gpg still
  // accepts them, we do not.
  if (WEAK_HASHES.has(algo)) {
    throw new SignatureError(`the signature was made with ${name}, which is too weak to trust: ask the signer for a SHA-256 or SHA-512 signature`);
  }
  return name;
}

/** The key or subkey that issued the signature, found by key ID and, when present, full fingerprint. */
function findSigner(key: openpgp.PublicKey, sig: openpgp.SignaturePacket, o: VerifyOptions): Signer {
  const issuerFpr = sig.issuerFingerprint ? Buffer.from(sig.issuerFingerprint).toString('hex').toUpperCase() : null;
  const candidates = key.getKeys(sig.issuerKeyID).filter((k) => !issuerFpr || fpr(k) === issuerFpr);
  if (candidates.length === 0) {
    const who = issuerFpr ?? `key ID ${sig.issuerKeyID.toHex().toUpperCase()}`;
    throw new SignatureError(
      `${o.signature} was made by ${who}, which is not a key of the trusted signing key ${groupFingerprint(o.key.fingerprint)}`,
    );
  }
  return candidates[0];
}

/** Time-independent validity of the issuing key (see the top of this file). */
async function checkSignerPolicy(key: openpgp.PublicKey, signer: Signer, o: VerifyOptions): Promise<void> {
  // Any valid revocation, whatever its reason or date, refuses (fail closed). gpg reports REVKEYSIG
  // and still exits 0 for a revoked key: we do not follow it there.
  if (await key.isRevoked(undefined, undefined, null as unknown as Date)) {
    throw new SignatureError(`signing key ${groupFingerprint(o.key.fingerprint)} is revoked: refusing its signatures`);
  }
  if (signer !== key && (await (signer as openpgp.Subkey).isRevoked(null as never, null as never, null as unknown as Date))) {
    throw new SignatureError(`signing subkey ${fpr(signer)} of ${groupFingerprint(o.key.fingerprint)} is revoked: refusing its signatures`);
  }
  try {
    const valid = await key.getSigningKey(signer.getKeyID(), null);
    if (fpr(valid) !== fpr(signer)) throw new Error('another key answered for this key ID');
  } catch (err) {
    const what = signer === key ? 'primary key' : 'subkey';
    throw new SignatureError(
      `${what} ${fpr(signer)} is not a valid signing key of ${groupFingerprint(o.key.fingerprint)} (${firstLine(err)}): refusing its signature`,
      { cause: err },
    );
  }
}

function checkSignatureTimes(sig: openpgp.SignaturePacket, signer: Signer, o: VerifyOptions): void {
  const created = sig.created as Date;
  if (signer.getCreationTime() > created) {
    throw new SignatureError(`the signature (${created.toISOString()}) is older than the key ${fpr(signer)} that made it: refusing it`);
  }
  if (created.getTime() > Date.now()) {
    throw new SignatureError(`the signature is dated in the future (${created.toISOString()}): check the system clock`);
  }
  if (sig.isExpired(new Date())) {
    throw new SignatureError(`the signature ${o.signature} expired on ${day(sig.getExpirationTime() as Date)}`);
  }
}

/** openpgp.js's view of a signature packet beyond its typings (used by digestSpec and checkDigest). */
interface SignatureInternals {
  version: number;
  /** What is hashed for `data`: (a v6 salt) || data || hashed part || trailer. */
  toHash(type: openpgp.enums.signature, data: openpgp.LiteralDataPacket, detached: boolean): unknown;
  /** A digest computed elsewhere; verify() then reads no data (as for a one-pass signed message). */
  hashed?: Promise<Uint8Array>;
}

/** Node's names of the hash algorithms a signature may use (the weak ones are refused before). */
const NODE_HASHES: Record<number, string> = { 8: 'sha256', 9: 'sha384', 10: 'sha512', 11: 'sha224', 12: 'sha3-256', 14: 'sha3-512' };

/** How to hash the file for `sig`: what openpgp.js hashes after the file's bytes. */
function digestSpec(sig: openpgp.SignaturePacket, name: string): DigestSpec {
  const internals = sig as unknown as SignatureInternals;
  // Version 4 is what gpg makes and borg signs with; a pinned key (a v4 fingerprint) makes no
  // other. Later versions hash a salt first (v6) or a different trailer (v5): not ours to guess.
  if (internals.version !== 4) throw new SignatureError(`the signature is a version ${internals.version} signature: only version 4 signatures (gpg's) are checked`);
  const hash = NODE_HASHES[sig.hashAlgorithm as number];
  if (!hash || !getHashes().includes(hash)) throw new SignatureError(`the signature was made with ${name}, which borg-provision cannot check: ask the signer for a SHA-256 or SHA-512 signature`);
  // What follows the file's bytes: asked with no bytes, openpgp.js gives exactly that.
  const empty = new openpgp.LiteralDataPacket();
  (empty as unknown as { setBytes(b: Uint8Array, f: openpgp.enums.literal): void }).setBytes(new Uint8Array(0), openpgp.enums.literal.binary);
  const suffix = internals.toHash(openpgp.enums.signature.binary, empty, true);
  if (!(suffix instanceof Uint8Array)) throw new SignatureError('cannot read what the signature signs: refusing it');
  return { hash, suffix };
}

/**
 * Has openpgp.js check `digest` against the signature: the leading digest bytes it carries, then
 * the public-key check. The data it is given is poison: openpgp.js reads none when given a digest;
 * should a later release ignore that and hash the data, reading it throws, and the signature fails
 * (closed) instead of being judged over some other bytes.
 */
async function checkDigest(p: PreparedSignature, digest: Uint8Array): Promise<void> {
  const internals = p.sig as unknown as SignatureInternals;
  internals.hashed = Promise.resolve(digest);
  try {
    // detached = true; the date is checked by checkSignatureTimes already, but passing now keeps
    // openpgp's own checks (creation time, signature expiry, hash policy) in force too.
    await p.sig.verify(p.signer.keyPacket, openpgp.enums.signature.binary, POISON, new Date(), true, openpgp.config);
  } catch (err) {
    if (err instanceof PoisonError) throw new SignatureError(`this openpgp.js cannot check a digest made elsewhere (${err.message}): refusing`, { cause: err });
    const { file, signature } = p.options;
    throw new SignatureError(
      `BAD signature: ${file} does not match ${signature} (${firstLine(err)}); the file is damaged or was altered, delete it and download again`,
      { cause: err },
    );
  } finally {
    delete internals.hashed;
  }
}

class PoisonError extends Error {}
const POISON = new Proxy({} as openpgp.LiteralDataPacket, {
  get(_target, prop) {
    throw new PoisonError(`it read the data's ${String(prop)}`);
  },
});

/** The earliest expiry (primary or signing subkey) that has passed by now in this key copy, or null. */
async function expiryOf(key: openpgp.PublicKey, signer: Signer, o: VerifyOptions): Promise<Date | null> {
  const dates: (Date | number | null)[] = [await key.getExpirationTime()];
  if (signer !== key) dates.push(await (signer as openpgp.Subkey).getExpirationTime(null as unknown as Date));
  if (dates.some((d) => d === null)) {
    // Only happens for a key without a valid self-signature, which checkSignerPolicy refused already.
    throw new SignatureError(`cannot tell when signing key ${groupFingerprint(o.key.fingerprint)} expires: refusing`);
  }
  const finite = (dates as (Date | number)[]).filter((d): d is Date => d instanceof Date);
  const earliest = finite.sort((a, b) => a.getTime() - b.getTime())[0];
  return earliest && earliest.getTime() <= Date.now() ? earliest : null;
}

