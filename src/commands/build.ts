// `borg-provision build --vagrant [VERSION]`: build borg's one-dir binary in a throwaway Debian VM
// that matches the target, from borg's verified sdist. Thin: parses flags, asks the target stage
// which Debian to use, and hands everything to src/build/.
import { Args, Flags } from '@oclif/core';
import * as path from 'node:path';
import { apiFlags, apiOptionsFromFlags } from '../cli/api-flags';
import { BaseCommand } from '../cli/base';
import { parseArchFlag, resolveTargetFromFlags, targetFlags } from '../cli/target-flags';
import { UnsupportedTargetError, UsageError } from '../errors';
import { compareDotted } from '../util/dotted-version';
import type { Target } from '../target';

export default class Build extends BaseCommand {
  static override summary = "Build borg on the target's own Debian release in a Vagrant VM (from the verified sdist)";
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
    debian: Flags.string({
      description: 'Debian release of the build VM (default: from the target)',
      options: ['bullseye', 'bookworm', 'trixie'],
    }),
    libc: targetFlags.libc,
    root: targetFlags.root,
    arch: targetFlags.arch,
    provider: Flags.string({ description: 'Vagrant provider', options: ['libvirt', 'virtualbox'], default: 'libvirt' }),
    box: Flags.string({ description: 'use this Vagrant box instead of the official Debian one' }),
    cpus: Flags.integer({ description: 'virtual CPUs of the build VM', default: 2 }),
    memory: Flags.integer({ description: 'memory of the build VM in MiB', default: 4096 }),
    'with-tests': Flags.boolean({ description: "also run borg's own test suite in the VM (slow)" }),
    'keep-vm': Flags.boolean({ description: 'do not destroy the VM afterwards (to look around; destroy it yourself)' }),
    'dry-run': Flags.boolean({ description: 'write the Vagrantfile and scripts, print the commands, start nothing' }),
    output: Flags.string({ description: 'directory for borg-dir-<version>.tgz and its manifest', default: '.' }),
    'work-dir': Flags.string({
      description: 'directory for the Vagrantfile, inputs and build.log (default: under the cache dir)',
    }),
    'from-sdist': Flags.string({
      description: 'use this local borgbackup-<version>.tar.gz (verified with its .asc) instead of downloading it',
    }),
    'sdist-signature': Flags.string({
      description: 'signature of --from-sdist (default: FILE.asc)',
      dependsOn: ['from-sdist'],
    }),
    'signing-key': Flags.string({
      description: "verify with this OpenPGP key file instead of borg's pinned key (private mirrors, tests)",
    }),
    fingerprint: Flags.string({ description: 'primary fingerprint to trust in --signing-key' }),
    'strict-key-expiry': Flags.boolean({ description: 'refuse a good signature whose key has expired in our copy' }),
    ...apiFlags,
  };

  async run(): Promise<object> {
    const { args, flags } = await this.parse(Build);
    if (args.version !== undefined) (await import('../releases')).checkVersionArg(args.version);
    if (!flags.vagrant) throw new UsageError('say how to build: `build --vagrant` (the only build method)');
    const build = await import('../build');
    const { debian, target } = await this.resolveTarget(flags, build);
    const api = this.traced(await apiOptionsFromFlags(flags, this.signal));
    if (flags['from-sdist'] && !args.version && !versionFromSdistName(flags['from-sdist'])) {
      throw new UsageError(
        `give the borg version of ${flags['from-sdist']}, e.g. build --vagrant 1.4.2 --from-sdist FILE`,
      );
    }
    // Without VERSION, --dry-run plans the same version a real build would build.
    const version = args.version ?? versionFromSdistName(flags['from-sdist']) ?? (await build.newestStableVersion(api));

    const plan = build.makePlan({
      version,
      debian,
      arch: target.arch,
      provider: flags.provider,
      cpus: flags.cpus,
      memoryMiB: flags.memory,
      withTests: flags['with-tests'],
      box: flags.box,
      targetArch: target.libcFile?.arch,
    });
    const { cacheDir } = await import('../fetch');
    const workDir = path.resolve(
      flags['work-dir'] ??
        path.join(cacheDir(), 'build', `borg-${plan.version}-${plan.debian}-${plan.arch}-${Date.now()}`),
    );
    // The one key the sdist's signature is checked against (a bad --signing-key fails --dry-run too, as in install).
    const { loadSigningKey } = await import('../verify');
    const key = await loadSigningKey({ keyFile: flags['signing-key'], fingerprint: flags.fingerprint });
    const json = this.jsonEnabled();
    const { createProgressBar } = await import('../cli/progress');
    const bar = createProgressBar({ enabled: this.showProgress }); // draws only on a terminal
    const result = await build
      .buildWithVagrant({
        plan,
        target,
        outputDir: path.resolve(flags.output),
        workDir,
        keepVm: flags['keep-vm'],
        dryRun: flags['dry-run'],
        signal: this.signal,
        sdist: {
          fromFile: flags['from-sdist'],
          signatureFile: flags['sdist-signature'],
          key,
          strictKeyExpiry: flags['strict-key-expiry'],
          api,
          onDownload: bar.onProgress,
        },
        onEvent: (e) => {
          bar.done(); // the sdist downloads are over once the next event comes
          if (e.type === 'warning') this.warnLine(e.message);
          else if (this.showProgress)
            process.stderr.write(`${e.type === 'step' ? '  build step: ' : '==> '}${e.name}\n`);
          else this.trace?.(`${e.type === 'step' ? 'build step' : 'build'}: ${e.name}`);
        },
      })
      .finally(() => bar.done());
    if (!json) this.render(result, plan);
    return { ...result, plan, target: { debian, glibc: target.glibc, arch: target.arch, from: target.source } };
  }

  private async resolveTarget(
    flags: { debian?: string; libc?: string; root?: string; arch?: string },
    build: typeof import('../build'),
  ): Promise<{ debian: import('../build').DebianRelease; target: Target }> {
    const explicitTarget = flags.libc !== undefined || flags.root !== undefined;
    if (flags.debian && !explicitTarget) {
      const debian = build.parseDebianRelease(flags.debian);
      const arch = flags.arch === undefined ? 'x86_64' : await parseArchFlag(flags.arch);
      const { givenTarget } = await import('../target');
      return { debian, target: givenTarget(build.DEBIAN[debian].glibc, arch, '--debian') };
    }
    const t = await resolveTargetFromFlags({ libc: flags.libc, root: flags.root, arch: flags.arch });
    const glibc = t.glibc;
    const debian = flags.debian ? build.parseDebianRelease(flags.debian) : build.debianForGlibc(glibc);
    const vmGlibc = build.DEBIAN[debian].glibc;
    // A build runs only on the same or a newer glibc: refuse now, not after an hour of building.
    if (compareDotted(vmGlibc, glibc) > 0) {
      throw new UnsupportedTargetError(
        `a ${debian} build needs glibc ${vmGlibc} but the target has ${glibc}: use --debian ${build.debianForGlibc(glibc)}`,
      );
    }
    // t.libcFile.arch: the arch the libc was read as; makePlan refuses an --arch that differs from it.
    return { debian, target: t };
  }

  private render(r: import('../build').BuildResult, plan: import('../build').BuildPlan): void {
    if (r.dryRun) {
      this.log(
        `dry run: wrote ${r.vagrantfile} (borg ${plan.version}, ${plan.box}, ${plan.provider}); nothing was started`,
      );
      this.log(`the sdist is fetched and verified into ${path.join(r.workDir, 'input')} before vagrant up; then:`);
      r.commands.forEach((c) => this.log(`  ${c}`));
      return;
    }
    const m = r.manifest!;
    this.log(
      `built borg ${m.borgVersion} on Debian ${m.debian} (glibc ${m.glibc}, Python ${m.python}, PyInstaller ${m.pyinstaller})`,
    );
    this.log(`  ${r.artifact}`);
    this.log(`  ${r.manifestFile}`);
    this.log(`  sha256 ${m.sha256}`);
    this.log(
      `  VM: ${r.vm}${r.vm === 'kept' ? ` (cd ${r.workDir} && vagrant destroy -f when done)` : ''}; log: ${r.log}`,
    );
    this.log(`install it with: borg-provision install --from ${r.artifact}`);
  }
}

function versionFromSdistName(file: string | undefined): string | undefined {
  const m = file ? /^borgbackup-(.+)\.tar\.gz$/.exec(path.basename(file)) : null;
  return m?.[1];
}
