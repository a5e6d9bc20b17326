// `borg-provision use VERSION`: make an installed version current, after `borg -V` proves it runs.
import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../cli/base';
import type { UseResult } from '../install';

export default class Use extends BaseCommand {
  static override summary = 'Make an installed borg version the current one (smoke-tested; rolled back if it fails)';
  static override examples = ['<%= config.bin %> use 1.4.2'];
  static override args = { version: Args.string({ description: 'installed version to make current', required: true }) };
  static override flags = {
    prefix: Flags.string({
      description: 'where versions live (default $XDG_DATA_HOME/borg-provision, else ~/.local/share/borg-provision)',
    }),
    'bin-dir': Flags.string({ description: 'where the `borg` wrapper goes (default ~/.local/bin)' }),
  };

  async run(): Promise<UseResult> {
    const { args, flags } = await this.parse(Use);
    (await import('../releases')).checkVersionArg(args.version);
    const { useVersion, defaultBinDir, defaultPrefix } = await import('../install');
    const r = await useVersion(
      flags.prefix ?? defaultPrefix(),
      flags['bin-dir'] ?? defaultBinDir(),
      args.version,
      this.signal,
    );
    if (!this.jsonEnabled()) {
      this.log(
        r.changed
          ? `borg ${r.version} is current (was ${r.previous ?? 'none'}): ${r.smoke}`
          : `borg ${r.version} was already current: ${r.smoke}`,
      );
    }
    return r;
  }
}
