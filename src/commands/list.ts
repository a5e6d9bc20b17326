// `borg-provision list`: installed borg versions, which one is current, and how each was verified.
import { Flags } from '@oclif/core';
import { BaseCommand } from '../cli/base';
import { formatBytes } from '../cli/format';
import type { ListResult } from '../install';

export default class List extends BaseCommand {
  static override summary = 'List installed borg versions and which one is current';
  static override examples = ['<%= config.bin %> list', '<%= config.bin %> list --json'];
  static override flags = {
    prefix: Flags.string({
      description: 'where versions live (default $XDG_DATA_HOME/borg-provision, else ~/.local/share/borg-provision)',
    }),
  };

  async run(): Promise<ListResult> {
    const { flags } = await this.parse(List);
    const [{ listVersions, defaultPrefix }, { shortFingerprint }] = await Promise.all([
      import('../install'),
      import('../verify'),
    ]);
    const r = await listVersions(flags.prefix ?? defaultPrefix());
    if (this.jsonEnabled()) return r;
    if (r.versions.length === 0) {
      this.log(`no borg installed in ${r.prefix}`);
      return r;
    }
    this.log(`${r.versions.length} installed in ${r.prefix}${r.current ? `, current ${r.current}` : ', none current'}`);
    for (const v of r.versions) {
      const signer = v.signer.primaryFingerprint ? shortFingerprint(v.signer.primaryFingerprint) : '';
      const verdict =
        v.signer.verdict === 'good' || v.signer.verdict === 'good-expired-key'
          ? `${v.signer.verdict} ${signer}`.trim()
          : v.signer.verdict;
      this.log(
        `${v.current ? '*' : ' '} ${v.version.padEnd(10)} ${v.asset}  glibc ${v.glibc ?? '?'}  ${v.source}, ${verdict}  ${formatBytes(v.size)}  ${v.installedAt.slice(0, 10)}`,
      );
    }
    return r;
  }
}
