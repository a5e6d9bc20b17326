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
//  2. The signature itself: openpgp.js's SignaturePacket.verify() over the file's bytes, streamed
//     (digest and public-key check, creation time not in the future, signature not expired,
//     message hash not MD5/SHA-1/RIPEMD-160; we check the hash first too, so a weak signature is
//     refused before reading a 300 MB file). Only public API: createMessage, findPacket, verify.
// Expiry is then judged NOW, as gpg does: a key (primary or signing subkey) expired in this copy
// gives 'good-expired-key' plus a warning, or a refusal with strictKeyExpiry. Judging expiry at
// signing time instead would gain nothing: whoever holds the secret key chooses the signature's
// creation time, so only revocation (fetched by `key refresh`) can take a key out of service.
import { promises as fs } from 'node:fs';
import * as openpgp from 'openpgp';
import { InterruptedError, SignatureError, throwIfAborted } from '../errors';
import { firstLine } from '../util/text';
import { openSignedFile } from './file-stream';
import { groupFingerprint } from './pinned';
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

/** The verdict on a signature over a file's bytes. */
export interface VerifyResult {
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
  /** With an expired copy: what gets the current one (`key refresh`, or a new export of a custom key). */
  keyFix: string | null;
  /**
   * SHA-256 (hex) of exactly the bytes the signature was checked over, hashed from the same chunks
   * openpgp.js read. A caller that reads the file again (to unpack it) compares against this to
   * know it got the bytes that were verified, not whatever the file holds by then.
   */
  sha256: string;
}

const MAX_SIGNATURE_BYTES = 1024 * 1024;
const WEAK_HASHES = new Set<number>([openpgp.enums.hash.md5, openpgp.enums.hash.sha1, openpgp.enums.hash.ripemd]);

type Signer = openpgp.PublicKey | openpgp.Subkey;

/** A signature judged on everything but the bytes it signs (judgeSignature). */
export interface JudgedSignature {
  readonly sig: openpgp.SignaturePacket;
  readonly signer: Signer;
  /** The hash algorithm's name, as gpg names it. */
  readonly hash: string;
}

export async function verifyDetachedFile(o: VerifyOptions): Promise<VerifyResult> {
  const judged = await judgeSignature(o);
  const sha256 = await checkBytes(judged, o);
  return verdict(judged, sha256, o);
}

/**
 * Everything but the bytes: reads the signature and refuses it for a weak hash, a key that did not
 * make it, a revoked or unbound signing key, or a bad date. An install calls it as soon as the
 * `.asc` is in, so that such a signature stops the archive's download at once.
 */
export async function judgeSignature(o: Omit<VerifyOptions, 'file'>): Promise<JudgedSignature> {
  throwIfAborted(o.signal);
  const sig = await readSignaturePacket(o.signature);
  const hash = hashName(sig);
  // Version 4 is what gpg makes and borg signs with; a pinned key (a v4 fingerprint) makes no other.
  if (sig.version !== 4)
    throw new SignatureError(
      `the signature is a version ${sig.version} signature: only version 4 signatures (gpg's) are checked`,
    );
  const signer = findSigner(o.key.publicKey, sig, o);
  await checkSignerPolicy(o.key.publicKey, signer, o);
  checkSignatureTimes(sig, signer, o);
  return { sig, signer, hash };
}

/**
 * openpgp.js hashes the file as a stream and checks the signature over it. Its check reads a copy
 * of the literal data; reading the data itself is what drives the stream.
 */
async function checkBytes({ sig, signer }: JudgedSignature, o: VerifyOptions): Promise<string> {
  const file = await openSignedFile(o.file, o.signal);
  try {
    const message = await openpgp.createMessage({ binary: file.stream });
    const literal = message.packets.findPacket(openpgp.enums.packet.literalData);
    const data = message.getLiteralData();
    if (!literal || !(data instanceof ReadableStream))
      throw new SignatureError(`cannot read ${o.file} for its signature check: refusing`);
    const checked = sig.verify(
      signer.keyPacket,
      openpgp.enums.signature.binary,
      literal,
      new Date(),
      true,
      openpgp.config,
    );
    checked.catch(() => undefined); // judged below, once the data is read
    await drain(data);
    const sha256 = file.sha256(); // first: a file that changed meanwhile is that, not a BAD signature
    try {
      await checked;
    } catch (err) {
      throw new SignatureError(
        `BAD signature: ${o.file} does not match ${o.signature} (${firstLine(err)}); the file is damaged or was altered, delete it and download again`,
        { cause: err },
      );
    }
    return sha256;
  } catch (err) {
    throw o.signal?.aborted ? new InterruptedError() : err;
  } finally {
    await file.close();
  }
}

async function drain(stream: ReadableStream<Uint8Array>): Promise<void> {
  const reader = stream.getReader();
  while (!(await reader.read()).done);
}

async function verdict(
  { sig, signer, hash }: JudgedSignature,
  sha256: string,
  o: VerifyOptions,
): Promise<VerifyResult> {
  const expiredAt = await expiryOf(o.key.publicKey, signer, o);
  const created = sig.created as Date;
  const result: VerifyResult = {
    status: 'good',
    primaryFingerprint: o.key.fingerprint,
    signingFingerprint: fpr(signer),
    signatureCreated: created.toISOString(),
    hash,
    warnings: [],
    keySource: o.key.source,
    keyExpiredAt: expiredAt ? expiredAt.toISOString() : null,
    keyFix: null,
    sha256,
  };
  if (!expiredAt) return result;
  // `key refresh` fetches borg's key only; a custom key must be re-exported by its owner.
  const fix = o.key.pinned ? 'run `borg-provision key refresh`' : `get a current export of ${o.key.path}`;
  const when = created < expiredAt ? 'before that' : 'after that; its owner has most likely extended the key since';
  if (o.strictKeyExpiry) {
    throw new SignatureError(
      `the signature is good, but this copy of signing key ${fpr(signer)} expired on ${day(expiredAt)} and --strict-key-expiry is set: ${fix}`,
    );
  }
  result.status = 'good-expired-key';
  // The fix is the caller's to suggest (the CLI does so once, not on every install).
  result.keyFix = `${fix} for the current key`;
  result.warnings.push(
    `good signature, but this copy of the signing key (${o.key.source}) expired on ${day(expiredAt)} ` +
      `(signature made ${day(created)}, ${when}); accepted like gpg's EXPKEYSIG`,
  );
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
    if (!st.isFile() || st.size > MAX_SIGNATURE_BYTES)
      throw new SignatureError(`${file} is not a detached OpenPGP signature`);
    bytes = await fs.readFile(file);
  } catch (err) {
    if (err instanceof SignatureError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT' ? 'missing' : code === 'EACCES' ? 'not readable (permission denied)' : (err as Error).message;
    throw new SignatureError(`signature file ${file} is ${why}: nothing is installed without a good signature`, {
      cause: err,
    });
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
  if (packets.length !== 1)
    throw new SignatureError(`${file} holds ${packets.length} signatures; expected exactly one`);
  const sig = packets[0];
  if (sig.signatureType !== openpgp.enums.signature.binary) {
    throw new SignatureError(`${file} is not a signature over a binary file (signature type ${sig.signatureType})`);
  }
  if (!sig.created) throw new SignatureError(`${file} has no creation time`);
  return sig;
}

/** RFC 4880/9580 hash algorithm IDs, named as gpg names them (and as VALIDSIG numbers them). */
const HASH_NAMES: Record<number, string> = {
  1: 'MD5',
  2: 'SHA1',
  3: 'RIPEMD160',
  8: 'SHA256',
  9: 'SHA384',
  10: 'SHA512',
  11: 'SHA224',
  12: 'SHA3-256',
  14: 'SHA3-512',
};

function hashName(sig: openpgp.SignaturePacket): string {
  const algo = sig.hashAlgorithm ?? -1;
  const name = HASH_NAMES[algo] ?? `hash #${algo}`;
  // SHA-1 signatures can be forged with chosen-prefix collisions (SHAmbles, 2020); gpg still
  // accepts them, we do not.
  if (WEAK_HASHES.has(algo)) {
    throw new SignatureError(
      `the signature was made with ${name}, which is too weak to trust: ask the signer for a SHA-256 or SHA-512 signature`,
    );
  }
  return name;
}

/** The key or subkey that issued the signature, found by key ID and, when present, full fingerprint. */
function findSigner(key: openpgp.PublicKey, sig: openpgp.SignaturePacket, o: Omit<VerifyOptions, 'file'>): Signer {
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
async function checkSignerPolicy(
  key: openpgp.PublicKey,
  signer: Signer,
  o: Omit<VerifyOptions, 'file'>,
): Promise<void> {
  // Any valid revocation, whatever its reason or date, refuses (fail closed). gpg reports REVKEYSIG
  // and still exits 0 for a revoked key: we do not follow it there.
  if (await key.isRevoked(undefined, undefined, null as unknown as Date)) {
    throw new SignatureError(`signing key ${groupFingerprint(o.key.fingerprint)} is revoked: refusing its signatures`);
  }
  if (
    signer !== key &&
    (await (signer as openpgp.Subkey).isRevoked(null as never, null as never, null as unknown as Date))
  ) {
    throw new SignatureError(
      `signing subkey ${fpr(signer)} of ${groupFingerprint(o.key.fingerprint)} is revoked: refusing its signatures`,
    );
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

function checkSignatureTimes(sig: openpgp.SignaturePacket, signer: Signer, o: Omit<VerifyOptions, 'file'>): void {
  const created = sig.created as Date;
  if (signer.getCreationTime() > created) {
    throw new SignatureError(
      `the signature (${created.toISOString()}) is older than the key ${fpr(signer)} that made it: refusing it`,
    );
  }
  if (created.getTime() > Date.now()) {
    throw new SignatureError(`the signature is dated in the future (${created.toISOString()}): check the system clock`);
  }
  if (sig.isExpired(new Date())) {
    throw new SignatureError(`the signature ${o.signature} expired on ${day(sig.getExpirationTime() as Date)}`);
  }
}

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
