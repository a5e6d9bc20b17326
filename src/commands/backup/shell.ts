// `borg-provision backup shell NAME`: a shell with the job's borg variables set (the origin
// runner's --shell), for `borg list`, `borg extract` and the like by hand.
import { spawn } from 'node:child_process';
import { Args } from '@oclif/core';
import { BackupCommand, configDirFlag } from '../../cli/backup-command';

export default class BackupShell extends BackupCommand {
  static override summary = "Open $SHELL with the job's BORG_REPO, BORG_PASSCOMMAND, BORG_RSH, BORG_KEY_FILE set";
  static override examples = ['<%= config.bin %> backup shell daily    # then: borg list'];
  static override args = { name: Args.string({ required: true, description: 'job name' }) };
  static override flags = { 'config-dir': configDirFlag };

  async run(): Promise<{ job: string; variables: string[]; exitCode: number }> {
    const { loadJob, assertJobSecure, borgEnvironment, jobVariables } = await import('../../backup');
    const { args, flags } = await this.parse(BackupShell);
    const job = await loadJob(args.name, { configDir: flags['config-dir'] });
    await assertJobSecure(job);
    const vars = { ...jobVariables(job), THIS_TARGET: job.repository, BACKUP_THIS: job.sources.join(' ') };
    const names = Object.keys(vars).sort();
    if (!this.jsonEnabled())
      this.logToStderr(`borg-provision: job ${job.name}: ${names.join(', ')} are set; try: borg info`);
    const shell = process.env.SHELL || '/bin/sh';
    const code = await new Promise<number>((resolve) => {
      const child = spawn(shell, [], {
        stdio: 'inherit',
        env: { ...borgEnvironment(job), ...vars },
        cwd: process.cwd(),
      });
      child.on('error', () => resolve(127));
      child.on('close', (c, sig) => resolve(c ?? (sig ? 128 : 1)));
    });
    process.exitCode = code;
    return { job: job.name, variables: names, exitCode: code };
  }
}
