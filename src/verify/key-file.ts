// Reading OpenPGP public keys from a file (armoured or binary), with one-line errors.
import { promises as fs } from 'node:fs';
import * as openpgp from 'openpgp';
import { BadInputError } from '../errors';
import { readPackageFile } from '../util/package-files';
import { BUNDLED_KEY } from './pinned';

/** Real key exports are a few KiB to a few hundred KiB; anything far bigger is not a key file. */
const MAX_KEY_FILE_BYTES = 8 * 1024 * 1024;

/** Upper-case hex primary fingerprint of an openpgp key. */
export function fingerprintOf(key: openpgp.Key): string {
  return key.getFingerprint().toUpperCase();
}

/** Parses every key in `bytes`; private keys are reduced to their public part. Throws plain Errors. */
export async function parseKeys(bytes: Uint8Array): Promise<openpgp.PublicKey[]> {
  const text = Buffer.from(bytes).toString('latin1');
  const keys = text.includes('-----BEGIN PGP ')
    ? await openpgp.readKeys({ armoredKeys: text })
    : await openpgp.readKeys({ binaryKeys: bytes });
  return keys.map((k) => (k.isPrivate() ? k.toPublic() : (k as openpgp.PublicKey)));
}

/**
 * Reads all keys of a key file. A missing, unreadable or garbled file is bad input (exit 2): it
 * says nothing about any signature, the user named the wrong file.
 */
export async function readKeyFile(file: string): Promise<openpgp.PublicKey[]> {
  let bytes: Buffer;
  try {
    const st = await fs.stat(file);
    if (!st.isFile()) throw new BadInputError(`signing key ${file} is not a regular file`);
    if (st.size > MAX_KEY_FILE_BYTES)
      throw new BadInputError(`signing key ${file} is too large to be an OpenPGP key export`);
    bytes = await fs.readFile(file);
  } catch (err) {
    if (err instanceof BadInputError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (err as Error).message;
    throw new BadInputError(`cannot read signing key ${file}: ${why}`, { cause: err });
  }
  try {
    const keys = await parseKeys(bytes);
    if (keys.length === 0) throw new Error('no key found');
    return keys;
  } catch (err) {
    throw new BadInputError(
      `${file} is not an OpenPGP public key (${(err as Error).message.split('\n')[0]}): pass an exported key (gpg --export --armor)`,
      { cause: err },
    );
  }
}

/** The keys of the export shipped with borg-provision (a package file, or an asset of the executable). */
export async function readBundledKey(): Promise<openpgp.PublicKey[]> {
  const keys = await parseKeys(readPackageFile(BUNDLED_KEY));
  if (keys.length === 0) throw new Error('no key found');
  return keys;
}
