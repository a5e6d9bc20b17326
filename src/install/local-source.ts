// `install --from PATH`: the air-gapped path. PATH is a release asset with its `.asc` beside it,
// a directory holding a release's assets (the best fit is chosen as for a download), or a
// `build --vagrant` artifact `borg-dir-<version>.tgz` with its manifest (unsigned, SHA-256 checked).
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { BadInputError, InterruptedError, UsageError } from '../errors';
import { sha256File, type FileDigest } from '../util/sha256';
import { manifestPathFor, readBuildManifest, type BuildManifest } from '../build/manifest';
import type { AssetChoice, Release } from '../releases/types';

export interface LocalSource {
  archive: string;
  /** The `.asc` beside it, or null when there is none. */
  signature: string | null;
  asset: string;
  kind: 'onedir' | 'onefile';
  glibc: string | null;
  arch: string | null;
  builtOn: 'local' | 'github';
  /** Set for a `build --vagrant` artifact. */
  build: BuildManifest | null;
  version: string;
}

export interface LocalTarget {
  glibc: string;
  arch: string;
}

export async function resolveLocalSource(
  from: string,
  version: string | undefined,
  target: LocalTarget,
  o: { allowUnsigned?: boolean; asset?: string },
): Promise<LocalSource> {
  const st = await fs.stat(from).catch(() => null);
  if (!st) throw new BadInputError(`--from ${from}: no such file or directory`);
  if (st.isDirectory()) return fromDirectory(from, version, target, o);
  if (!st.isFile()) throw new BadInputError(`--from ${from} is not a file or directory`);
  return fromFile(from, version);
}

async function fromFile(file: string, version: string | undefined): Promise<LocalSource> {
  const name = path.basename(file);
  const manifestFile = name.endsWith('.tgz') ? manifestPathFor(file) : null;
  if (manifestFile && (await isFile(manifestFile))) return fromBuild(file, manifestFile, version);
  if (!version) throw new UsageError(`give the borg version to install from ${name}, e.g. borg-provision install 1.4.2 --from ${file}`);
  const parsed = (await import('../releases')).parseAssetName(name);
  const signature = (await isFile(`${file}.asc`)) ? `${file}.asc` : null;
  return {
    archive: file,
    signature,
    asset: name,
    kind: name.endsWith('.tgz') ? 'onedir' : 'onefile',
    glibc: parsed.glibc,
    arch: parsed.arch,
    builtOn: parsed.builtOn,
    build: null,
    version,
  };
}

async function fromBuild(file: string, manifestFile: string, version: string | undefined): Promise<LocalSource> {
  const build = await readBuildManifest(manifestFile);
  if (build.artifact !== path.basename(file)) {
    throw new BadInputError(`${manifestFile} describes ${build.artifact}, not ${path.basename(file)}`);
  }
  if (version && version.replace(/^v/, '') !== build.borgVersion) {
    throw new UsageError(`${path.basename(file)} is borg ${build.borgVersion}, not ${version}`);
  }
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

async function fromDirectory(
  dir: string,
  version: string | undefined,
  target: LocalTarget,
  o: { allowUnsigned?: boolean; asset?: string },
): Promise<LocalSource> {
  const names = (await fs.readdir(dir)).sort();
  const builds = names.filter((n) => /^borg-dir-.+\.tgz$/.test(n) && names.includes(path.basename(manifestPathFor(n))));
  const wanted = version ? builds.filter((n) => n === `borg-dir-${version.replace(/^v/, '')}.tgz`) : builds;
  if (wanted.length === 1 && !o.asset) return fromFile(path.join(dir, wanted[0]), version);
  if (!version) {
    const hint = builds.length > 1 ? ` (it holds builds ${builds.join(', ')})` : '';
    throw new UsageError(`give the borg version to install from ${dir}${hint}, e.g. borg-provision install 1.4.2 --from ${dir}`);
  }
  const releases = await import('../releases');
  const release: Release = {
    tag: `v${version}`,
    version,
    name: version,
    publishedAt: null,
    prerelease: false,
    assets: await Promise.all(names.map(async (n) => ({ name: n, size: (await fs.stat(path.join(dir, n))).size, url: path.join(dir, n), digest: null }))),
  };
  const selection = releases.selectAsset(release, target, o);
  const choice: AssetChoice = releases.requireSelected(selection, o);
  if (choice.kind !== 'onedir' && choice.kind !== 'onefile') throw new BadInputError(`${choice.name} is not a borg binary`);
  const signature = path.join(dir, `${choice.name}.asc`);
  return {
    archive: path.join(dir, choice.name),
    signature: (await isFile(signature)) ? signature : null,
    asset: choice.name,
    kind: choice.kind,
    glibc: choice.glibc,
    arch: choice.arch,
    builtOn: choice.builtOn,
    build: null,
    version,
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
  return fs.stat(p).then((s) => s.isFile(), () => false);
}
