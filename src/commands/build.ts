// `borg-provision build --vagrant [VERSION]`: build borg's one-dir binary in a throwaway Debian VM
// that matches the target, from borg's verified sdist. Thin: parses flags, asks the target stage
// which Debian to use, and hands everything to src/build/.
import { Args, Flags } from '@oclif/core';
import * as path from 'node:path';
import { BaseCommand } from '../cli/base';
import { UnsupportedTargetError, UsageError } from '../errors';
import { compareDotted } from '../util/dotted-version';

export default class Build extends BaseCommand {
  static override summary = 'Build borg on the target\'s own Debian release in a Vagrant VM (from the verified sdist)';
  static override description =
    'Starts a throwaway Debian VM (libvirt by default) that matches the target (--libc/--root, the running ' +
    'machine, or --debian), builds borg-dir-<version>.tgz there with the toolchain borg pins for that series, ' +
    'copies it out, checks its SHA-256 and every ELF file against the target glibc, and destroys the VM. ' +
    'Install the result with `borg-provision install --from borg-dir-<version>.tgz`.';

  static override examples = [
    '<%= config.bin %> build --vagrant 1.4.2 --debian bookworm',
    '<%= config.bin %> build --vagrant --libc /mnt/nas-root/lib/x86_64-linux-gnu/libc.so.6 --output ./out',
    '<%= config.bin %> build --vagrant 1.4.2 --debian bookworm --dry-run',
  ];

  static override args = {
    version: Args.string({ description: 'borg version to build (default: the newest stable release)' }),
  };

  static override flags = {
    vagrant: Flags.boolean({ description: 'build in a Vagrant VM (the only build method)' }),
    debian: Flags.string({ description: 'Debian release of the build VM (default: from the target)', options: ['bullseye', 'bookworm', 'trixie'] }),
    libc: Flags.string({ description: 'target: the libc file of the machine the build must run on' }),
    root: Flags.string({ description: 'target: the root directory of the machine the build must run on' }),
    arch: Flags.string({ description: 'arch of the build (default: the target\'s; x86_64, or arm64 with libvirt and --box)', options: ['x86_64', 'arm64'] }),
    provider: Flags.string({ description: 'Vagrant provider', options: ['libvirt', 'virtualbox'], default: 'libvirt' }),
    box: Flags.string({ description: 'use this Vagrant box instead of the official Debian one' }),
    cpus: Flags.integer({ description: 'virtual CPUs of the build VM', default: 2 }),
    memory: Flags.integer({ description: 'memory of the build VM in MiB', default: 4096 }),
    'with-tests': Flags.boolean({ description: 'also run borg\'s own test suite in the VM (slow)' }),
    'keep-vm': Flags.boolean({ description: 'do not destroy the VM afterwards (to look around; destroy it yourself)' }),
    'dry-run': Flags.boolean({ description: 'write the Vagrantfile and scripts, print the commands, start nothing' }),
    output: Flags.string({ description: 'directory for borg-dir-<version>.tgz and its manifest', default: '.' }),
    'work-dir': Flags.string({ description: 'directory for the Vagrantfile, inputs and build.log (default: under the cache dir)' }),
    'from-sdist': Flags.string({ description: 'use this local borgbackup-<version>.tar.gz (verified with its .asc) instead of downloading it' }),
    'sdist-signature': Flags.string({ description: 'signature of --from-sdist (default: FILE.asc)', dependsOn: ['from-sdist'] }),
    'signing-key': Flags.string({ description: 'verify with this OpenPGP key file instead of borg\'s pinned key (private mirrors, tests)' }),
    fingerprint: Flags.string({ description: 'primary fingerprint to trust in --signing-key' }),
    'strict-key-expiry': Flags.boolean({ description: 'refuse a good signature whose key has expired in our copy' }),
    'api-url': Flags.string({ description: 'GitHub API base URL (a mirror)', hidden: true }),
  };

  async run(): Promise<object> {
    const { args, flags } = await this.parse(Build);
    if (!flags.vagrant) throw new UsageError('say how to build: `build --vagrant` (the only build method)');
    const build = await import('../build');
    const target = await this.resolveTarget(flags, build);
    const { netOptionsFromEnv } = await import('../fetch/net-options');
    const api = { apiUrl: flags['api-url'], token: process.env.GITHUB_TOKEN || undefined, signal: this.signal, net: netOptionsFromEnv() };
    if (flags['from-sdist'] && !args.version && !versionFromSdistName(flags['from-sdist'])) {
      throw new UsageError(`give the borg version of ${flags['from-sdist']}, e.g. build --vagrant 1.4.2 --from-sdist FILE`);
    }
    const version = args.version
      ?? versionFromSdistName(flags['from-sdist'])
      ?? (flags['dry-run'] ? undefined : await build.newestStableVersion(api));
    if (!version) throw new UsageError('give the borg version for --dry-run, e.g. build --vagrant 1.4.2 --dry-run');

    const plan = build.makePlan({
      version,
      debian: target.debian,
      arch: flags.arch ?? target.arch,
      provider: flags.provider,
      cpus: flags.cpus,
      memoryMiB: flags.memory,
      withTests: flags['with-tests'],
      box: flags.box,
    });
    const { cacheDir } = await import('../fetch/cache-dir');
    const workDir = path.resolve(
      flags['work-dir'] ?? path.join(cacheDir(), 'build', `borg-${plan.version}-${plan.debian}-${plan.arch}-${Date.now()}`),
    );
    const json = this.jsonEnabled();
    const result = await build.buildWithVagrant({
      plan,
      target: { glibc: target.glibc, arch: plan.arch },
      outputDir: path.resolve(flags.output),
      workDir,
      keepVm: flags['keep-vm'],
      dryRun: flags['dry-run'],
      signal: this.signal,
      sdist: {
        fromFile: flags['from-sdist'],
        signatureFile: flags['sdist-signature'],
        keyFile: flags['signing-key'],
        fingerprint: flags.fingerprint,
        strictKeyExpiry: flags['strict-key-expiry'],
        api,
      },
      onEvent: (e) => {
        if (e.type === 'warning') this.warnLine(e.message);
        else if (!json) process.stderr.write(`${e.type === 'step' ? '  build step: ' : '==> '}${e.name}\n`);
      },
    });
    if (!json) this.render(result, plan);
    return { ...result, plan, target };
  }

  private async resolveTarget(
    flags: { debian?: string; libc?: string; root?: string },
    build: typeof import('../build'),
  ): Promise<{ debian: import('../build').DebianRelease; glibc: string; arch: string; from: string }> {
    const explicitTarget = flags.libc !== undefined || flags.root !== undefined;
    if (flags.debian && !explicitTarget) {
      const debian = build.parseDebianRelease(flags.debian);
      return { debian, glibc: build.DEBIAN[debian].glibc, arch: 'x86_64', from: '--debian' };
    }
    const { resolveLibcTarget, requireGlibc } = await import('../target');
    const t = requireGlibc(await resolveLibcTarget({ libc: flags.libc, root: flags.root }));
    const glibc = t.libc.release!;
    const debian = flags.debian ? build.parseDebianRelease(flags.debian) : build.debianForGlibc(glibc);
    const vmGlibc = build.DEBIAN[debian].glibc;
    // A build runs only on the same or a newer glibc: refuse now, not after an hour of building.
    if (compareDotted(vmGlibc, glibc) > 0) {
      throw new UnsupportedTargetError(
        `a ${debian} build needs glibc ${vmGlibc} but the target has ${glibc}: use --debian ${build.debianForGlibc(glibc)}`,
      );
    }
    const from = flags.libc ? `--libc ${flags.libc}` : flags.root ? `--root ${flags.root}` : 'this machine';
    return { debian, glibc, arch: t.arch, from };
  }

  private render(r: import('../build').BuildResult, plan: import('../build').BuildPlan): void {
    if (r.dryRun) {
      this.log(`dry run: wrote ${r.vagrantfile} (borg ${plan.version}, ${plan.box}, ${plan.provider}); nothing was started`);
      this.log(`the sdist is fetched and verified into ${path.join(r.workDir, 'input')} before vagrant up; then:`);
      r.commands.forEach((c) => this.log(`  ${c}`));
      return;
    }
    const m = r.manifest!;
    this.log(`built borg ${m.borgVersion} on Debian ${m.debian} (glibc ${m.glibc}, Python ${m.python}, PyInstaller ${m.pyinstaller})`);
    this.log(`  ${r.artifact}`);
    this.log(`  ${r.manifestFile}`);
    this.log(`  sha256 ${m.sha256}`);
    this.log(`  VM: ${r.vm}${r.vm === 'kept' ? ` (cd ${r.workDir} && vagrant destroy -f when done)` : ''}; log: ${r.log}`);
    this.log(`install it with: borg-provision install --from ${r.artifact}`);
  }
}

function versionFromSdistName(file: string | undefined): string | undefined {
  const m = file ? /^borgbackup-(.+)\.tar\.gz$/.exec(path.basename(file)) : null;
  return m?.[1];
}
