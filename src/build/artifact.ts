// Getting the build out of the VM and into --output: read it over `vagrant ssh` (binary-safe
// without a TTY, needs no plugin and no shared folder), check its SHA-256 against the one the VM
// computed, check every ELF file against the target's glibc, then publish atomically.
import { createWriteStream, promises as fs, type WriteStream } from 'node:fs';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import { BuildError, ChecksumError, ArchiveError, FilesystemError, InterruptedError, filesystemError } from '../errors';
import { sha256File } from '../util/sha256';
import type { Target } from '../target';
import { artifactName, manifestPathFor, MANIFEST_KIND, type BuildManifest } from '../install';
import { VM_ARTIFACT, VM_BUILD_INFO, type BuildPlan } from './plan';
import { vagrantSshToStream } from './runner';

/** What vagrant/provision.sh writes to build-info: key=value lines. */
export interface BuildInfo {
  sha256: string;
  borg: string;
  glibc: string;
  debian: string;
  arch: string;
  python: string;
  pyinstaller: string;
  fuse: string;
}

const INFO_KEYS = ['sha256', 'borg', 'glibc', 'debian', 'arch', 'python', 'pyinstaller', 'fuse'] as const;

export function parseBuildInfo(text: string): BuildInfo {
  const values = new Map<string, string>();
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) values.set(line.slice(0, eq).trim(), line.slice(eq + 1).trim());
  }
  const missing = INFO_KEYS.filter((k) => !values.get(k));
  if (missing.length > 0)
    throw new BuildError(`the VM's build-info lacks ${missing.join(', ')}: the build did not finish`);
  const info = Object.fromEntries(INFO_KEYS.map((k) => [k, values.get(k)!])) as unknown as BuildInfo;
  if (!/^[0-9a-f]{64}$/.test(info.sha256)) throw new BuildError(`the VM reported a malformed SHA-256 "${info.sha256}"`);
  if (!/^\d+\.\d+$/.test(info.glibc)) throw new BuildError(`the VM reported a malformed glibc version "${info.glibc}"`);
  return info;
}

interface VmContext {
  cwd: string;
  log: WriteStream;
  logPath: string;
  signal?: AbortSignal;
}

export async function readBuildInfo(vm: VmContext): Promise<BuildInfo> {
  const chunks: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      chunks.push(chunk);
      done();
    },
  });
  const r = await vagrantSshToStream(`cat ${VM_BUILD_INFO}`, { ...vm, out: sink });
  if (vm.signal?.aborted) throw new InterruptedError();
  if (r.code !== 0) {
    throw new BuildError(
      `the VM holds no build result (${VM_BUILD_INFO} is missing): the build did not finish; log: ${vm.logPath}`,
    );
  }
  return parseBuildInfo(Buffer.concat(chunks).toString('utf8'));
}

/** Streams the VM's tarball into `dest` (a temp name in --output) and checks its SHA-256. */
export async function copyArtifactOut(vm: VmContext, dest: string, expectedSha256: string): Promise<void> {
  const out = createWriteStream(dest, { flags: 'wx', mode: 0o644 });
  const opened = new Promise<void>((resolve, reject) => out.once('open', () => resolve()).once('error', reject));
  await opened.catch((err) => {
    throw filesystemError(err, 'write', dest);
  });
  const r = await vagrantSshToStream(`cat ${VM_ARTIFACT}`, { ...vm, out });
  await new Promise<void>((resolve, reject) =>
    out.end((err?: Error | null) => (err ? reject(filesystemError(err, 'write', dest)) : resolve())),
  );
  if (vm.signal?.aborted) throw new InterruptedError();
  if (r.code !== 0) {
    throw new BuildError(`cannot copy ${VM_ARTIFACT} out of the VM (vagrant ssh exited ${r.code}); log: ${vm.logPath}`);
  }
  const actual = (await sha256File(dest)).sha256;
  if (actual !== expectedSha256) {
    throw new ChecksumError(
      `the artifact copied out of the VM has SHA-256 ${actual}, the VM computed ${expectedSha256}: the copy is corrupt; run the build again`,
    );
  }
}

/**
 * Unpacks the artifact into a scratch dir (with install's guarded unpacker), checks the layout
 * borg's own builds have (borg-dir/borg.exe, nothing outside borg-dir/), and scans every ELF file
 * with install's scan: nothing may need a GLIBC_x.y newer than the target's.
 */
export async function checkArtifact(
  tgz: string,
  scratchParent: string,
  target: Target,
  signal?: AbortSignal,
): Promise<{ elfFiles: number; maxGlibcNeeded: string | null }> {
  const { unpackArchive, scanElfTree } = await import('../install');
  const { isElfFileSync, readElfNeeds } = await import('../target');
  const scratch = await fs.mkdtemp(path.join(scratchParent, 'check-'));
  try {
    await unpackArchive({ archive: tgz, dest: scratch, signal });
    const top = await fs.readdir(scratch);
    if (top.length !== 1 || top[0] !== 'borg-dir') {
      throw new ArchiveError(`the built archive holds ${top.join(', ') || 'nothing'} at its top, not just borg-dir/`);
    }
    const exe = await fs.stat(path.join(scratch, 'borg-dir', 'borg.exe')).catch(() => null);
    if (!exe?.isFile() || (exe.mode & 0o111) === 0)
      throw new ArchiveError('the built archive has no executable borg-dir/borg.exe');
    return await scanElfTree(path.join(scratch, 'borg-dir'), target, { isElfFileSync, readElfNeeds }, signal);
  } finally {
    await fs.rm(scratch, { recursive: true, force: true });
  }
}

export function manifestFor(
  plan: BuildPlan,
  info: BuildInfo,
  builtAt = new Date(),
): BuildManifest & Record<string, unknown> {
  return {
    kind: MANIFEST_KIND,
    borgVersion: plan.version,
    artifact: artifactName(plan.version),
    sha256: info.sha256,
    debian: plan.debian,
    arch: plan.arch,
    glibc: info.glibc,
    python: info.python,
    pyinstaller: info.pyinstaller,
    builtAt: builtAt.toISOString(),
    // Extra fields (manifest.ts allows additions): what the VM itself reported.
    debianVersion: info.debian,
    box: plan.box,
    provider: plan.provider,
    fuse: info.fuse,
    borgReported: info.borg,
    testsRun: plan.withTests,
  };
}

export interface PublishSeams {
  /** Test seam: runs once the new archive is in place, before the manifest is renamed. */
  afterArchivePlaced?: (tmpManifest: string) => Promise<void>;
}

/**
 * Moves the checked temp archive to `<output>/borg-dir-<v>.tgz` and its manifest beside it.
 * Two files cannot be swapped at once; the order keeps the old pair until the new one is whole:
 *   1. the new manifest is written to a temp name (and synced) first;
 *   2. an old archive is hard-linked to a backup name, so replacing it destroys nothing;
 *   3. the new archive is renamed over the old; 4. the new manifest over the old; 5. the backup goes.
 * Between 3 and 4 the pair is torn (new archive, old manifest): `install --from` compares the
 * manifest's SHA-256 with the archive and refuses it, so a crash there fails closed. If step 4
 * fails, the backup is renamed back: the previous good pair is restored, never lost.
 */
export async function publishArtifact(
  tmpArchive: string,
  outputDir: string,
  manifest: BuildManifest,
  seams: PublishSeams = {},
): Promise<{ artifact: string; manifest: string }> {
  const finalArchive = path.join(outputDir, manifest.artifact);
  const finalManifest = manifestPathFor(finalArchive);
  const tmpManifest = path.join(outputDir, `.${path.basename(finalManifest)}.${process.pid}.part`);
  const backup = path.join(outputDir, `.${manifest.artifact}.${process.pid}.prev`);
  let hadOld = false;
  try {
    await writeSynced(tmpManifest, `${JSON.stringify(manifest, null, 2)}\n`);
    hadOld = await fs.link(finalArchive, backup).then(
      () => true,
      (err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') return false;
        throw err;
      },
    );
    await fs.rename(tmpArchive, finalArchive);
  } catch (err) {
    await fs.rm(tmpManifest, { force: true });
    await fs.rm(backup, { force: true });
    throw filesystemError(err, 'write the build to', outputDir);
  }
  try {
    await seams.afterArchivePlaced?.(tmpManifest);
    await fs.rename(tmpManifest, finalManifest);
  } catch (err) {
    await fs.rm(tmpManifest, { force: true });
    // Put the previous archive back (its manifest was never touched), or drop the orphan archive.
    if (hadOld) await fs.rename(backup, finalArchive).catch(() => undefined);
    else await fs.rm(finalArchive, { force: true });
    const e = filesystemError(err, 'write the manifest', finalManifest);
    throw new FilesystemError(`${e.message}${hadOld ? '; the previous build was kept' : ''}`, { cause: err });
  }
  await fs.rm(backup, { force: true });
  return { artifact: finalArchive, manifest: finalManifest };
}

async function writeSynced(file: string, text: string): Promise<void> {
  const h = await fs.open(file, 'wx', 0o644);
  try {
    await h.writeFile(text);
    await h.sync();
  } finally {
    await h.close();
  }
}
