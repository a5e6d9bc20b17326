// The one input a build takes from the outside: borg's sdist. It is fetched with its `.asc`
// (or taken from --from-sdist), verified with the pinned key and the same policy as binaries,
// and only then copied into the work dir that Vagrant uploads to the VM.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { BadInputError, ReleaseNotFoundError, filesystemError, throwIfAborted } from '../errors';
import type { ProgressEvent } from '../fetch';
import type { ApiOptions } from '../releases';
import type { SigningKey, VerifyResult } from '../verify';
import { copyFileAtomic } from '../util/atomic-write';
import { sdistNameFor } from './plan';
import { makeDirs } from '../util/make-dirs';

export interface SdistOptions {
  version: string;
  /** `--from-sdist FILE`: a local sdist instead of the release asset. */
  fromFile?: string;
  /** Its signature; default FILE.asc. */
  signatureFile?: string;
  /** The key the sdist's signature is checked against, loaded by the command. */
  key: SigningKey;
  strictKeyExpiry?: boolean;
  api?: ApiOptions;
  signal?: AbortSignal;
  onDownload?: (e: ProgressEvent) => void;
}

export interface VerifiedSdist {
  /** Path inside the work dir (input/<name>), written only after verification. */
  path: string;
  name: string;
  source: 'release' | 'file';
  verification: VerifyResult;
  keyWarnings: string[];
}

/** Newest stable (non-prerelease) borg version on the release page. */
export async function newestStableVersion(api: ApiOptions): Promise<string> {
  const { listReleases, comparePep440, isPep440, isPrerelease } = await import('../releases');
  // By the version itself too (PEP 440: a, b, rc, dev, with or without a number): the GitHub flag
  // is set by hand and has been forgotten. A tag that is no version at all is never built.
  const stable = (await listReleases(api)).filter(
    (r) => !r.prerelease && isPep440(r.version) && !isPrerelease(r.version),
  );
  if (stable.length === 0)
    throw new ReleaseNotFoundError(
      'found no stable borg release to build: give the version, e.g. build --vagrant 1.4.2',
    );
  return stable
    .map((r) => r.version)
    .sort(comparePep440)
    .at(-1)!;
}

export async function prepareVerifiedSdist(o: SdistOptions, inputDir: string): Promise<VerifiedSdist> {
  const name = sdistNameFor(o.version);
  const located = o.fromFile ? await localSdist(o, name) : await downloadSdist(o, name);
  throwIfAborted(o.signal);
  const { verifyDetachedFile } = await import('../verify');
  const { key } = o;
  const verification = await verifyDetachedFile({
    file: located.file,
    signature: located.signature,
    key,
    strictKeyExpiry: o.strictKeyExpiry,
    signal: o.signal,
  });
  // Verified: now, and only now, it goes where the VM will see it.
  const dest = path.join(inputDir, name);
  try {
    await makeDirs(inputDir);
    await copyFileAtomic(located.file, dest);
  } catch (err) {
    throw filesystemError(err, 'copy the verified sdist to', dest);
  }
  return { path: dest, name, source: o.fromFile ? 'file' : 'release', verification, keyWarnings: key.warnings };
}

async function localSdist(o: SdistOptions, name: string): Promise<{ file: string; signature: string }> {
  const file = path.resolve(o.fromFile!);
  if (path.basename(file) !== name) {
    throw new BadInputError(
      `--from-sdist ${o.fromFile} is not ${name}: the sdist of borg ${o.version} is named ${name}`,
    );
  }
  const signature = path.resolve(o.signatureFile ?? `${file}.asc`);
  for (const f of [file, signature]) {
    const st = await fs.stat(f).catch(() => null);
    if (!st?.isFile()) {
      const what = f === file ? 'the sdist' : 'its signature (pass --sdist-signature FILE)';
      throw new BadInputError(`${f} does not exist or is not a file: ${what} is needed`);
    }
  }
  return { file, signature };
}

async function downloadSdist(o: SdistOptions, name: string): Promise<{ file: string; signature: string }> {
  const { getRelease } = await import('../releases');
  const { download } = await import('../fetch');
  const release = await getRelease(o.version, { ...o.api, signal: o.signal });
  const asset = release.assets.find((a) => a.name === name);
  const asc = release.assets.find((a) => a.name === `${name}.asc`);
  if (!asset || !asc) {
    throw new ReleaseNotFoundError(
      `release ${release.tag} has no ${asset ? `${name}.asc` : name}: the build needs borg's signed sdist; use --from-sdist FILE with its .asc`,
    );
  }
  const digest = asset.digest?.startsWith('sha256:') ? asset.digest : undefined;
  const [file, signature] = await Promise.all([
    download({
      url: asset.url,
      fileName: name,
      expectedSize: asset.size,
      expectedSha256: digest,
      signal: o.signal,
      onProgress: o.onDownload,
      net: o.api?.net,
    }),
    download({
      url: asc.url,
      fileName: asc.name,
      expectedSize: asc.size,
      signal: o.signal,
      onProgress: o.onDownload,
      net: o.api?.net,
    }),
  ]);
  return { file: file.path, signature: signature.path };
}
