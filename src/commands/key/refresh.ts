// `borg-provision key refresh`: fetch the current copy of borg's key and keep it if it is the pinned key.
import { Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base';
import type { KeyInfo, RefreshResult } from '../../verify';

export default class KeyRefresh extends BaseCommand {
  static override summary = "Fetch the current copy of borg's signing key from a keyserver";
  static override description =
    'Downloads the key with the pinned primary fingerprint 6D5B EF9A DD20 7580 5747  B70F 9F88 FB52 FAF7 B393 from ' +
    '<keyserver>/vks/v1/by-fingerprint/<FPR> and keeps it in $XDG_CONFIG_HOME/borg-provision/borg-signing-key.asc ' +
    '(else ~/.config/...), where install prefers it to the bundled copy. Anything else the keyserver serves is refused and nothing is written.';

  static override examples = [
    '<%= config.bin %> key refresh',
    '<%= config.bin %> key refresh --keyserver https://keys.openpgp.org',
  ];

  static override flags = {
    keyserver: Flags.string({ description: 'VKS keyserver base URL', default: 'https://keys.openpgp.org' }),
  };

  async run(): Promise<RefreshResult & { key: KeyInfo }> {
    const { flags } = await this.parse(KeyRefresh);
    const verify = await import('../../verify');
    const net = { log: this.trace };
    const r = await verify.refreshSigningKey({ keyserver: flags.keyserver, signal: this.signal, net });
    const key = await verify.describeSigningKey(await verify.loadSigningKey());
    if (!this.jsonEnabled()) {
      const state = key.revoked
        ? 'REVOKED'
        : key.expired
          ? `still EXPIRED (${key.expires?.slice(0, 10)})`
          : key.expires
            ? `valid until ${key.expires.slice(0, 10)}`
            : 'valid, no expiry';
      this.log(
        `${r.changed ? 'Refreshed' : 'Already current'}: borg's signing key ${verify.groupFingerprint(r.fingerprint)}, ${state}`,
      );
      this.log(`  from:   ${r.url}`);
      this.log(`  stored: ${r.path}`);
    }
    return { ...r, key };
  }
}
