// `borg-provision install VERSION`: download, verify, unpack, check and activate a borg build.
// Thin: parses flags, hands everything to src/install/, renders the outcome.
import { Args, Flags } from '@oclif/core';
import { apiFlags, apiOptionsFromFlags } from '../cli/api-flags';
import { BaseCommand } from '../cli/base';
import { resolveTargetFromFlags, targetFlags } from '../cli/target-flags';
import type { ProgressEvent } from '../fetch/types';
import type { InstallResult } from '../install';

export default class Install extends BaseCommand {
  static override summary = 'Install a verified borg build and make it the current `borg`';
  static override description =
    'Chooses the build of VERSION that fits this machine\'s glibc and arch, downloads it with its signature, ' +
    'verifies the signature against borg\'s pinned key before anything is unpacked, refuses archive entries that ' +
    'escape, checks every ELF file against the glibc here, runs `borg.exe -V` from the unpacked build, activates it ' +
    'under --prefix, installs the wrapper <bin-dir>/borg and runs `borg -V` through it; on any failure the previous ' +
    'borg stays current.';

  static override examples = [
    '<%= config.bin %> install 1.4.2',
    '<%= config.bin %> install 1.4.2 --prefix /root/borg-provision --bin-dir /root/bin',
    '<%= config.bin %> install 1.4.2 --from ./borg-linux-glibc231-x86_64.tgz   # + .asc beside it',
    '<%= config.bin %> install --from ./out/borg-dir-1.4.2.tgz                 # a build --vagrant artifact',
    '<%= config.bin %> install 1.4.2 --dry-run',
  ];

  static override args = {
    version: Args.string({ description: 'borg version, e.g. 1.4.2 (optional with --from a build artifact)' }),
  };

  static override flags = {
    prefix: Flags.string({ description: 'where versions live (default $XDG_DATA_HOME/borg-provision, else ~/.local/share/borg-provision)' }),
    'bin-dir': Flags.string({ description: 'where the `borg` wrapper goes (default ~/.local/bin)' }),
    from: Flags.string({
      description:
        'install from a local archive (+ .asc beside it), a directory of release assets (signed ones preferred), or a build --vagrant artifact named explicitly',
    }),
    asset: Flags.string({ description: 'install this asset of the release instead of the best fit' }),
    'allow-unsigned': Flags.boolean({ description: 'accept an unsigned GitHub-built (-gh) asset, unverified' }),
    'strict-key-expiry': Flags.boolean({ description: 'refuse a good signature whose key has expired in our copy' }),
    'signing-key': Flags.string({ description: 'verify with this OpenPGP key file instead of borg\'s pinned key (private mirrors)' }),
    fingerprint: Flags.string({ description: 'primary fingerprint to trust in --signing-key' }),
    force: Flags.boolean({ description: 'reinstall a version that is already installed (replaced atomically)' }),
    'dry-run': Flags.boolean({ description: 'print the plan (asset, URLs, paths, checks) and write nothing' }),
    // Hidden: install puts borg on THIS machine and runs it here, so judging builds for another
    // glibc/arch only serves tests; `borg-provision releases --glibc/--arch/--libc` is the command
    // for judging another machine. Same parsing as everywhere (aliases, exit 2 on a bad value).
    glibc: { ...targetFlags.glibc, hidden: true },
    arch: { ...targetFlags.arch, hidden: true },
    ...apiFlags,
  };

  async run(): Promise<InstallResult> {
    const { args, flags } = await this.parse(Install);
    const api = apiOptionsFromFlags(flags, this.signal);
    // Not awaited here: the pipeline reads it alongside the release look-up (see InstallOptions.target).
    const target = resolveTargetFromFlags({ glibc: flags.glibc, arch: flags.arch });
    target.catch(() => undefined); // reported when the pipeline awaits it; never an unhandled rejection
    const { install, defaultBinDir, defaultPrefix } = await import('../install');
    const { createProgressBar } = await import('../cli/progress');
    const json = this.jsonEnabled();
    // A bar only on a terminal and never with --json; on a pipe only retries are worth a line.
    const bar = createProgressBar({ enabled: !json });
    const onProgress = (e: ProgressEvent): void => {
      if (bar.active) return bar.onProgress(e);
      if (!json && e.type === 'retry') process.stderr.write(`  ${e.fileName}: ${e.reason}; retry ${e.attempt}\n`);
    };
    try {
      const r = await install({
        version: args.version,
        prefix: flags.prefix ?? defaultPrefix(),
        binDir: flags['bin-dir'] ?? defaultBinDir(),
        apiUrl: api.apiUrl,
        token: api.token,
        net: api.net,
        target,
        asset: flags.asset,
        allowUnsigned: flags['allow-unsigned'],
        strictKeyExpiry: flags['strict-key-expiry'],
        signingKey: flags['signing-key'],
        fingerprint: flags.fingerprint,
        from: flags.from,
        dryRun: flags['dry-run'],
        force: flags.force,
        signal: this.signal,
        onWarning: (w) => {
          bar.done();
          this.warnLine(w);
        },
        onStep: json
          ? undefined
          : (s) => {
              bar.done();
              process.stderr.write(`  ${s}\n`);
            },
        onProgress,
      });
      bar.done();
      if (!json) this.render(r);
      return r;
    } finally {
      bar.done();
    }
  }

  private render(r: InstallResult): void {
    const p = r.plan;
    if (r.action === 'dry-run') {
      this.log(`would install borg ${r.version} from ${p.asset} (${p.source}, ${p.kind})`);
      this.log(`  archive:   ${p.archiveUrl}`);
      if (p.chosen) this.log(`  chosen:    ${p.chosen}`);
      this.log(`  signature: ${p.signatureUrl ?? '(none)'}`);
      this.log(`  into:      ${p.dir}`);
      this.log(`  wrapper:   ${p.wrapper}`);
      this.log(`  target:    glibc ${p.target.glibc} ${p.target.arch}`);
      this.log(`  elf scan:  ${p.elfScan}`);
      for (const c of p.checks) this.log(`  check:     ${c}`);
      this.log('nothing was written (--dry-run)');
      return;
    }
    if (r.action === 'already-installed') {
      this.log(`borg ${r.version} is already installed in ${p.dir}${r.current ? ' and current' : ''}; --force reinstalls it`);
      return;
    }
    const v = r.verification;
    const how =
      v?.status === 'good' || v?.status === 'good-expired-key'
        ? `signature ${v.status === 'good' ? 'good' : 'good (key expired in our copy)'} by ${v.signingFingerprint}`
        : v?.status === 'sha256-manifest'
          ? `built locally, NOT signed by borg; SHA-256 ${v.sha256} matches its build manifest`
          : `UNSIGNED, not verified (--allow-unsigned); SHA-256 ${v?.sha256 ?? '?'}`;
    // Verdict first: an unsigned install says so on its first line, not only in a warning or --json.
    const caveat = v?.status === 'sha256-manifest' ? ' (locally built, unsigned by borg)' : v?.status === 'unsigned' ? ' (UNSIGNED, unverified)' : '';
    this.log(`${r.action} borg ${r.version}${caveat}: ${r.smoke}`);
    this.log(`  from:     ${p.asset} (${how})`);
    const scanned = p.kind === 'onefile' ? 'one-file: bootloader only, the libraries packed inside are not scanned' : `${r.elfFiles} ELF files checked`;
    this.log(`  glibc:    needs ${r.glibcNeeded ?? 'nothing'}, target has ${p.target.glibc} (${scanned})`);
    this.log(`  in:       ${p.dir}`);
    this.log(`  run as:   ${p.wrapper}${r.previous && r.previous !== r.version ? ` (was ${r.previous})` : ''}`);
  }
}
