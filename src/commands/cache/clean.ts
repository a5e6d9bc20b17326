// `borg-provision cache clean [--keep-current]`: remove downloaded archives from the cache.
import { Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base';
import { formatBytes } from '../../cli/format';
import type { CleanResult } from '../../fetch';

export default class CacheClean extends BaseCommand {
  static override summary = 'Remove the downloaded archives from the cache (installed versions are not touched)';
  static override description =
    'Removes every release folder of the download cache. With --keep-current, the folder of the version that is ' +
    'current under --prefix stays (a reinstall of it needs no download). A folder a download is running into ' +
    'stays too.';

  static override examples = ['<%= config.bin %> cache clean', '<%= config.bin %> cache clean --keep-current'];

  static override flags = {
    'keep-current': Flags.boolean({ description: 'keep the download of the current borg version' }),
    prefix: Flags.string({
      description:
        'where versions live, for --keep-current ' +
        '(default $XDG_DATA_HOME/borg-provision, else ~/.local/share/borg-provision)',
    }),
  };

  async run(): Promise<CleanResult & { current: string | null }> {
    const { flags } = await this.parse(CacheClean);
    const [{ cleanCache }, install] = await Promise.all([import('../../fetch'), import('../../install')]);
    const prefix = flags.prefix ?? install.defaultPrefix();
    const current = flags['keep-current'] ? (await install.listVersions(prefix)).current : null;
    // Release folders are named by tag: 1.4.2 or v1.4.2.
    const isCurrent = (name: string): boolean => current !== null && name.replace(/^v(?=\d)/, '') === current;
    const r = await cleanCache({ keep: (name) => (isCurrent(name) ? 'the current version' : null) });
    if (!this.jsonEnabled()) {
      const n = r.removed.length;
      this.log(`removed ${n} release folder${n === 1 ? '' : 's'} from ${r.dir} (${formatBytes(r.freedBytes)} freed)`);
      for (const k of r.kept) this.log(`  kept ${k.release.name}: ${k.why}`);
      if (flags['keep-current'] && current === null) {
        this.warnLine('no borg version is current: --keep-current kept nothing');
      }
    }
    return { ...r, current };
  }
}
