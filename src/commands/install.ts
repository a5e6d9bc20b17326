// `borg-provision install VERSION`: download, verify, unpack, check and activate a borg build.
// Thin: parses flags, hands everything to src/cli/install-run.ts, renders the outcome.
import { Args, Flags } from '@oclif/core';
import { apiFlags } from '../cli/api-flags';
import { BaseCommand } from '../cli/base';
import { renderInstall, runInstall } from '../cli/install-run';
import { targetFlags } from '../cli/target-flags';
import type { InstallResult } from '../install';

export default class Install extends BaseCommand {
  static override summary = 'Install a verified borg build and make it the current `borg`';
  static override description =
    "Chooses the build of VERSION that fits this machine's glibc and arch, downloads it with its signature, " +
    "verifies the signature against borg's pinned key before anything is unpacked, refuses archive entries that " +
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
    prefix: Flags.string({
      description: 'where versions live (default $XDG_DATA_HOME/borg-provision, else ~/.local/share/borg-provision)',
    }),
    'bin-dir': Flags.string({ description: 'where the `borg` wrapper goes (default ~/.local/bin)' }),
    from: Flags.string({
      description:
        'install from a local archive (+ .asc beside it), a directory of release assets (signed ones preferred), or a build --vagrant artifact named explicitly',
    }),
    asset: Flags.string({ description: 'install this asset of the release instead of the best fit' }),
    'allow-unsigned': Flags.boolean({ description: 'accept an unsigned GitHub-built (-gh) asset, unverified' }),
    'strict-key-expiry': Flags.boolean({ description: 'refuse a good signature whose key has expired in our copy' }),
    'signing-key': Flags.string({
      description: "verify with this OpenPGP key file instead of borg's pinned key (private mirrors)",
    }),
    fingerprint: Flags.string({ description: 'primary fingerprint to trust in --signing-key' }),
    force: Flags.boolean({ description: 'reinstall a version that is already installed (replaced atomically)' }),
    'keep-download': Flags.boolean({
      description: 'keep the downloaded archive in the cache once installed (by default it is removed)',
    }),
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
    const json = this.jsonEnabled();
    const io = {
      signal: this.signal,
      json,
      warn: (w: string) => this.warnLine(w),
      quiet: this.quiet,
      log: this.trace,
      net: this.traced({ net: {} }).net,
    };
    const r = await runInstall(args.version, flags, io);
    if (!json) await renderInstall(r, (line) => this.log(line));
    return r;
  }
}
