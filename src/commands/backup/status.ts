// `borg-provision backup status [NAME...] [--max-age 2d]`: exit 8 when a job's last success is too old.
import { Args, Flags } from '@oclif/core';
import { BackupCommand, configDirFlag } from '../../cli/backup-command';
import type { StatusResult } from '../../backup';

export default class BackupStatus extends BackupCommand {
  static override summary = "Exit 8 when a job's last successful run is older than --max-age (or there is none)";
  static override examples = [
    '<%= config.bin %> backup status --max-age 36h',
    '<%= config.bin %> backup status daily --json',
  ];
  static override strict = false;
  static override args = { name: Args.string({ description: 'job name(s); default every job' }) };
  static override flags = {
    'max-age': Flags.string({ default: '2d', description: 'how old the last success may be: 36h, 2d, 1 week' }),
    'config-dir': configDirFlag,
  };

  async run(): Promise<StatusResult> {
    const { jobStatus, durationFlag, formatAge } = await import('../../backup');
    const { argv, flags } = await this.parse(BackupStatus);
    const maxAge = durationFlag('--max-age', flags['max-age']);
    const print = (r: StatusResult): void => {
      if (this.jsonEnabled()) return;
      for (const j of r.jobs)
        this.log(
          `${j.ok ? 'ok   ' : 'STALE'} ${j.name}: ` +
            (j.lastSuccessAgeMs === null ? 'never succeeded' : `last success ${formatAge(j.lastSuccessAgeMs)} ago`),
        );
    };
    try {
      const r = await jobStatus(maxAge, { configDir: flags['config-dir'], names: argv as string[] });
      print(r);
      return r;
    } catch (err) {
      const body = (err as { body?: StatusResult }).body;
      if (body) print(body);
      throw err;
    }
  }
}
