// `borg-provision cache list`: what the download cache holds, release by release.
import { BaseCommand } from '../../cli/base';
import { formatBytes } from '../../cli/format';
import type { CacheListing } from '../../fetch';

export default class CacheList extends BaseCommand {
  static override summary = 'List the downloaded archives kept in the cache, per release';
  static override description =
    'The download cache is $XDG_CACHE_HOME/borg-provision (else ~/.cache/borg-provision), one folder per release. ' +
    'A download that was interrupted leaves a .part there, which the next install resumes.';

  static override examples = ['<%= config.bin %> cache list', '<%= config.bin %> cache list --json'];

  async run(): Promise<CacheListing> {
    await this.parse(CacheList);
    const { listCache } = await import('../../fetch');
    const listing = await listCache();
    if (!this.jsonEnabled()) this.render(listing);
    return listing;
  }

  private render(l: CacheListing): void {
    if (l.releases.length === 0) return this.log(`the download cache ${l.dir} is empty`);
    const n = l.releases.length;
    this.log(`${l.dir}: ${formatBytes(l.bytes)} in ${n} release folder${n === 1 ? '' : 's'}`);
    for (const r of l.releases) {
      this.log(`  ${r.name.padEnd(12)} ${formatBytes(r.bytes).padStart(9)}${r.inUse ? '  (download running)' : ''}`);
      for (const f of r.files) this.log(`      ${f.name}  ${formatBytes(f.size)}${f.partial ? '  (partial)' : ''}`);
    }
  }
}
