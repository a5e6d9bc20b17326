// Choosing the key that decides whether a download is borg's: the refreshed copy of the pinned key,
// else the bundled export, else (only when the user says so, with a warning every time) a custom key.
import { promises as fs } from 'node:fs';
import type * as openpgp from 'openpgp';
import { BadInputError, SignatureError, UsageError } from '../errors';
import { fingerprintOf, readBundledKey, readKeyFile } from './key-file';
import { PINNED_FINGERPRINT, bundledKeyPath, groupFingerprint, normalizeFingerprint, refreshedKeyPath } from './pinned';

export type KeySource = 'bundled' | 'refreshed' | 'custom';

export interface SigningKey {
  /** Primary fingerprint, 40 upper-case hex digits. */
  fingerprint: string;
  source: KeySource;
  /** True when the primary fingerprint is borg's pinned one. */
  pinned: boolean;
  /** The file the key was read from. */
  path: string;
  /** Lines the command must print (custom key in use, ...). */
  warnings: string[];
  /** ONLY the chosen primary key with its subkeys; other keys of the file are dropped. */
  publicKey: openpgp.PublicKey;
}

export interface LoadSigningKeyOptions {
  /** `--signing-key FILE`: a private mirror's key instead of the pinned one. */
  keyFile?: string;
  /** `--fingerprint FPR`: the primary fingerprint to trust in `keyFile` (required if it holds several keys). */
  fingerprint?: string;
  /** Environment for the config directory (HOME, XDG_CONFIG_HOME); defaults to process.env. */
  env?: NodeJS.ProcessEnv;
}

export async function loadSigningKey(o: LoadSigningKeyOptions = {}): Promise<SigningKey> {
  const wanted = o.fingerprint === undefined ? undefined : parseFingerprintFlag(o.fingerprint);
  if (o.keyFile !== undefined) return loadCustomKey(o.keyFile, wanted);
  if (wanted !== undefined && wanted !== PINNED_FINGERPRINT) {
    throw new UsageError(
      `--fingerprint ${wanted} replaces borg's pinned key only together with --signing-key FILE holding that key`,
    );
  }
  const warnings: string[] = [];
  const refreshed = await loadRefreshedKey(refreshedKeyPath(o.env), warnings);
  if (refreshed) return refreshed;
  return loadBundledKey(warnings);
}

function parseFingerprintFlag(value: string): string {
  const fpr = normalizeFingerprint(value);
  if (!fpr)
    throw new UsageError(
      `--fingerprint "${value}" is not a 40-hex-digit OpenPGP v4 fingerprint (key IDs are not accepted)`,
    );
  return fpr;
}

/** Picks the key with primary fingerprint `fpr`; every other key in the file is ignored. */
function pick(keys: openpgp.PublicKey[], fpr: string): openpgp.PublicKey | undefined {
  return keys.find((k) => fingerprintOf(k) === fpr);
}

function listFingerprints(keys: openpgp.PublicKey[]): string {
  return keys.map(fingerprintOf).join(', ');
}

async function loadCustomKey(file: string, wanted: string | undefined): Promise<SigningKey> {
  const keys = await readKeyFile(file);
  let key: openpgp.PublicKey | undefined;
  if (wanted !== undefined) {
    key = pick(keys, wanted);
    // The user named the key to trust and the file does not hold it as a PRIMARY key: refuse, even if
    // it holds it as a subkey, since a subkey is only as good as the primary key that binds it.
    if (!key)
      throw new SignatureError(
        `${file} holds no key with primary fingerprint ${wanted} (it holds ${listFingerprints(keys)})`,
      );
  } else if (keys.length === 1) {
    key = keys[0];
  } else {
    throw new UsageError(
      `${file} holds ${keys.length} keys (${listFingerprints(keys)}): pass --fingerprint to choose the one to trust`,
    );
  }
  const fpr = fingerprintOf(key);
  const pinned = fpr === PINNED_FINGERPRINT;
  const warning = pinned
    ? `using borg's pinned key from ${file} (--signing-key) instead of the bundled copy`
    : `trusting signing key ${groupFingerprint(fpr)} from ${file} instead of borg's pinned key ${groupFingerprint(PINNED_FINGERPRINT)}: ` +
      (wanted
        ? 'only do this for a private mirror you control'
        : 'pass --fingerprint to pin it; only do this for a private mirror you control');
  return { fingerprint: fpr, source: 'custom', pinned, path: file, warnings: [warning], publicKey: key };
}

/**
 * The copy `key refresh` stored. Once that file exists it is the only copy that counts: it may carry
 * a revocation the bundled export lacks, so falling back to the bundled copy when it is unreadable,
 * garbled or holds another key would let a revoked key's signatures pass. Fail closed instead.
 */
async function loadRefreshedKey(file: string, warnings: string[]): Promise<SigningKey | null> {
  try {
    // lstat, not access: a dangling symlink or an unreadable file still "exists" and must not be skipped.
    await fs.lstat(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw refreshedUnusable(file, (err as Error).message, err);
  }
  let keys: openpgp.PublicKey[];
  try {
    keys = await readKeyFile(file);
  } catch (err) {
    throw refreshedUnusable(file, (err as Error).message, err);
  }
  const key = pick(keys, PINNED_FINGERPRINT);
  if (!key) {
    throw new SignatureError(
      `${file} does not hold borg's pinned key ${PINNED_FINGERPRINT} (it holds ${listFingerprints(keys)}): delete it or run \`borg-provision key refresh\``,
    );
  }
  return { fingerprint: PINNED_FINGERPRINT, source: 'refreshed', pinned: true, path: file, warnings, publicKey: key };
}

function refreshedUnusable(file: string, why: string, cause: unknown): SignatureError {
  return new SignatureError(
    `cannot use the refreshed signing key ${file} (${why.split('\n')[0]}): delete it or run \`borg-provision key refresh\``,
    {
      cause,
    },
  );
}

async function loadBundledKey(warnings: string[]): Promise<SigningKey> {
  const file = bundledKeyPath();
  let keys: openpgp.PublicKey[];
  try {
    keys = await readBundledKey();
  } catch (err) {
    throw new BadInputError(
      `the bundled signing key is damaged (${(err as Error).message}): reinstall borg-provision`,
      { cause: err },
    );
  }
  const key = pick(keys, PINNED_FINGERPRINT);
  if (!key) {
    throw new SignatureError(
      `the bundled key file ${file} does not hold borg's pinned key ${PINNED_FINGERPRINT} (it holds ${listFingerprints(keys)}): reinstall borg-provision`,
    );
  }
  return { fingerprint: PINNED_FINGERPRINT, source: 'bundled', pinned: true, path: file, warnings, publicKey: key };
}
