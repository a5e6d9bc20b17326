// `install`: target -> catalog -> fetch -> verify -> unpack -> ELF check -> activate -> smoke test.
// Nothing from a download is unpacked or run before its signature (or, for a local build, its
// manifest's SHA-256) has passed. All writes under the prefix go to temporary names that are
// removed on any failure or interrupt; the previous `current` stays until the new one has run.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { BadInputError, ChecksumError, InterruptedError, NoCompatibleBuildError, SignatureError, UsageError, filesystemError, isProvisionError, throwIfAborted } from '../errors';
import type { AssetChoice, Release } from '../releases/types';
import type { LibcTarget } from '../target/types';
import { elfIdentityForArch, scanElfTree, type ScanTarget } from './elf-scan';
import type { LocalSource } from './local-source';
import { acquireLock } from './lock';
import { checkPlace } from './places';
import { checkVersionString, readCurrent, readManifest, recoverInterrupted, removeEmptyDirs, removeTree, tmpName, versionDir, writeManifest, type InstallManifest } from './store';
import type { SigningKey } from '../verify';
import { inspectWrapper, foreignWrapperError, onPath, wrapperPath } from './wrapper';

export interface InstallOptions {
  version?: string;
  prefix: string;
  binDir: string;
  apiUrl?: string;
  token?: string;
  /** Network tuning (BORG_PROVISION_NET), from the command's API options; else from the environment. */
  net?: import('../fetch/net-options').NetOptions;
  /**
   * The glibc release and arch builds are judged against: this machine's, resolved by the command
   * (src/cli/target-flags.ts; --glibc/--arch override it, for tests). `libcTarget` is the libc read.
   * May be a promise: reading the libc (~0.08 s) then overlaps the release look-up.
   */
  target: TargetFacts | Promise<TargetFacts>;
  asset?: string;
  allowUnsigned?: boolean;
  strictKeyExpiry?: boolean;
  signingKey?: string;
  fingerprint?: string;
  from?: string;
  dryRun?: boolean;
  force?: boolean;
  /** Keep the downloaded archive and signature in the cache (by default they go once installed). */
  keepDownload?: boolean;
  signal?: AbortSignal;
  /** Progress and warning lines for the command to render. */
  onStep?: (line: string) => void;
  onWarning?: (line: string) => void;
  onProgress?: (e: import('../fetch/types').ProgressEvent) => void;
  /**
   * TEST SEAM, not reachable from the CLI: runs after the archive is verified and before it is
   * unpacked. test/install/toctou.test.ts uses it to change the file in exactly that gap.
   */
  afterVerify?: (archive: string) => Promise<void>;
}

export interface TargetFacts {
  glibc: string;
  arch: string;
  libcTarget?: LibcTarget;
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

export interface InstallPlan {
  version: string;
  asset: string;
  kind: 'onedir' | 'onefile';
  source: InstallManifest['source'];
  archiveUrl: string;
  signatureUrl: string | null;
  target: { glibc: string; arch: string };
  assetGlibc: string | null;
  prefix: string;
  dir: string;
  binDir: string;
  wrapper: string;
  /**
   * What the ELF check covers. A PyInstaller one-file build packs its libraries inside the binary
   * and unpacks them only at run time, so only its bootloader can be scanned before activation;
   * the smoke test is then the only check of those libraries. Selection prefers one-dir builds.
   */
  elfScan: 'every ELF file' | 'bootloader only (one-file)';
  /** --from DIR: which file was taken and why (signed assets win over an unsigned local build). */
  chosen: string | null;
  checks: string[];
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

type Source = { kind: 'release'; choice: AssetChoice; version: string } | { kind: 'local'; local: LocalSource };

export async function install(o: InstallOptions): Promise<InstallResult> {
  const warnings: string[] = [];
  const warn = (w: string): void => {
    warnings.push(w);
    o.onWarning?.(w);
  };
  const prepared = await prepare(o, warn);
  const { plan } = prepared;
  throwIfAborted(o.signal);

  const current = await readCurrent(plan.prefix);
  const installed = await readManifest(plan.dir);
  if (o.dryRun) return noChange('dry-run', plan, current, warnings);
  if (installed && !o.force) {
    if (current !== plan.version) warn(`borg ${plan.version} is installed but not current: run borg-provision use ${plan.version}`);
    return noChange('already-installed', plan, current, warnings);
  }
  return { ...(await perform(o, prepared, warn)), action: installed ? 'reinstalled' : 'installed', warnings };
}

interface Prepared {
  plan: InstallPlan;
  source: Source;
  scanTarget: ScanTarget;
  target: TargetModule;
  /** The key signatures are checked against, loaded (and judged) before anything goes to the network. */
  key: SigningKey;
}

/** Everything decided before anything is written or downloaded. */
async function prepare(o: InstallOptions, warn: (w: string) => void): Promise<Prepared> {
  const prefix = path.resolve(o.prefix);
  const binDir = path.resolve(o.binDir);
  if (o.version) checkVersionString(o.version);
  // What the install needs of src/target/ (mount flags, ELF reads), without detect's host report.
  const [{ pathReport }, { isElfFileSync }, { readElfNeeds }] = await Promise.all([import('../target/mounts'), import('../target/read-file'), import('../target/libc')]);
  const target: TargetModule = { pathReport, isElfFileSync, readElfNeeds };

  // Places that cannot run borg, and a bin-dir we would clobber, are refused first.
  await checkPlace('--prefix', prefix, target.pathReport);
  await checkPlace('--bin-dir', binDir, target.pathReport);
  if ((await inspectWrapper(binDir)).state === 'foreign') throw foreignWrapperError(binDir);

  // A bad --signing-key or --fingerprint is refused before any request.
  const { loadSigningKey } = await import('../verify');
  const key = await loadSigningKey({ keyFile: o.signingKey, fingerprint: o.fingerprint });
  // Independent look-ups run together: this machine's libc (the command's promise) and the release JSON.
  const [facts, release] = await Promise.all([o.target, fetchRelease(o)]);
  const scanTarget = scanTargetFor(facts);
  const source = await resolveSource(o, scanTarget, release);
  requireSignatureOrConsent(source, o);
  if (source.kind === 'local' && source.local.chosen) o.onStep?.(`chose ${source.local.chosen}`);
  const version = source.kind === 'release' ? source.version : source.local.version;
  return { plan: makePlan(source, version, scanTarget, prefix, binDir), source, scanTarget, target, key };
}

/** The locked part: fetch, verify, unpack, check, activate. Cleans up after itself on any failure. */
async function perform(o: InstallOptions, p: Prepared, warn: (w: string) => void): Promise<Omit<InstallResult, 'action' | 'warnings'>> {
  const { plan, source } = p;
  const step = (s: string): void => o.onStep?.(s);
  const createdPrefix = await fs.mkdir(plan.prefix, { recursive: true }).catch((err) => {
    throw filesystemError(err, 'create the prefix', plan.prefix);
  });
  let staging: string | null = null;
  let done = false;
  try {
    const lock = await acquireLock(plan.prefix);
    try {
      const { restored } = await recoverInterrupted(plan.prefix);
      for (const v of restored) warn(`put back borg ${v}, left aside by an install that was killed while replacing it`);
      const fetched = await obtain(source, o, step, p.key);
      const verification = await verifyArchive(source, fetched, o, p.key, step, warn);
      throwIfAborted(o.signal);
      await o.afterVerify?.(fetched.archive);

      staging = tmpName(plan.prefix, 'staging');
      await fs.mkdir(staging, { mode: 0o755 }).catch((err) => {
        throw filesystemError(err, 'create a staging directory in', plan.prefix);
      });
      step(`unpacking ${plan.asset}`);
      const built = await stageBuild(plan, fetched.archive, staging, verification.sha256, o.signal);
      step('checking every ELF file against the target glibc');
      const scan = await scanElfTree(built, p.scanTarget, p.target, o.signal);
      await writeManifest(built, manifestFor(plan, source, fetched, verification, scan.maxGlibcNeeded)).catch((err) => {
        throw filesystemError(err, 'write the manifest in', built);
      });
      throwIfAborted(o.signal);

      step(`activating borg ${plan.version} and running borg -V`);
      const { activate } = await laterStages();
      const act = await activate({ prefix: plan.prefix, binDir: plan.binDir, version: plan.version, staged: built, replace: !!o.force || restored.includes(plan.version), signal: o.signal });
      done = true;
      if (source.kind === 'release' && !o.keepDownload) await dropDownload(fetched);
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
      if (staging) await removeTree(staging).catch(() => undefined);
      await lock.release().catch(() => undefined);
    }
  } catch (err) {
    throw o.signal?.aborted && !isProvisionError(err) ? new InterruptedError() : err;
  } finally {
    if (!done && createdPrefix) await removeEmptyDirs(plan.prefix, createdPrefix);
  }
}

type LaterStages = typeof import('./activate') & typeof import('./layout') & typeof import('./unpack');

/** What runs after the download (unpack with node-tar, layout check, activation). */
async function laterStages(): Promise<LaterStages> {
  const [a, l, u] = await Promise.all([import('./activate'), import('./layout'), import('./unpack')]);
  return { ...a, ...l, ...u };
}

/**
 * Verify-then-unpack reads the archive twice, and whoever can write the file (the download cache,
 * a --from directory) could change it in between. So the second read is hashed as it feeds tar (or
 * the one-file copy) and must equal `verifiedSha256`, the digest of the very bytes the verdict is
 * about (see Verification.sha256). Comparing with a hash taken at any other moment (a re-hash
 * before or after verifying) would not do: the file could hold other bytes while the signature
 * check read it. A mismatch is a ChecksumError; the caller removes the staging directory.
 */
async function stageBuild(plan: InstallPlan, archive: string, staging: string, verifiedSha256: string, signal?: AbortSignal): Promise<string> {
  const { checkOneDirLayout, stageOneFile, unpackArchive } = await laterStages();
  if (plan.kind === 'onefile') return stageOneFile(archive, staging, verifiedSha256, signal);
  await unpackArchive({ archive, dest: staging, expectSha256: verifiedSha256, signal });
  return checkOneDirLayout(staging, plan.asset);
}

/** The installed archive and its signature leave the download cache. */
async function dropDownload(f: Fetched): Promise<void> {
  const { removeDownload } = await import('../fetch');
  for (const file of [f.signature, f.archive]) if (file) await removeDownload(file);
}

function noChange(action: 'dry-run' | 'already-installed', plan: InstallPlan, current: string | null, warnings: string[]): InstallResult {
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

type TargetModule = Pick<typeof import('../target'), 'pathReport' | 'isElfFileSync' | 'readElfNeeds'>;

/** The ELF class/machine every file must have: the libc's own when its arch is the one judged. */
function scanTargetFor(t: TargetFacts): ScanTarget {
  const lt = t.libcTarget;
  const elf = lt && lt.arch === t.arch ? { class: lt.elf.class, machine: lt.elf.machine } : elfIdentityForArch(t.arch);
  return { glibc: t.glibc, arch: t.arch, elf };
}

/** No `.asc`: refused (before anything is fetched or locked) unless a -gh build with --allow-unsigned. */
function requireSignatureOrConsent(s: Source, o: InstallOptions): void {
  if (needsKey(s) || (s.kind === 'local' && s.local.build)) return;
  const name = s.kind === 'local' ? s.local.asset : s.choice.name;
  const fromGithub = s.kind === 'local' ? s.local.builtOn === 'github' : s.choice.builtOn === 'github';
  if (fromGithub && o.allowUnsigned) return;
  const hint = fromGithub ? '; --allow-unsigned accepts a -gh build unverified' : '; put the .asc file beside it';
  throw new SignatureError(`${name} has no signature (${name}.asc is missing); refusing to install it${hint}`);
}

function needsKey(s: Source): boolean {
  return s.kind === 'release' ? s.choice.signatureUrl !== null : s.local.signature !== null;
}

async function fetchRelease(o: InstallOptions): Promise<Release | null> {
  if (o.from) return null;
  if (!o.version) throw new UsageError('give the borg version to install, e.g. borg-provision install 1.4.2');
  const [releases, fetch] = await Promise.all([import('../releases'), import('../fetch')]);
  return releases.getRelease(o.version, { apiUrl: o.apiUrl, token: o.token, signal: o.signal, net: o.net ?? fetch.netOptionsFromEnv() });
}

async function resolveSource(o: InstallOptions, t: ScanTarget, release: Release | null): Promise<Source> {
  const selectOpts = { allowUnsigned: o.allowUnsigned, asset: o.asset };
  if (o.from || !release) {
    const { resolveLocalSource } = await import('./local-source');
    return { kind: 'local', local: await resolveLocalSource(path.resolve(o.from!), o.version, t, selectOpts) };
  }
  const releases = await import('../releases');
  const selection = releases.selectAsset(release, t, selectOpts);
  if (!selection.selected) {
    // What would fit instead, from the releases the server lists (none named if it cannot say).
    const api = { apiUrl: o.apiUrl, token: o.token, signal: o.signal, net: o.net };
    const others = selectOpts.asset ? [] : await releases.findOtherFits(release.version, selection.target, api);
    throw new NoCompatibleBuildError(releases.noCompatibleMessage(selection, selectOpts, others));
  }
  const choice = selection.selected;
  if (choice.kind !== 'onedir' && choice.kind !== 'onefile') throw new UsageError(`${choice.name} is not a borg binary`);
  return { kind: 'release', choice, version: release.version };
}

function makePlan(s: Source, version: string, t: ScanTarget, prefix: string, binDir: string): InstallPlan {
  const local = s.kind === 'local' ? s.local : null;
  const asset = local ? local.asset : (s as { choice: AssetChoice }).choice;
  const kind = local ? local.kind : ((asset as AssetChoice).kind as 'onedir' | 'onefile');
  const elfScan = kind === 'onefile' ? 'bootloader only (one-file)' : 'every ELF file';
  const checks = [
    local?.build
      ? `SHA-256 of ${local.asset} against its build manifest (a locally built, unsigned archive)`
      : `OpenPGP signature ${local ? (local.signature ?? 'none') : ((asset as AssetChoice).signatureUrl ?? 'none')}`,
    'archive entries stay inside the install directory (no .., absolute paths, links out, devices)',
    kind === 'onefile'
      ? `the one-file bootloader needs at most glibc ${t.glibc}, machine ${t.arch} (the libraries packed inside it are not scanned)`
      : `every ELF file needs at most glibc ${t.glibc}, machine ${t.arch}`,
    `borg.exe -V in the unpacked build, then borg -V through the wrapper, print ${version}`,
  ];
  return {
    version,
    asset: local ? local.asset : (asset as AssetChoice).name,
    kind,
    source: local ? (local.build ? 'built locally' : 'file') : 'release',
    archiveUrl: local ? local.archive : (asset as AssetChoice).url,
    signatureUrl: local ? local.signature : (asset as AssetChoice).signatureUrl,
    target: { glibc: t.glibc, arch: t.arch },
    assetGlibc: local ? local.glibc : (asset as AssetChoice).glibc,
    prefix,
    dir: versionDir(prefix, version),
    binDir,
    wrapper: wrapperPath(binDir),
    elfScan,
    chosen: local ? local.chosen : null,
    checks,
  };
}

interface Fetched {
  archive: string;
  signature: string | null;
  /** The download's SHA-256, or for an unsigned local file a hash of it; null for a signed local file (the signature check hashes it). */
  sha256: string | null;
  size: number;
  fromCache: boolean;
}

async function obtain(s: Source, o: InstallOptions, step: (l: string) => void, key: SigningKey): Promise<Fetched> {
  if (s.kind === 'local') {
    if (s.local.signature) return { archive: s.local.archive, signature: s.local.signature, sha256: null, size: await sizeOf(s.local.archive), fromCache: false };
    const { hashLocalFile } = await import('./local-source');
    const h = await hashLocalFile(s.local.archive, o.signal);
    return { archive: s.local.archive, signature: null, ...h, fromCache: false };
  }
  step(`downloading ${s.choice.name}${s.choice.signatureUrl ? ' and its signature' : ''}`);
  const [fetch, { judgeSignature }] = await Promise.all([import('../fetch'), import('../verify')]);
  // A signature that cannot be good (another key, SHA-1, revoked) stops the archive's download.
  const onSignature = async (sig: { path: string }): Promise<void> => void (await judgeSignature({ signature: sig.path, key, signal: o.signal }));
  const net = o.net ?? fetch.netOptionsFromEnv();
  const r = await fetch.downloadWithSignature(s.choice, { signal: o.signal, onProgress: o.onProgress, net, onSignature });
  return { archive: r.archive.path, signature: r.signature?.path ?? null, sha256: r.archive.sha256, size: r.archive.size, fromCache: r.archive.fromCache };
}

async function verifyArchive(
  s: Source,
  f: Fetched,
  o: InstallOptions,
  key: SigningKey,
  step: (l: string) => void,
  warn: (l: string) => void,
): Promise<Verification> {
  const name = s.kind === 'local' ? s.local.asset : s.choice.name;
  if (s.kind === 'local' && s.local.build) {
    // This early hash only refuses a wrong file before anything is written; what protects the
    // install is that unpacking accepts nothing but bytes with the manifest's digest.
    if (f.sha256 !== s.local.build.sha256) {
      throw new ChecksumError(`${name} does not match its build manifest (SHA-256 ${f.sha256}, manifest says ${s.local.build.sha256}); rebuild it`);
    }
    warn(`${name} is a locally built, UNSIGNED archive: it was checked only by SHA-256 against its build manifest`);
    return { status: 'sha256-manifest', sha256: s.local.build.sha256, signingFingerprint: null, primaryFingerprint: null, keySource: null, hash: 'sha256', warnings: [] };
  }
  if (!f.signature) {
    requireSignatureOrConsent(s, o);
    warn(`${name} is an UNSIGNED GitHub build, installed unverified because of --allow-unsigned`);
    // Nothing was verified; at least install exactly the bytes downloaded (and recorded).
    return { status: 'unsigned', sha256: f.sha256!, signingFingerprint: null, primaryFingerprint: null, keySource: null, hash: null, warnings: [] };
  }
  step(`verifying the signature of ${name}`);
  for (const w of key.warnings) warn(w);
  const { verifyDetachedFile } = await import('../verify');
  const r = await verifyDetachedFile({ file: f.archive, signature: f.signature, key, strictKeyExpiry: o.strictKeyExpiry, signal: o.signal });
  if (f.sha256 !== null && f.sha256 !== r.sha256) {
    // Signed bytes, but not the ones downloaded: something rewrote the cache file. Fail closed.
    throw new ChecksumError(`${name} changed between download and verification (SHA-256 ${r.sha256.slice(0, 16)}…, downloaded ${f.sha256.slice(0, 16)}…); nothing was installed: install again`);
  }
  throwIfAborted(o.signal);
  for (const w of r.warnings) warn(w);
  return {
    status: r.status,
    sha256: r.sha256,
    signingFingerprint: r.signingFingerprint,
    primaryFingerprint: r.primaryFingerprint,
    keySource: key.source,
    hash: r.hash,
    warnings: r.warnings,
    keyFix: r.keyFix,
  };
}

function manifestFor(plan: InstallPlan, s: Source, f: Fetched, v: Verification, glibcNeeded: string | null): InstallManifest {
  return {
    version: plan.version,
    asset: plan.asset,
    kind: plan.kind,
    glibc: plan.assetGlibc,
    glibcNeeded,
    arch: plan.target.arch,
    signer: { fingerprint: v.signingFingerprint, primaryFingerprint: v.primaryFingerprint, verdict: v.status, keySource: v.keySource },
    size: f.size,
    sha256: v.sha256,
    installedAt: new Date().toISOString(),
    source: plan.source,
    from: s.kind === 'release' ? s.choice.url : path.resolve(s.local.archive),
  };
}

async function sizeOf(file: string): Promise<number> {
  return (
    await fs.stat(file).catch((err) => {
      throw new BadInputError(`cannot read ${file}: ${(err as Error).message}`);
    })
  ).size;
}

