// `key refresh`: fetch the current copy of the pinned key from a keyserver (VKS API, as served by
// keys.openpgp.org) and keep it in the config dir, only if its PRIMARY fingerprint is the pinned one.
// A keyserver is not trusted: the fingerprint check is what makes its answer safe to keep, and a
// refreshed copy can only add what the key's owner signed (new expiry, revocations, subkeys).
import * as path from 'node:path';
import type * as openpgp from 'openpgp';
import type { NetOptions } from '../net';
import { writeFileAtomic } from '../util/atomic-write';
import { InterruptedError, NetworkError, SignatureError, UsageError, filesystemError, throwIfAborted } from '../errors';
import { fingerprintOf, parseKeys, readBundledKey, readKeyFile } from './key-file';
import { PINNED_FINGERPRINT, refreshedKeyPath } from './pinned';
import { makeDirs } from '../util/make-dirs';

export const DEFAULT_KEYSERVER = 'https://keys.openpgp.org';

/** A key with many third-party signatures can be large, but not this large. */
const MAX_KEY_BYTES = 4 * 1024 * 1024;

export interface RefreshOptions {
  /** Base URL of a VKS keyserver; `/vks/v1/by-fingerprint/<FPR>` is appended. */
  keyserver?: string;
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  /** Connect, headers and body timeout at once (overrides `net`'s). */
  timeoutMs?: number;
  /** Network tuning, as for downloads; default from BORG_PROVISION_NET in `env`. */
  net?: NetOptions;
}

export interface RefreshResult {
  url: string;
  path: string;
  fingerprint: string;
  /** False when the stored copy already held exactly these packets (nothing new from the keyserver). */
  changed: boolean;
}

export function keyserverUrl(keyserver: string = DEFAULT_KEYSERVER): string {
  let base: URL;
  try {
    base = new URL(keyserver.endsWith('/') ? keyserver : `${keyserver}/`);
  } catch {
    throw new UsageError(`--keyserver "${keyserver}" is not a URL (e.g. ${DEFAULT_KEYSERVER})`);
  }
  if (base.protocol !== 'https:' && base.protocol !== 'http:')
    throw new UsageError(`--keyserver must be an http(s) URL, not ${base.protocol}`);
  return new URL(`vks/v1/by-fingerprint/${PINNED_FINGERPRINT}`, base).toString();
}

export async function refreshSigningKey(o: RefreshOptions = {}): Promise<RefreshResult> {
  const url = keyserverUrl(o.keyserver);
  const body = await fetchKey(url, o);
  const merged = await pinnedKeyFrom(body, url, o.env);
  const file = refreshedKeyPath(o.env);
  // Compare packets, not text: the same key can be armoured differently.
  const old = (await readKeyFile(file).catch(() => [] as openpgp.PublicKey[])).find(
    (k) => fingerprintOf(k) === PINNED_FINGERPRINT,
  );
  const changed = !old || Buffer.compare(Buffer.from(old.write()), Buffer.from(merged.write())) !== 0;
  if (changed) await writeAtomically(file, merged.armor(), o.signal);
  return { url, path: file, fingerprint: PINNED_FINGERPRINT, changed };
}

async function fetchKey(url: string, o: RefreshOptions): Promise<Uint8Array> {
  throwIfAborted(o.signal);
  const { openHttp, describeCause, errorCode, netOptionsFromEnv, resolveNet } = await import('../net');
  const t = o.timeoutMs;
  const timeouts = t === undefined ? {} : { connectTimeoutMs: t, headersTimeoutMs: t, bodyTimeoutMs: t };
  // The fetch stage's dispatcher: bounded redirects (never https -> http), retries of connection
  // errors and 5xx with backoff, and the same BORG_PROVISION_NET tuning as downloads.
  const http = await openHttp(resolveNet({ ...netOptionsFromEnv(o.env ?? process.env), ...o.net, ...timeouts }), true);
  try {
    const res = await http.get(url, { signal: o.signal, headers: { accept: 'application/pgp-keys' } });
    if (res.statusCode !== 200) {
      await res.body.dump().catch(() => undefined);
      const why = res.statusCode === 404 ? `it has no key ${PINNED_FINGERPRINT}` : `it answered HTTP ${res.statusCode}`;
      throw new NetworkError(`cannot refresh the signing key from ${url}: ${why}; nothing was changed`);
    }
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of res.body) {
      size += (chunk as Buffer).length;
      if (size > MAX_KEY_BYTES)
        throw new NetworkError(
          `the answer of ${url} is larger than any key (${MAX_KEY_BYTES} bytes); nothing was changed`,
        );
      chunks.push(chunk as Buffer);
    }
    return Buffer.concat(chunks);
  } catch (err) {
    if (o.signal?.aborted) throw new InterruptedError();
    if (err instanceof NetworkError) throw err;
    const status = (err as { statusCode?: number }).statusCode;
    const code = errorCode(err);
    const cause = status ? `HTTP ${status} after retries` : `${code ? `${code} ` : ''}${describeCause(err)}`;
    throw new NetworkError(`cannot refresh the signing key from ${url}: ${cause}; check the network or --keyserver`, {
      cause: err,
    });
  } finally {
    await http.close();
  }
}

/** The pinned key out of the keyserver's answer merged into our copy; other keys are dropped. */
async function pinnedKeyFrom(
  body: Uint8Array,
  url: string,
  env: NodeJS.ProcessEnv | undefined,
): Promise<openpgp.PublicKey> {
  let keys: openpgp.PublicKey[];
  try {
    keys = await parseKeys(body);
    if (keys.length === 0) throw new Error('no key');
  } catch (err) {
    // An HTML error page or a captive portal: the network did not deliver a key.
    throw new NetworkError(
      `${url} did not answer with an OpenPGP key (${(err as Error).message.split('\n')[0]}); nothing was changed`,
      { cause: err },
    );
  }
  const key = keys.find((k) => fingerprintOf(k) === PINNED_FINGERPRINT);
  if (!key) {
    throw new SignatureError(
      `${url} served key ${keys.map(fingerprintOf).join(', ')}, not borg's pinned key ${PINNED_FINGERPRINT}: refused, nothing was written`,
    );
  }
  // Merge into the copy we already trust rather than replace it: a keyserver (or whoever stands in
  // for it) can then add what the key's owner signed (new expiry, subkeys, revocations) but cannot
  // take back a revocation we already hold. It also covers keys.openpgp.org's habit of leaving out
  // user IDs whose owner has not confirmed an email: a v4 key without user IDs has no
  // self-signature to judge it by and would refuse every signature; the current copy has them.
  const base = await currentCopy(env);
  return base.update(key);
}

/** The refreshed copy if it holds the pinned key, else the bundled one. */
async function currentCopy(env: NodeJS.ProcessEnv | undefined): Promise<openpgp.PublicKey> {
  for (const read of [() => readKeyFile(refreshedKeyPath(env)), readBundledKey]) {
    const keys = await read().catch(() => [] as openpgp.PublicKey[]);
    const key = keys.find((k) => fingerprintOf(k) === PINNED_FINGERPRINT);
    if (key) return key;
  }
  throw new SignatureError(`the bundled key file does not hold borg's pinned key: reinstall borg-provision`);
}

/**
 * Temp file in the same directory, fsync, rename (util's writeFileAtomic): the old copy stays until
 * the new one is whole.
 */
async function writeAtomically(file: string, text: string, signal?: AbortSignal): Promise<void> {
  throwIfAborted(signal);
  try {
    await makeDirs(path.dirname(file), 0o700);
    await writeFileAtomic(file, text, { mode: 0o644 });
  } catch (err) {
    throw filesystemError(err, 'write', file);
  }
}
