// `borg-provision self-install [--bin-dir DIR]`: puts the running single-file executable on PATH.
import { Flags } from '@oclif/core';
import { BaseCommand } from '../cli/base';
import { UsageError } from '../errors';
import type { SelfInstallResult } from '../install';
import { isSingleExecutable } from '../util/package-files';

export default class SelfInstall extends BaseCommand {
  static override summary = 'Copy this single-file executable into a bin directory as borg-provision';
  static override description =
    'Copies the running executable atomically to <bin-dir>/borg-provision, refusing a noexec or read-only ' +
    'directory as install does. On TrueNAS, /root/bin survives upgrades and allows exec.';

  static override examples = ['<%= config.bin %> self-install', '<%= config.bin %> self-install --bin-dir /root/bin'];
  static override flags = {
    'bin-dir': Flags.string({ description: 'where borg-provision goes (default ~/.local/bin; on TrueNAS /root/bin)' }),
  };

  async run(): Promise<SelfInstallResult> {
    const { flags } = await this.parse(SelfInstall);
    if (!isSingleExecutable()) {
      throw new UsageError(
        'self-install copies the single-file executable, and this borg-provision runs from the npm package',
        {
          hint: 'use the file built by `npm run dist` (dist/sea/), or `npm install -g` to put this package on PATH',
        },
      );
    }
    const { selfInstall, defaultBinDir } = await import('../install');
    const r = await selfInstall({ executable: process.execPath, binDir: flags['bin-dir'] ?? defaultBinDir() });
    if (!r.onPath) this.warnLine(`${r.path} is not on PATH: add its directory to PATH, or run it by its full path`);
    if (!this.jsonEnabled()) this.log(`installed ${r.path}`);
    return r;
  }
}
