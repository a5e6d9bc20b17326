// `borg-provision backup init NAME --repo URL`: create a job and its repository.
import { Args, Flags } from '@oclif/core';
import { BackupCommand, configDirFlag } from '../../cli/backup-command';
import { BackupFailedError } from '../../errors';
import type { InitResult } from '../../backup';

export default class BackupInit extends BackupCommand {
  static override summary = 'Create a backup job and its borg repository';
  static override description =
    'Writes <config-dir>/backups/NAME/ (config.yaml, a random passphrase file, for ssh:// an ed25519 key), runs ' +
    '`borg init` and exports the repository key into the job (with --encryption none there is no key to export). ' +
    'The passphrase is never printed. For ssh:// it prints the authorized_keys line for the server; until the server ' +
    'accepts the key the job waits, and init finishes when run again. A failure after `borg init` keeps the job (its ' +
    'passphrase opens the repository); running the same init again exports the key. Refuses to overwrite a job or a ' +
    'repository.';

  static override examples = [
    '<%= config.bin %> backup init daily --repo /mnt/tank/borg/daily --source /mnt/tank/data',
    '<%= config.bin %> backup init offsite --repo ssh://borg@backup.example:22/srv/borg/nas --source /mnt/tank/data',
  ];

  static override args = { name: Args.string({ required: true, description: 'job name' }) };
  static override flags = {
    repo: Flags.string({ required: true, description: 'repository: an absolute path or ssh://user@host[:port]/path' }),
    source: Flags.string({ multiple: true, description: 'a path to back up (repeatable)' }),
    encryption: Flags.string({
      default: 'repokey-blake2',
      options: ['repokey-blake2', 'keyfile-blake2', 'repokey', 'keyfile', 'none'],
    }),
    'config-dir': configDirFlag,
    'dry-run': Flags.boolean({ description: 'say what would be created; write nothing' }),
  };

  async run(): Promise<InitResult> {
    const { initJob } = await import('../../backup');
    const { args, flags } = await this.parse(BackupInit);
    const r = await initJob({
      name: args.name,
      repo: flags.repo,
      sources: flags.source ?? [],
      encryption: flags.encryption as InitResult['encryption'],
      configDir: flags['config-dir'],
      dryRun: flags['dry-run'],
      signal: this.signal,
    });
    if (!this.jsonEnabled()) this.render(r);
    if (r.authorizedKeysLine && !r.initialized && !r.dryRun) {
      throw Object.assign(
        new BackupFailedError(
          `the server did not accept job ${r.job}'s ssh key yet; the repository is not initialised`,
          {
            hint:
              "add the line above to the server's ~/.ssh/authorized_keys, then run: " +
              `borg-provision backup init ${r.job} --repo ${r.repository}`,
          },
        ),
        { body: r },
      );
    }
    return r;
  }

  private render(r: InitResult): void {
    if (r.dryRun) {
      const plan = {
        new: `would create job ${r.job} in ${r.dir}, then borg init --encryption ${r.encryption} ${r.repository}`,
        'ssh-key': `would borg init --encryption ${r.encryption} ${r.repository} for the waiting job ${r.job}`,
        'key-export': `would export the key of job ${r.job}'s repository ${r.repository}`,
      };
      this.log(plan[r.resumed]);
      return;
    }
    if (r.authorizedKeysLine) {
      this.log(
        `job ${r.job}: put this line into the server's ~/.ssh/authorized_keys (borg serve only, this path only):`,
      );
      this.log(r.authorizedKeysLine);
    }
    if (!r.initialized) return;
    const done = {
      new: `job ${r.job} created in ${r.dir}; repository ${r.repository} initialised (${r.encryption})`,
      'ssh-key': `job ${r.job}: repository ${r.repository} initialised (${r.encryption})`,
      'key-export': `job ${r.job}: repository ${r.repository} was initialised before; its key is exported now`,
    };
    this.log(done[r.resumed]);
    if (!r.keyExport) {
      this.log(
        'not encrypted (--encryption none): there is no key to export; whoever can read the repository can read the backups',
      );
      return;
    }
    this.log(`passphrase: ${r.passphraseFile} (mode 0600, never printed); exported key: ${r.keyExport}`);
    this.log('copy both files somewhere else (not into this backup): without them the backups cannot be read');
  }
}
