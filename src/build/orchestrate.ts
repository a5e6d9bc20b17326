// One Vagrant build from start to finish: work dir, prerequisites, verified sdist, `vagrant up`,
// copy-out, checks, publish, and ALWAYS `vagrant destroy -f` once a VM may exist (unless --keep-vm).
import { constants as fsConstants, promises as fs, type WriteStream } from 'node:fs';
import * as path from 'node:path';
import { BuildError, CompatibilityError, InterruptedError, filesystemError, throwIfAborted } from '../errors';
import { compareDotted } from '../util/dotted-version';
import { shQuoteForDisplay } from '../util/text';
import { checkArtifact, copyArtifactOut, manifestFor, publishArtifact, readBuildInfo } from './artifact';
import type { Target } from '../target';
import { artifactName, type BuildManifest } from '../install';
import { FALLBACK_SPEC, PROVISION_SCRIPT, VM_ARTIFACT, VM_BUILD_INFO, type BuildPlan } from './plan';
import { requirePrerequisites } from './prerequisites';
import { openLog, runVagrant, type RunResult } from './runner';
import { prepareVerifiedSdist, type SdistOptions, type VerifiedSdist } from './sdist';
import { renderVagrantfile } from './vagrantfile';
import { readPackageFile, type PackageFile } from '../util/package-files';
import { makeDirs } from '../util/make-dirs';

export type BuildEvent =
  { type: 'phase'; name: string } | { type: 'step'; name: string } | { type: 'warning'; message: string };

export interface BuildOptions {
  plan: BuildPlan;
  /** glibc and arch the result must run on. */
  target: Target;
  outputDir: string;
  workDir: string;
  sdist: Omit<SdistOptions, 'version' | 'signal'>;
  keepVm?: boolean;
  dryRun?: boolean;
  signal?: AbortSignal;
  onEvent?: (e: BuildEvent) => void;
  /** Grace between SIGINT and SIGKILL for an interrupted vagrant. */
  killGraceMs?: number;
}

export interface BuildResult {
  dryRun: boolean;
  workDir: string;
  vagrantfile: string;
  log: string;
  commands: string[];
  artifact: string | null;
  manifestFile: string | null;
  manifest: BuildManifest | null;
  sdist: { name: string; source: string; signature: string; signedBy: string } | null;
  vm: 'destroyed' | 'kept' | 'destroy-failed' | 'not-started';
}

export const SDIST_DIR = 'input';
export const LOG_NAME = 'build.log';

export function vagrantCommands(plan: BuildPlan, workDir: string, keepVm: boolean): string[] {
  return [
    `cd ${shQuoteForDisplay(workDir)}`,
    `vagrant up --provider ${plan.provider} --provision --no-color >> ${LOG_NAME} 2>&1`,
    `vagrant ssh --no-tty -c 'cat ${VM_BUILD_INFO}'`,
    `vagrant ssh --no-tty -c 'cat ${VM_ARTIFACT}' > ${artifactName(plan.version)}`,
    keepVm ? '# --keep-vm: the VM is left running; remove it with: vagrant destroy -f' : 'vagrant destroy -f',
  ];
}

/** Writes the Vagrantfile, provisioning script and fallback spec into the work dir. */
export async function writeWorkDir(plan: BuildPlan, workDir: string): Promise<string> {
  try {
    await makeDirs(path.join(workDir, SDIST_DIR));
    for (const f of [PROVISION_SCRIPT, FALLBACK_SPEC]) {
      await fs.writeFile(path.join(workDir, f), readPackageFile(`vagrant/${f}` as PackageFile));
    }
    await fs.chmod(path.join(workDir, PROVISION_SCRIPT), 0o755);
    const vagrantfile = path.join(workDir, 'Vagrantfile');
    await fs.writeFile(vagrantfile, renderVagrantfile(plan, `${SDIST_DIR}/${plan.sdistName}`));
    return vagrantfile;
  } catch (err) {
    throw filesystemError(err, 'prepare the build work dir', workDir);
  }
}

export async function buildWithVagrant(o: BuildOptions): Promise<BuildResult> {
  const { plan, signal } = o;
  const emit = o.onEvent ?? (() => undefined);
  const vagrantfile = await writeWorkDir(plan, o.workDir);
  const logPath = path.join(o.workDir, LOG_NAME);
  const result: BuildResult = {
    dryRun: !!o.dryRun,
    workDir: o.workDir,
    vagrantfile,
    log: logPath,
    commands: vagrantCommands(plan, o.workDir, !!o.keepVm),
    artifact: null,
    manifestFile: null,
    manifest: null,
    sdist: null,
    vm: 'not-started',
  };
  if (o.dryRun) return result;

  emit({ type: 'phase', name: 'check prerequisites' });
  await requirePrerequisites(plan.provider);
  await ensureOutputDir(o.outputDir);
  throwIfAborted(signal);

  emit({ type: 'phase', name: `fetch and verify ${plan.sdistName}` });
  const sdist = await prepareVerifiedSdist(
    { ...o.sdist, version: plan.version, signal },
    path.join(o.workDir, SDIST_DIR),
  );
  result.sdist = sdistSummary(sdist);
  sdist.keyWarnings.concat(sdist.verification.warnings).forEach((message) => emit({ type: 'warning', message }));

  const log = openLog(logPath);
  const tmpArchive = path.join(o.outputDir, `.${artifactName(plan.version)}.${process.pid}.part`);
  try {
    emit({ type: 'phase', name: `start the ${plan.debian} VM (${plan.box}, ${plan.provider})` });
    result.vm = 'kept';
    // --provision: a VM left by an earlier --keep-vm run in this work dir is built again, not reused.
    const up = await runVagrant(['up', '--provider', plan.provider, '--provision', '--no-color'], {
      cwd: o.workDir,
      log,
      signal,
      killGraceMs: o.killGraceMs,
      onStep: (name) => emit({ type: 'step', name }),
    });
    if (up.aborted || signal?.aborted) throw new InterruptedError();
    if (up.code !== 0) throw upFailure(up, logPath);

    emit({ type: 'phase', name: 'copy the artifact out of the VM' });
    const vm = { cwd: o.workDir, log, logPath, signal };
    const info = await readBuildInfo(vm);
    requireVmGlibcFits(info.glibc, o.target.glibc, plan.box);
    await copyArtifactOut(vm, tmpArchive, info.sha256);

    emit({ type: 'phase', name: `check every ELF file against glibc ${o.target.glibc}` });
    await checkArtifact(tmpArchive, o.workDir, o.target, signal);
    throwIfAborted(signal);

    const manifest = manifestFor(plan, info);
    const published = await publishArtifact(tmpArchive, o.outputDir, manifest);
    Object.assign(result, { artifact: published.artifact, manifestFile: published.manifest, manifest });
    return result;
  } catch (err) {
    throw signal?.aborted ? new InterruptedError() : err;
  } finally {
    await fs.rm(tmpArchive, { force: true });
    if (!o.keepVm) result.vm = await destroyVm(o.workDir, log, emit);
    await new Promise<void>((resolve) => log.end(resolve));
  }
}

// The VM's glibc is the floor of the build. With Debian's own boxes it is the planned release's;
// a --box of another release would make a build that cannot run on the target.
function requireVmGlibcFits(vmGlibc: string, targetGlibc: string, box: string): void {
  if (compareDotted(vmGlibc, targetGlibc) > 0) {
    throw new CompatibilityError(
      `the build VM (${box}) has glibc ${vmGlibc}, newer than the target's ${targetGlibc}: its build would not run there; use a box of an older Debian release`,
    );
  }
}

function upFailure(up: RunResult, logPath: string): BuildError {
  if (up.lastStep) {
    const why = up.scriptError ? `: ${up.scriptError}` : '';
    return new BuildError(`build step "${up.lastStep}" failed in the VM${why}; see the log ${logPath}`);
  }
  const last = up.lastLine ? `: ${up.lastLine}` : '';
  return new BuildError(
    `vagrant up failed before the build started (exit ${up.code ?? up.signal})${last}; see the log ${logPath}`,
  );
}

// Runs even after SIGINT (no signal passed): a forgotten VM costs RAM and disk until found.
async function destroyVm(cwd: string, log: WriteStream, emit: (e: BuildEvent) => void): Promise<BuildResult['vm']> {
  emit({ type: 'phase', name: 'destroy the VM' });
  try {
    const r = await runVagrant(['destroy', '-f', '--no-color'], { cwd, log, timeoutMs: 10 * 60 * 1000 });
    if (r.code === 0) return 'destroyed';
  } catch {
    // fall through to the warning
  }
  emit({
    type: 'warning',
    message: `vagrant destroy -f failed: remove the VM yourself (cd ${cwd} && vagrant destroy -f)`,
  });
  return 'destroy-failed';
}

async function ensureOutputDir(dir: string): Promise<void> {
  try {
    await makeDirs(dir);
    await fs.access(dir, fsConstants.W_OK);
  } catch (err) {
    throw filesystemError(err, 'write to the output directory', dir);
  }
}

function sdistSummary(s: VerifiedSdist): NonNullable<BuildResult['sdist']> {
  return {
    name: s.name,
    source: s.source,
    signature: s.verification.status,
    signedBy: s.verification.primaryFingerprint,
  };
}
