// `borg-provision backup borg NAME -- ARGS`: one borg command with the job's variables, e.g.
// `backup borg daily -- list` or `backup borg daily -- extract ::ARCHIVE path`.
import { spawn } from 'node:child_process';
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
    const { loadJob, assertJobSecure, borgEnvironment, borgOf } = await import('../../backup');
    // Everything after `--` is borg's: oclif stops reading flags there and hands it on in argv.
    const { args, argv, flags } = await this.parse(BackupBorg);
    const borgArgs = (argv as string[]).slice(1);
    if (borgArgs.length === 0) throw new UsageError('give the borg command after --, e.g. backup borg NAME -- list');
    const job = await loadJob(args.name, { configDir: flags['config-dir'] });
    await assertJobSecure(job);
    const code = await new Promise<number>((resolve) => {
      const child = spawn(borgOf(job), borgArgs, { stdio: 'inherit', env: borgEnvironment(job) });
      child.on('error', () => resolve(127));
      child.on('close', (c, sig) => resolve(c ?? (sig ? 128 : 1)));
    });
    process.exitCode = code;
  }
}
