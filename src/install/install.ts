// `install`: target -> catalog -> fetch -> verify -> unpack -> ELF check -> activate -> smoke test.
// Nothing from a download is unpacked or run before its signature (or, for a local build, its
// manifest's SHA-256) has passed. All writes under the prefix go to temporary names that are
// removed on any failure or interrupt; the previous `current` stays until the new one has run.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import {
  InterruptedError,
  NoCompatibleBuildError,
  UsageError,
  filesystemError,
  isProvisionError,
  throwIfAborted,
} from '../errors';
import type { ProgressEvent } from '../fetch';
import type { NetOptions } from '../net';
import type { Release } from '../releases';
import type { Target } from '../target';
import type { SigningKey } from '../verify';
import { scanElfTree } from './elf-scan';
import { acquireLock } from './lock';
import { checkPlace } from './places';
import { makePlan, manifestFor, type InstallPlan } from './plan';
import type { Fetched, Source, SourceContext, Verification } from './source';
import {
  checkVersionString,
  readCurrent,
  readManifest,
  recoverInterrupted,
  removeEmptyDirs,
  removeTree,
  tmpName,
  writeManifest,
} from './store';
import { foreignWrapperError, inspectWrapper, onPath } from './wrapper';
import { makeDirs } from '../util/make-dirs';

export type { InstallPlan } from './plan';
export type { Verification } from './source';

export interface InstallOptions {
  version?: string;
  prefix: string;
  binDir: string;
  apiUrl?: string;
  token?: string;
  /** Network tuning (BORG_PROVISION_NET) and the command's callbacks; else from the environment. */
  net?: NetOptions;
  /** What builds are judged against: this machine, resolved by the command (--glibc/--arch override it, for tests). */
  target: Target;
  asset?: string;
  allowUnsigned?: boolean;
  strictKeyExpiry?: boolean;
  /** The key signatures are checked against, loaded (and judged) by the command before the install starts. */
  key: SigningKey;
  from?: string;
  dryRun?: boolean;
  force?: boolean;
  /** Keep the downloaded archive and signature in the cache (by default they go once installed). */
  keepDownload?: boolean;
  signal?: AbortSignal;
  /** Progress and warning lines for the command to render. */
  onStep?: (line: string) => void;
  onWarning?: (line: string) => void;
  onProgress?: (e: ProgressEvent) => void;
  /**
   * TEST SEAM, not reachable from the CLI: runs after the archive is verified and before it is
   * unpacked. test/install/toctou.test.ts uses it to change the file in exactly that gap.
   */
  afterVerify?: (archive: string) => Promise<void>;
}

export interface InstallResult {
  action: 'installed' | 'reinstalled' | 'already-installed' | 'dry-run';
  version: string;
  current: boolean;
  previous: string | null;
  plan: InstallPlan;
  verification: Verification | null;
  glibcNeeded: string | null;
  elfFiles: number;
  smoke: string | null;
  warnings: string[];
}

export async function install(o: InstallOptions): Promise<InstallResult> {
  const warnings: string[] = [];
  const warn = (w: string): void => {
    warnings.push(w);
    o.onWarning?.(w);
  };
  const prepared = await prepare(o);
  const { plan } = prepared;
  throwIfAborted(o.signal);

  const current = await readCurrent(plan.prefix);
  const installed = await readManifest(plan.dir);
  if (o.dryRun) return noChange('dry-run', plan, current, warnings);
  if (installed && !o.force) {
    if (current !== plan.version)
      warn(`borg ${plan.version} is installed but not current: run borg-provision use ${plan.version}`);
    return noChange('already-installed', plan, current, warnings);
  }
  return { ...(await perform(o, prepared, warn)), action: installed ? 'reinstalled' : 'installed', warnings };
}

interface Prepared {
  plan: InstallPlan;
  source: Source;
}

/** Everything decided before anything is written or downloaded. */
async function prepare(o: InstallOptions): Promise<Prepared> {
  const prefix = path.resolve(o.prefix);
  const binDir = path.resolve(o.binDir);
  if (o.version) checkVersionString(o.version);
  // Places that cannot run borg, and a bin-dir we would clobber, are refused first.
  const { pathReport } = await import('../target');
  await checkPlace('--prefix', prefix, pathReport);
  await checkPlace('--bin-dir', binDir, pathReport);
  if ((await inspectWrapper(binDir)).state === 'foreign') throw foreignWrapperError(binDir);
  const release = await fetchRelease(o);
  const source = await resolveSource(o, o.target, release);
  source.requireVerifiable(o.allowUnsigned);
  if (source.facts.chosen) o.onStep?.(`chose ${source.facts.chosen}`);
  return { plan: makePlan(source.facts, o.target, prefix, binDir), source };
}

async function fetchRelease(o: InstallOptions): Promise<Release | null> {
  if (o.from) return null;
  if (!o.version) throw new UsageError('give the borg version to install, e.g. borg-provision install 1.4.2');
  const [releases, net] = await Promise.all([import('../releases'), import('../net')]);
  return releases.getRelease(o.version, {
    apiUrl: o.apiUrl,
    token: o.token,
    signal: o.signal,
    net: o.net ?? net.netOptionsFromEnv(),
  });
}

async function resolveSource(o: InstallOptions, t: Target, release: Release | null): Promise<Source> {
  const selectOpts = { allowUnsigned: o.allowUnsigned, asset: o.asset };
  if (o.from || !release) {
    const { LocalSource, resolveLocalFile } = await import('./local-source');
    return new LocalSource(await resolveLocalFile(path.resolve(o.from!), o.version, t, selectOpts));
  }
  const [releases, { ReleaseSource }] = await Promise.all([import('../releases'), import('./release-source')]);
  const selection = releases.selectAsset(release, t, selectOpts);
  if (!selection.selected) {
    // What would fit instead, from the releases the server lists (none named if it cannot say).
    const api = { apiUrl: o.apiUrl, token: o.token, signal: o.signal, net: o.net };
    const others = selectOpts.asset ? [] : await releases.findOtherFits(release.version, selection.target, api);
    throw new NoCompatibleBuildError(releases.noCompatibleMessage(selection, selectOpts, others));
  }
  const choice = selection.selected;
  if (choice.kind !== 'onedir' && choice.kind !== 'onefile')
    throw new UsageError(`${choice.name} is not a borg binary`);
  return new ReleaseSource({ ...choice, kind: choice.kind }, release.version);
}

/** The locked part: fetch, verify, unpack, check, activate. Cleans up after itself on any failure. */
async function perform(
  o: InstallOptions,
  p: Prepared,
  warn: (w: string) => void,
): Promise<Omit<InstallResult, 'action' | 'warnings'>> {
  const { plan } = p;
  const createdPrefix = await makeDirs(plan.prefix).catch((err) => {
    throw filesystemError(err, 'create the prefix', plan.prefix);
  });
  let done = false;
  try {
    const lock = await acquireLock(plan.prefix);
    try {
      const { restored } = await recoverInterrupted(plan.prefix);
      for (const v of restored) warn(`put back borg ${v}, left aside by an install that was killed while replacing it`);
      const result = await buildAndActivate(o, p, warn, restored.includes(plan.version));
      done = true;
      return result;
    } finally {
      await lock.release().catch(() => undefined);
    }
  } catch (err) {
    throw o.signal?.aborted && !isProvisionError(err) ? new InterruptedError() : err;
  } finally {
    if (!done && createdPrefix) await removeEmptyDirs(plan.prefix, createdPrefix);
  }
}

/** Under the lock: the steps in order, the staging directory removed whatever happens. */
async function buildAndActivate(
  o: InstallOptions,
  p: Prepared,
  warn: (w: string) => void,
  replaceRestored: boolean,
): Promise<Omit<InstallResult, 'action' | 'warnings'>> {
  const { plan, source } = p;
  const step = (s: string): void => o.onStep?.(s);
  const ctx: SourceContext = {
    key: o.key,
    strictKeyExpiry: o.strictKeyExpiry,
    allowUnsigned: o.allowUnsigned,
    signal: o.signal,
    net: o.net,
    onProgress: o.onProgress,
    step,
    warn,
  };
  const fetched = await source.obtain(ctx);
  const verification = await source.verify(fetched, ctx);
  throwIfAborted(o.signal);
  await o.afterVerify?.(fetched.archive);

  const staging = tmpName(plan.prefix, 'staging');
  await fs.mkdir(staging, { mode: 0o755 }).catch((err) => {
    throw filesystemError(err, 'create a staging directory in', plan.prefix);
  });
  try {
    step(`unpacking ${plan.asset}`);
    const built = await stageBuild(plan, fetched.archive, staging, verification.sha256, o.signal);
    step('checking every ELF file against the target glibc');
    const scan = await scanElfTree(built, o.target, await import('../target'), o.signal);
    await writeManifest(built, manifestFor(plan, source.facts.from, fetched, verification, scan.maxGlibcNeeded)).catch(
      (err) => {
        throw filesystemError(err, 'write the manifest in', built);
      },
    );
    throwIfAborted(o.signal);

    step(`activating borg ${plan.version} and running borg -V`);
    const { activate } = await import('./activate');
    const act = await activate({
      prefix: plan.prefix,
      binDir: plan.binDir,
      version: plan.version,
      staged: built,
      replace: !!o.force || replaceRestored,
      signal: o.signal,
    });
    if (source.facts.source === 'release' && !o.keepDownload) await dropDownload(fetched);
    // Said once the wrapper is there, not for a dry run or an install that changed nothing.
    if (!onPath(plan.binDir)) warn(`${plan.binDir} is not on PATH: add it, or run ${plan.wrapper} by its full path`);
    return {
      version: plan.version,
      current: true,
      previous: act.previous,
      plan,
      verification,
      glibcNeeded: scan.maxGlibcNeeded,
      elfFiles: scan.elfFiles,
      smoke: act.smoke.output,
    };
  } finally {
    await removeTree(staging).catch(() => undefined);
  }
}

/**
 * Verify-then-unpack reads the archive twice, and whoever can write the file (the download cache,
 * a --from directory) could change it in between. So the second read is hashed as it feeds tar (or
 * the one-file copy) and must equal `verifiedSha256`, the digest of the very bytes the verdict is
 * about (see Verification.sha256). Comparing with a hash taken at any other moment (a re-hash
 * before or after verifying) would not do: the file could hold other bytes while the signature
 * check read it. A mismatch is a ChecksumError; the caller removes the staging directory.
 */
async function stageBuild(
  plan: InstallPlan,
  archive: string,
  staging: string,
  verifiedSha256: string,
  signal?: AbortSignal,
): Promise<string> {
  const [{ checkOneDirLayout, stageOneFile }, { unpackArchive }] = await Promise.all([
    import('./layout'),
    import('./unpack'),
  ]);
  if (plan.kind === 'onefile') return stageOneFile(archive, staging, verifiedSha256, signal);
  await unpackArchive({ archive, dest: staging, expectSha256: verifiedSha256, signal });
  return checkOneDirLayout(staging, plan.asset);
}

/** The installed archive and its signature leave the download cache. */
async function dropDownload(f: Fetched): Promise<void> {
  const { removeDownload } = await import('../fetch');
  for (const file of [f.signature, f.archive]) if (file) await removeDownload(file);
}

function noChange(
  action: 'dry-run' | 'already-installed',
  plan: InstallPlan,
  current: string | null,
  warnings: string[],
): InstallResult {
  return {
    action,
    version: plan.version,
    current: current === plan.version,
    previous: current,
    plan,
    verification: null,
    glibcNeeded: null,
    elfFiles: 0,
    smoke: null,
    warnings,
  };
}
