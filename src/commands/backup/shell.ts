// `borg-provision backup shell NAME`: a shell with the job's borg variables set (the origin
// runner's --shell), for `borg list`, `borg extract` and the like by hand.
import { Args } from '@oclif/core';
import { BackupCommand, configDirFlag } from '../../cli/backup-command';

export default class BackupShell extends BackupCommand {
  static override summary = "Open $SHELL with the job's BORG_REPO, BORG_PASSCOMMAND, BORG_RSH, BORG_KEY_FILE set";
  static override examples = ['<%= config.bin %> backup shell daily    # then: borg list'];
  static override args = { name: Args.string({ required: true, description: 'job name' }) };
  static override flags = { 'config-dir': configDirFlag };

  async run(): Promise<{ job: string; variables: string[]; exitCode: number }> {
    const { openJob, runWithJob, shellVariables } = await import('../../backup');
    const { args, flags } = await this.parse(BackupShell);
    const job = await openJob(args.name, flags['config-dir']);
    const vars = shellVariables(job);
    const names = Object.keys(vars).sort();
    if (!this.jsonEnabled())
      this.logToStderr(`borg-provision: job ${job.name}: ${names.join(', ')} are set; try: borg info`);
    const shell = process.env.SHELL || '/bin/sh';
    const code = await runWithJob(job, shell, [], vars, this.signal);
    process.exitCode = code;
    return { job: job.name, variables: names, exitCode: code };
  }
}
