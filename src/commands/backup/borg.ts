// `borg-provision backup borg NAME -- ARGS`: one borg command with the job's variables, e.g.
// `backup borg daily -- list` or `backup borg daily -- extract ::ARCHIVE path`.
import { Args } from '@oclif/core';
import { BackupCommand, configDirFlag } from '../../cli/backup-command';
import { UsageError } from '../../errors';

export default class BackupBorg extends BackupCommand {
  static override summary = "Run one borg command with a job's repository, passphrase file and ssh key";
  static override examples = [
    '<%= config.bin %> backup borg daily -- list',
    '<%= config.bin %> backup borg daily -- info ::ARCHIVE',
  ];
  static override strict = false;
  // --json belongs to borg here (`backup borg daily -- list --json`), not to us.
  static override enableJsonFlag = false;
  static override args = { name: Args.string({ required: true, description: 'job name' }) };
  static override flags = { 'config-dir': configDirFlag };

  async run(): Promise<void> {
    const { openJob, runWithJob, borgOf } = await import('../../backup');
    // Everything after `--` is borg's: oclif stops reading flags there and hands it on in argv.
    const { args, argv, flags } = await this.parse(BackupBorg);
    const borgArgs = (argv as string[]).slice(1);
    if (borgArgs.length === 0) throw new UsageError('give the borg command after --, e.g. backup borg NAME -- list');
    const job = await openJob(args.name, flags['config-dir']);
    process.exitCode = await runWithJob(job, borgOf(job), borgArgs, {}, this.signal);
  }
}
