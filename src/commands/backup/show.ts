// `borg-provision backup show NAME`: the resolved configuration (secrets as paths only).
import { Args } from '@oclif/core';
import { BackupCommand, configDirFlag } from '../../cli/backup-command';
import type { JobShow } from '../../backup';

export default class BackupShow extends BackupCommand {
  static override summary = "Show a job's resolved configuration, its borg and its state";
  static override examples = ['<%= config.bin %> backup show daily', '<%= config.bin %> backup show daily --json'];
  static override args = { name: Args.string({ required: true, description: 'job name' }) };
  static override flags = { 'config-dir': configDirFlag };

  async run(): Promise<JobShow> {
    const { showJob } = await import('../../backup');
    const { args, flags } = await this.parse(BackupShow);
    const s = await showJob(args.name, { configDir: flags['config-dir'] });
    if (this.jsonEnabled()) return s;
    const c = s.config;
    this.log(`job ${s.name} (${s.format} format): ${s.file}`);
    this.log(`repository: ${c.repository}`);
    this.log(`sources: ${c.sources.join(', ')}`);
    this.log(`borg: ${s.borg}`);
    this.log(`archive name: ${c.archiveName}; create options: ${c.createOptions.join(' ') || '(none)'}`);
    this.log(
      `retention: ${
        c.retention
          ? Object.entries(c.retention)
              .map(([k, v]) => `${k}=${v}`)
              .join(' ')
          : '(none: no prune)'
      }`,
    );
    this.log(
      `compact: ${c.compact}; checks: ${c.checks.map((k) => `${k.name} every ${k.frequency}`).join(', ') || '(none)'}`,
    );
    this.log(`retries: ${JSON.stringify(c.retries)}, wait ${c.retryWaitS}s (growing); lock wait ${c.lockWaitS}s`);
    this.log(
      `secrets: passphrase ${c.secrets.passphrase}` +
        `${c.secrets.sshKey ? `, ssh key ${c.secrets.sshKey}` : ''}, key ${c.secrets.keyFile}`,
    );
    this.log(`last run: ${s.state.lastRun ? `${s.state.lastRun.result} at ${s.state.lastRun.finishedAt}` : 'never'}`);
    return s;
  }
}
