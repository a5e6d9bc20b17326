// `install --from PATH`: the air-gapped path. PATH is a release asset with its `.asc` beside it,
// a directory holding a release's assets (the best fit is chosen as for a download), or a
// `build --vagrant` artifact `borg-dir-<version>.tgz` with its manifest (unsigned, SHA-256 checked).
// resolveLocalFile finds the file; LocalSource gets and judges its bytes like a download's.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { BadInputError, ChecksumError, InterruptedError, UsageError } from '../errors';
import { sha256File, type FileDigest } from '../util/sha256';
import { manifestPathFor, readBuildManifest, type BuildManifest } from './build-manifest';
import type { AssetChoice, Release } from '../releases';
import type { Target } from '../target';
import {
  requireSignatureOrConsent,
  unsignedVerification,
  verifySignature,
  type Fetched,
  type Source,
  type SourceContext,
  type SourceFacts,
  type Verification,
} from './source';

/** The file --from names or chooses, and what is known of it. */
export interface LocalFile {
  archive: string;
  /** The `.asc` beside it, or null when there is none. Whenever there is one, it is verified. */
  signature: string | null;
  asset: string;
  kind: 'onedir' | 'onefile';
  glibc: string | null;
  arch: string | null;
  builtOn: 'local' | 'github';
  /** Set for an unsigned `build --vagrant` artifact (checked by its manifest's SHA-256 only). */
  build: BuildManifest | null;
  version: string;
  /** Why this file was chosen from a directory, for people; null for a file named by --from. */
  chosen: string | null;
}

type SelectOpts = { allowUnsigned?: boolean; asset?: string };

export async function resolveLocalFile(
  from: string,
  version: string | undefined,
  target: Target,
  o: SelectOpts,
): Promise<LocalFile> {
  const st = await fs.stat(from).catch(() => null);
  if (!st) throw new BadInputError(`--from ${from}: no such file or directory`);
  if (st.isDirectory()) return fromDirectory(from, version, target, o);
  if (!st.isFile()) throw new BadInputError(`--from ${from} is not a file or directory`);
  return fromFile(from, version);
}

/**
 * A file named by --from. With an `.asc` beside it, the signature decides (a build manifest beside
 * it only supplies the version and build facts): a signed file is never installed on its SHA-256
 * alone. Without one, a `borg-dir-<v>.tgz` with its manifest is an unsigned local build, accepted
 * because it was named explicitly.
 */
async function fromFile(file: string, version: string | undefined, chosen: string | null = null): Promise<LocalFile> {
  const name = path.basename(file);
  const manifestFile = name.endsWith('.tgz') ? manifestPathFor(file) : null;
  const build =
    manifestFile && (await isFile(manifestFile)) ? await readBuildManifestFor(file, manifestFile, version) : null;
  const signature = (await isFile(`${file}.asc`)) ? `${file}.asc` : null;
  if (build && !signature) return { ...fromBuild(file, build), chosen };
  const v = version ?? build?.borgVersion;
  if (!v)
    throw new UsageError(
      `give the borg version to install from ${name}, e.g. borg-provision install 1.4.2 --from ${file}`,
    );
  const parsed = (await import('../releases')).parseAssetName(name);
  return {
    archive: file,
    signature,
    asset: name,
    kind: name.endsWith('.tgz') ? 'onedir' : 'onefile',
    glibc: build?.glibc ?? parsed.glibc,
    arch: build?.arch ?? parsed.arch,
    builtOn: build ? 'local' : parsed.builtOn,
    build: null,
    version: v,
    chosen,
  };
}

async function readBuildManifestFor(
  file: string,
  manifestFile: string,
  version: string | undefined,
): Promise<BuildManifest> {
  const build = await readBuildManifest(manifestFile);
  if (build.artifact !== path.basename(file)) {
    throw new BadInputError(`${manifestFile} describes ${build.artifact}, not ${path.basename(file)}`);
  }
  if (version && version.replace(/^v/, '') !== build.borgVersion) {
    throw new UsageError(`${path.basename(file)} is borg ${build.borgVersion}, not ${version}`);
  }
  return build;
}

function fromBuild(file: string, build: BuildManifest): Omit<LocalFile, 'chosen'> {
  return {
    archive: file,
    signature: null,
    asset: build.artifact,
    kind: 'onedir',
    glibc: build.glibc,
    arch: build.arch,
    builtOn: 'local',
    build,
    version: build.borgVersion,
  };
}

/**
 * A directory: the best signed release asset that fits, chosen as for a download. A local build
 * artifact (`borg-dir-<v>.tgz` + manifest) is taken only when no signed asset fits (or it is the
 * only thing there and no version was given); `chosen` says which was taken and why.
 */
async function fromDirectory(
  dir: string,
  version: string | undefined,
  target: Target,
  o: SelectOpts,
): Promise<LocalFile> {
  const names = (await fs.readdir(dir)).sort();
  const builds = names.filter((n) => /^borg-dir-.+\.tgz$/.test(n) && names.includes(path.basename(manifestPathFor(n))));
  if (o.asset && builds.includes(o.asset))
    return fromFile(path.join(dir, o.asset), version, `${o.asset}: named by --asset`);
  const releaseAssets = names.filter(
    (n) => n.startsWith('borg-') && !builds.includes(n) && !/^borg-dir-.+\.(manifest\.json|tgz\.asc)$/.test(n),
  );
  if (!version) {
    if (builds.length === 1 && releaseAssets.length === 0) {
      return fromFile(path.join(dir, builds[0]), version, `${builds[0]}: the only build in ${dir}`);
    }
    const hint = builds.length > 1 ? ` (it holds builds ${builds.join(', ')})` : '';
    throw new UsageError(
      `give the borg version to install from ${dir}${hint}, e.g. borg-provision install 1.4.2 --from ${dir}`,
    );
  }
  const v = version.replace(/^v/, '');
  const build = builds.find((n) => n === `borg-dir-${v}.tgz`) ?? null;
  const releases = await import('../releases');
  const release: Release = {
    tag: `v${v}`,
    version: v,
    name: v,
    publishedAt: null,
    prerelease: false,
    assets: await Promise.all(
      names.map(async (n) => ({
        name: n,
        size: (await fs.stat(path.join(dir, n))).size,
        url: path.join(dir, n),
        digest: null,
      })),
    ),
  };
  const selection = releases.selectAsset(release, target, o);
  const pick = selection.selected;
  if (build && !o.asset && (!pick || !pick.signed)) {
    return fromFile(
      path.join(dir, build),
      version,
      `${build}: no signed release asset in ${dir} fits glibc ${target.glibc} ${target.arch}`,
    );
  }
  const choice: AssetChoice = releases.requireSelected(selection, o);
  if (choice.kind !== 'onedir' && choice.kind !== 'onefile')
    throw new BadInputError(`${choice.name} is not a borg binary`);
  const signature = path.join(dir, `${choice.name}.asc`);
  const over = build ? ` over the local build ${build}` : '';
  return {
    archive: path.join(dir, choice.name),
    signature: (await isFile(signature)) ? signature : null,
    asset: choice.name,
    kind: choice.kind,
    glibc: choice.glibc,
    arch: choice.arch,
    builtOn: choice.builtOn,
    build: null,
    version: v,
    chosen: `${choice.name}: ${choice.signed ? 'signed' : 'UNSIGNED'} release asset, the best fit for glibc ${target.glibc} ${target.arch}${over}`,
  };
}

/** SHA-256 and size of a --from file; a read failure is bad input (exit 2), an abort exit 130. */
export async function hashLocalFile(file: string, signal?: AbortSignal): Promise<FileDigest> {
  try {
    return await sha256File(file, signal);
  } catch (err) {
    if (signal?.aborted) throw new InterruptedError();
    throw new BadInputError(`cannot read ${file}: ${(err as Error).message}`);
  }
}

async function isFile(p: string): Promise<boolean> {
  return fs.stat(p).then(
    (s) => s.isFile(),
    () => false,
  );
}

export class LocalSource implements Source {
  readonly facts: SourceFacts;

  constructor(private readonly file: LocalFile) {
    this.facts = {
      version: file.version,
      asset: file.asset,
      kind: file.kind,
      source: file.build ? 'built locally' : 'file',
      archiveUrl: file.archive,
      signatureUrl: file.signature,
      assetGlibc: file.glibc,
      chosen: file.chosen,
      check: file.build
        ? `SHA-256 of ${file.asset} against its build manifest (a locally built, unsigned archive)`
        : `OpenPGP signature ${file.signature ?? 'none'}`,
      from: path.resolve(file.archive),
    };
  }

  requireVerifiable(allowUnsigned: boolean | undefined): void {
    if (this.file.signature === null && this.file.build === null)
      requireSignatureOrConsent(this.file.asset, this.file.builtOn === 'github', allowUnsigned);
  }

  async obtain(ctx: SourceContext): Promise<Fetched> {
    const f = this.file;
    if (f.signature) {
      const size = (
        await fs.stat(f.archive).catch((err) => {
          throw new BadInputError(`cannot read ${f.archive}: ${(err as Error).message}`);
        })
      ).size;
      // The signature check hashes the file itself.
      return { archive: f.archive, signature: f.signature, sha256: null, size, fromCache: false };
    }
    return { archive: f.archive, signature: null, ...(await hashLocalFile(f.archive, ctx.signal)), fromCache: false };
  }

  async verify(fetched: Fetched, ctx: SourceContext): Promise<Verification> {
    const f = this.file;
    if (f.build) {
      // This early hash only refuses a wrong file before anything is written; what protects the
      // install is that unpacking accepts nothing but bytes with the manifest's digest.
      if (fetched.sha256 !== f.build.sha256) {
        throw new ChecksumError(
          `${f.asset} does not match its build manifest (SHA-256 ${fetched.sha256}, manifest says ${f.build.sha256}); rebuild it`,
        );
      }
      ctx.warn(
        `${f.asset} is a locally built, UNSIGNED archive: it was checked only by SHA-256 against its build manifest`,
      );
      return {
        status: 'sha256-manifest',
        sha256: f.build.sha256,
        signingFingerprint: null,
        primaryFingerprint: null,
        keySource: null,
        hash: 'sha256',
        warnings: [],
      };
    }
    if (fetched.signature) return verifySignature(f.asset, { ...fetched, signature: fetched.signature }, ctx);
    this.requireVerifiable(ctx.allowUnsigned);
    return unsignedVerification(f.asset, fetched.sha256!, ctx.warn);
  }
}
