// What an install will do, decided before anything is written or downloaded: the plan shown by
// --dry-run and --json, and the manifest written beside
// the build. Pure: no I/O here.
import type { Target } from '../target';
import type { Fetched, SourceFacts, Verification } from './source';
import { versionDir, type InstallManifest } from './store';
import { wrapperPath } from './wrapper';

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

export function makePlan(s: SourceFacts, t: Target, prefix: string, binDir: string): InstallPlan {
  const elfScan = s.kind === 'onefile' ? 'bootloader only (one-file)' : 'every ELF file';
  const checks = [
    s.check,
    'archive entries stay inside the install directory (no .., absolute paths, links out, devices)',
    s.kind === 'onefile'
      ? `the one-file bootloader needs at most glibc ${t.glibc}, machine ${t.arch} (the libraries packed inside it are not scanned)`
      : `every ELF file needs at most glibc ${t.glibc}, machine ${t.arch}`,
    `borg.exe -V in the unpacked build, then borg -V through the wrapper, print ${s.version}`,
  ];
  return {
    version: s.version,
    asset: s.asset,
    kind: s.kind,
    source: s.source,
    archiveUrl: s.archiveUrl,
    signatureUrl: s.signatureUrl,
    target: { glibc: t.glibc, arch: t.arch },
    assetGlibc: s.assetGlibc,
    prefix,
    dir: versionDir(prefix, s.version),
    binDir,
    wrapper: wrapperPath(binDir),
    elfScan,
    chosen: s.chosen,
    checks,
  };
}

/** `from`: the asset URL, or the absolute path of a local file (SourceFacts.from). */
export function manifestFor(
  plan: InstallPlan,
  from: string,
  f: Fetched,
  v: Verification,
  glibcNeeded: string | null,
): InstallManifest {
  return {
    version: plan.version,
    asset: plan.asset,
    kind: plan.kind,
    glibc: plan.assetGlibc,
    glibcNeeded,
    arch: plan.target.arch,
    signer: {
      fingerprint: v.signingFingerprint,
      primaryFingerprint: v.primaryFingerprint,
      verdict: v.status,
      keySource: v.keySource,
    },
    size: f.size,
    sha256: v.sha256,
    installedAt: new Date().toISOString(),
    source: plan.source,
    from,
  };
}
