// Where a build comes from: a release download (release-source.ts) or a file on this machine
// (local-source.ts). Each says what it is, gets its bytes, and judges them; install.ts runs the
// same steps for both. Nothing is unpacked before `verify` has passed.
import { ChecksumError, SignatureError, throwIfAborted } from '../errors';
import type { SigningKey } from '../verify';

/** What the plan shows of a source (install --dry-run, --json). */
export interface SourceFacts {
  version: string;
  asset: string;
  kind: 'onedir' | 'onefile';
  source: 'release' | 'file' | 'built locally';
  archiveUrl: string;
  signatureUrl: string | null;
  assetGlibc: string | null;
  /** --from DIR: which file was taken and why; null otherwise. */
  chosen: string | null;
  /** How the bytes are judged, for people. */
  check: string;
  /** Where it came from, for the manifest: the asset URL or the absolute file path. */
  from: string;
}

/** The bytes in hand, not yet judged. */
export interface Fetched {
  archive: string;
  signature: string | null;
  /**
   * The download's SHA-256, or for an unsigned local file a hash of it; null for a signed local file
   * (the signature check hashes it).
   */
  sha256: string | null;
  size: number;
  fromCache: boolean;
}

export interface Verification {
  status: 'good' | 'good-expired-key' | 'unsigned' | 'sha256-manifest';
  /**
   * SHA-256 of the bytes this verdict is about; unpacking accepts only these bytes. Signed: hashed
   * by the signature check's own read. Build artifact: the manifest's. Unsigned: the download's.
   */
  sha256: string;
  signingFingerprint: string | null;
  primaryFingerprint: string | null;
  keySource: string | null;
  hash: string | null;
  warnings: string[];
  /** With an expired key copy: what gets the current one (VerifyResult.keyFix). */
  keyFix?: string | null;
}

/** What a source is handed to get and judge its bytes. */
export interface SourceContext {
  key: SigningKey;
  strictKeyExpiry?: boolean;
  allowUnsigned?: boolean;
  signal?: AbortSignal;
  net?: import('../net').NetOptions;
  onProgress?: (e: import('../fetch').ProgressEvent) => void;
  step: (line: string) => void;
  warn: (line: string) => void;
}

export interface Source {
  readonly facts: SourceFacts;
  /** Refuses, before anything is fetched or locked, a source that cannot be verified and was not consented to. */
  requireVerifiable(allowUnsigned: boolean | undefined): void;
  obtain(ctx: SourceContext): Promise<Fetched>;
  verify(f: Fetched, ctx: SourceContext): Promise<Verification>;
}

/** No `.asc`: refused unless a GitHub-built (-gh) asset with --allow-unsigned. */
export function requireSignatureOrConsent(name: string, fromGithub: boolean, allowUnsigned: boolean | undefined): void {
  if (fromGithub && allowUnsigned) return;
  const hint = fromGithub ? '; --allow-unsigned accepts a -gh build unverified' : '; put the .asc file beside it';
  throw new SignatureError(`${name} has no signature (${name}.asc is missing); refusing to install it${hint}`);
}

/** An unsigned -gh build, accepted with --allow-unsigned: at least exactly the bytes downloaded are installed. */
export function unsignedVerification(name: string, sha256: string, warn: (line: string) => void): Verification {
  warn(`${name} is an UNSIGNED GitHub build, installed unverified because of --allow-unsigned`);
  return {
    status: 'unsigned',
    sha256,
    signingFingerprint: null,
    primaryFingerprint: null,
    keySource: null,
    hash: null,
    warnings: [],
  };
}

/** The OpenPGP verdict on the archive; the binding unpacking demands is the SHA-256 the check itself read. */
export async function verifySignature(
  name: string,
  f: Fetched & { signature: string },
  ctx: SourceContext,
): Promise<Verification> {
  ctx.step(`verifying the signature of ${name}`);
  for (const w of ctx.key.warnings) ctx.warn(w);
  const { verifyDetachedFile } = await import('../verify');
  const r = await verifyDetachedFile({
    file: f.archive,
    signature: f.signature,
    key: ctx.key,
    strictKeyExpiry: ctx.strictKeyExpiry,
    signal: ctx.signal,
  });
  if (f.sha256 !== null && f.sha256 !== r.sha256) {
    // Signed bytes, but not the ones downloaded: something rewrote the cache file. Fail closed.
    throw new ChecksumError(
      `${name} changed between download and verification (SHA-256 ${r.sha256.slice(0, 16)}…, downloaded ${f.sha256.slice(0, 16)}…); nothing was installed: install again`,
    );
  }
  throwIfAborted(ctx.signal);
  for (const w of r.warnings) ctx.warn(w);
  return {
    status: r.status,
    sha256: r.sha256,
    signingFingerprint: r.signingFingerprint,
    primaryFingerprint: r.primaryFingerprint,
    keySource: ctx.key.source,
    hash: r.hash,
    warnings: r.warnings,
    keyFix: r.keyFix,
  };
}
