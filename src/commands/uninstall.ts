// `borg-provision uninstall VERSION`: remove an installed version (never the current one without --force).
import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../cli/base';
import type { UninstallResult } from '../install';

export default class Uninstall extends BaseCommand {
  static override summary = 'Remove an installed borg version';
  static override examples = [
    '<%= config.bin %> uninstall 1.4.1',
    '<%= config.bin %> uninstall 1.4.2 --force   # the current one',
  ];
  static override args = { version: Args.string({ description: 'installed version to remove', required: true }) };
  static override flags = {
    prefix: Flags.string({
      description: 'where versions live (default $XDG_DATA_HOME/borg-provision, else ~/.local/share/borg-provision)',
    }),
    'bin-dir': Flags.string({ description: 'where the `borg` wrapper is (default ~/.local/bin)' }),
    force: Flags.boolean({
      description: 'also remove the current version (leaves no current borg; the wrapper is removed)',
    }),
  };

  async run(): Promise<UninstallResult> {
    const { args, flags } = await this.parse(Uninstall);
    (await import('../releases')).checkVersionArg(args.version);
    const { uninstallVersion, defaultBinDir, defaultPrefix } = await import('../install');
    const r = await uninstallVersion(
      flags.prefix ?? defaultPrefix(),
      flags['bin-dir'] ?? defaultBinDir(),
      args.version,
      flags.force,
    );
    if (!this.jsonEnabled()) {
      this.log(`removed borg ${r.version} (${r.removed})${r.wasCurrent ? '; no borg is current now' : ''}`);
    }
    return r;
  }
}
