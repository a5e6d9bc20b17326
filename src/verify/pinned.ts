// Where borg's signing key lives and how its fingerprints are written. No openpgp here, so commands
// and other stages can name the pinned fingerprint without loading the OpenPGP library.
import * as path from 'node:path';
import { packageFileLabel } from '../util/package-files';
import { configHome } from '../util/xdg';

/**
 * Primary fingerprint of Thomas Waldmann's release key (RSA 4096, 2009). Every key file we are
 * handed is judged by its PRIMARY fingerprint against this value; subkeys are trusted only through
 * their binding to this primary key.
 */
export const PINNED_FINGERPRINT = '6D5BEF9ADD2075805747B70F9F88FB52FAF7B393';

export const REFRESHED_KEY_NAME = 'borg-signing-key.asc';

/** The export shipped with borg-provision (a file of the package, or an asset of the executable). */
export const BUNDLED_KEY = 'keys/borg-signing-key.asc';

/** Where the bundled export is, for people. */
export function bundledKeyPath(): string {
  return packageFileLabel(BUNDLED_KEY);
}

/** `$XDG_CONFIG_HOME/borg-provision`, else `~/.config/borg-provision` (XDG: relative values are ignored). */
export function configDir(env: NodeJS.ProcessEnv = process.env): string {
  return configHome(env);
}

/** Where `key refresh` keeps the current copy of the pinned key. */
export function refreshedKeyPath(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(configDir(env), REFRESHED_KEY_NAME);
}

/**
 * Accepts a fingerprint as users paste it (spaces, lower case, `0x` prefix) and returns 40 upper-case
 * hex digits, or null when it is not a v4 fingerprint. Short or long key IDs are NOT accepted: they
 * can be forged cheaply, a fingerprint cannot.
 */
export function normalizeFingerprint(input: string): string | null {
  const hex = input.replace(/\s+/g, '').replace(/^0x/i, '').toUpperCase();
  return /^[0-9A-F]{40}$/.test(hex) ? hex : null;
}

/** `6D5B EF9A DD20 7580 5747  B70F 9F88 FB52 FAF7 B393`, the way gpg prints it for humans. */
export function groupFingerprint(fpr: string): string {
  const groups = fpr.toUpperCase().match(/.{1,4}/g) ?? [];
  if (groups.length !== 10) return groups.join(' ');
  return `${groups.slice(0, 5).join(' ')}  ${groups.slice(5).join(' ')}`;
}

/** The primary fingerprint shortened for tables: its last 16 hex digits (the long key ID), grouped. */
export function shortFingerprint(fpr: string): string {
  return groupFingerprint(fpr.slice(-16)).trim();
}
