// `borg-provision key show`: which key decides what is borg's, and what that copy says about itself.
import { Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base';
import type { KeyInfo } from '../../verify';

export default class KeyShow extends BaseCommand {
  static override summary = 'Show the signing key in use: source, fingerprint, user IDs, subkeys, expiry';
  static override description =
    'Prints the key that install uses to verify borg releases: the refreshed copy (borg-provision key refresh) when ' +
    'there is one, else the copy bundled with borg-provision, or the key given with --signing-key. An expired copy ' +
    "still verifies, with a warning (like gpg's EXPKEYSIG); a revoked key verifies nothing.";

  static override examples = [
    '<%= config.bin %> key show',
    '<%= config.bin %> key show --json',
    '<%= config.bin %> key show --signing-key mirror.asc --fingerprint <FPR>',
  ];

  static override flags = {
    'signing-key': Flags.string({
      description: 'show this OpenPGP key file instead (as install --signing-key would use it)',
    }),
    fingerprint: Flags.string({ description: 'primary fingerprint to pick in --signing-key' }),
  };

  async run(): Promise<KeyInfo> {
    const { flags } = await this.parse(KeyShow);
    const verify = await import('../../verify');
    const key = await verify.loadSigningKey({ keyFile: flags['signing-key'], fingerprint: flags.fingerprint });
    for (const w of key.warnings) this.warnLine(w);
    const info = await verify.describeSigningKey(key);
    if (!this.jsonEnabled()) this.render(info, verify.groupFingerprint);
    return info;
  }

  private render(k: KeyInfo, group: (f: string) => string): void {
    const whose = k.pinned ? "borg's pinned key" : "a CUSTOM key (not borg's)";
    const expired = `EXPIRED in this copy on ${day(k.expires)}`;
    const state = k.revoked ? 'REVOKED: it verifies nothing' : k.expired ? expired : 'valid';
    this.log(`Signing key: ${whose}, ${k.source} copy, ${state}`);
    if (!k.revoked && k.expired) for (const line of expiredMeaning(k)) this.log(`  ${line}`);
    this.log(`  file:         ${k.path}`);
    this.log(`  fingerprint:  ${group(k.fingerprint)}`);
    this.log(`  created:      ${day(k.created)} (${k.algorithm}, ${k.capabilities.join(', ') || 'no capabilities'})`);
    this.log(`  expires:      ${k.expires ? `${day(k.expires)}${k.expired ? ' (expired)' : ''}` : 'never'}`);
    k.userIds.forEach((u, i) => this.log(`  ${i === 0 ? 'user IDs:' : '         '}     ${u}`));
    for (const s of k.subkeys) {
      const flags = [
        s.capabilities.join(',') || '-',
        s.expires ? `${s.expired ? 'expired' : 'expires'} ${day(s.expires)}` : 'no expiry',
      ];
      if (s.revoked) flags.push('REVOKED');
      if (!s.bound) flags.push('NOT BOUND (ignored)');
      this.log(`  subkey:       ${group(s.fingerprint)}  ${s.algorithm}  ${flags.join('  ')}`);
    }
  }
}

/** What an expired copy means, said where it is shown (not on every install). */
function expiredMeaning(k: KeyInfo): string[] {
  const refresh =
    k.source === 'custom'
      ? 'get a current copy of this key from its owner'
      : 'run `borg-provision key refresh` to get the current copy';
  return [
    'What this means: the copy of the key on this machine carries an expiry date that has passed; keys are',
    'usually extended by their owner, and a current copy then carries the new date. Signatures are still',
    'checked against this key exactly as before (a wrong or forged signature is still refused); a good one',
    `is accepted with a warning, or refused with --strict-key-expiry. To stop the warning, ${refresh}.`,
  ];
}

function day(iso: string | null): string {
  return iso ? iso.slice(0, 10) : 'never';
}
