// What `key show` reports about a signing key: fingerprints, user IDs, subkeys, expiry, revocation.
// Everything is read "time-independently" (date null), as the verification policy does, then
// expiry is compared with now.
import * as openpgp from 'openpgp';
import type { KeySource, SigningKey } from './signing-key';

export interface SubkeyInfo {
  fingerprint: string;
  algorithm: string;
  created: string;
  /** From the latest valid binding signature: 'certify' | 'sign' | 'encrypt' | 'authenticate'. */
  capabilities: string[];
  /** ISO 8601, or null when it never expires. */
  expires: string | null;
  expired: boolean;
  revoked: boolean;
  /** Has a valid binding signature by the primary key (otherwise it is ignored for verification). */
  bound: boolean;
}

export interface KeyInfo {
  source: KeySource;
  path: string;
  fingerprint: string;
  pinned: boolean;
  algorithm: string;
  created: string;
  capabilities: string[];
  userIds: string[];
  expires: string | null;
  expired: boolean;
  revoked: boolean;
  subkeys: SubkeyInfo[];
  warnings: string[];
}

const NO_DATE = null as unknown as Date;

export async function describeSigningKey(k: SigningKey, now: Date = new Date()): Promise<KeyInfo> {
  const key = k.publicKey;
  const expiry = await key.getExpirationTime().catch(() => null);
  let capabilities: string[] = [];
  try {
    capabilities = flagsOf((await key.getPrimaryUser(NO_DATE)).selfCertification);
  } catch {
    // no valid self-signature: no capabilities to show
  }
  return {
    source: k.source,
    path: k.path,
    fingerprint: k.fingerprint,
    pinned: k.pinned,
    algorithm: algorithmOf(key),
    created: key.getCreationTime().toISOString(),
    capabilities,
    userIds: key.getUserIDs(),
    expires: expiry instanceof Date ? expiry.toISOString() : null,
    expired: expiry instanceof Date && expiry <= now,
    revoked: await key.isRevoked(undefined, undefined, NO_DATE),
    subkeys: await Promise.all(key.subkeys.map((s) => describeSubkey(s, now))),
    warnings: k.warnings,
  };
}

async function describeSubkey(s: openpgp.Subkey, now: Date): Promise<SubkeyInfo> {
  const binding = await latestValidBinding(s);
  const expiry = binding ? await s.getExpirationTime(NO_DATE).catch(() => null) : null;
  return {
    fingerprint: s.getFingerprint().toUpperCase(),
    algorithm: algorithmOf(s),
    created: s.getCreationTime().toISOString(),
    capabilities: binding ? flagsOf(binding) : [],
    expires: expiry instanceof Date ? expiry.toISOString() : null,
    expired: expiry instanceof Date && expiry <= now,
    revoked: await s.isRevoked(null as never, null as never, NO_DATE),
    bound: binding !== null,
  };
}

/** The newest binding signature that verifies against the primary key, whatever its date. */
async function latestValidBinding(s: openpgp.Subkey): Promise<openpgp.SignaturePacket | null> {
  const primary = s.mainKey.keyPacket;
  const sigs = [...s.bindingSignatures].sort((a, b) => (b.created?.getTime() ?? 0) - (a.created?.getTime() ?? 0));
  for (const sig of sigs) {
    try {
      await sig.verify(
        primary,
        openpgp.enums.signature.subkeyBinding,
        { key: primary, bind: s.keyPacket },
        NO_DATE,
        false,
        openpgp.config,
      );
      return sig;
    } catch {
      // not made by this primary key: try the next one
    }
  }
  return null;
}

function flagsOf(sig: openpgp.SignaturePacket): string[] {
  const f = sig.keyFlags?.[0] ?? 0;
  const out: string[] = [];
  if (f & 0x01) out.push('certify');
  if (f & 0x02) out.push('sign');
  if (f & 0x0c) out.push('encrypt');
  if (f & 0x20) out.push('authenticate');
  return out;
}

function algorithmOf(k: openpgp.Key | openpgp.Subkey): string {
  const info = k.getAlgorithmInfo();
  if (info.algorithm.startsWith('rsa')) return `rsa${info.bits ?? ''}`;
  if (info.curve) return String(info.curve).replace(/Legacy$/, '');
  return info.algorithm;
}
