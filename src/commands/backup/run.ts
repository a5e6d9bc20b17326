// `borg-provision backup run [NAME... | --all]`: run jobs now (what the schedule calls).
import { Args, Flags } from '@oclif/core';
import { BackupCommand, configDirFlag } from '../../cli/backup-command';
import { UsageError } from '../../errors';
import type { RunSummary } from '../../backup';

export default class BackupRun extends BackupCommand {
  static override summary = 'Run backup jobs: hooks, create, prune, compact, due checks';
  static override description =
    'Per job, in order: before hooks, borg create, prune (retention), compact, the checks that are due, after hooks; ' +
    'on a failure the on_error hooks and the fail ping. Failures that can pass (a locked repository, a closed ' +
    'connection) are retried; others fail at once. A borg warning leaves the run successful unless --fail-on-warning.';

  static override strict = false;
  static override args = { name: Args.string({ description: 'job name(s)' }) };
  static override examples = ['<%= config.bin %> backup run daily', '<%= config.bin %> backup run --all --json'];
  static override flags = {
    all: Flags.boolean({ description: 'every job in the config dir' }),
    'fail-on-warning': Flags.boolean({ description: 'a borg warning (exit 1) fails the run' }),
    'config-dir': configDirFlag,
    'dry-run': Flags.boolean({ description: 'print the commands a run would start; run nothing' }),
  };

  async run(): Promise<RunSummary> {
    const { allJobNames, assertJobName, runJobs, summaryError } = await import('../../backup');
    const { argv, flags } = await this.parse(BackupRun);
    let names = argv as string[];
    if (flags.all && names.length > 0) throw new UsageError('give job names or --all, not both');
    if (flags.all) names = await allJobNames(flags['config-dir']);
    // Named jobs are all checked before one runs: a typo in the last must not follow a long backup.
    else for (const n of names) assertJobName(n);
    if (names.length === 0)
      throw new UsageError(flags.all ? 'no backup jobs found' : 'name a job to run, or --all', {
        hint: 'create one with: borg-provision backup init NAME --repo URL --source PATH',
      });
    const summary = await runJobs(names, {
      configDir: flags['config-dir'],
      failOnWarning: flags['fail-on-warning'],
      dryRun: flags['dry-run'],
      signal: this.signal,
      progress: (l) => this.progress(l),
    });
    this.endProgress();
    for (const j of summary.jobs) for (const w of j.warnings) this.warnLine(`${j.job}: ${w}`);
    if (!this.jsonEnabled()) this.render(summary);
    const err = summaryError(summary);
    if (err) throw Object.assign(err, { body: summary });
    return summary;
  }

  private render(s: RunSummary): void {
    for (const j of s.jobs) {
      if (j.planned) {
        this.log(`${j.job}: would run:`);
        for (const p of j.planned) this.log(`  ${p.step}: ${p.argv.join(' ')}`);
        continue;
      }
      if (j.error) continue; // the error line says it
      const steps = j.steps
        .map((st) => `${st.step} ${st.status}${st.tries > 1 ? ` (${st.tries} tries)` : ''}`)
        .join(', ');
      this.log(`${j.job}: ${j.result}${j.archive ? `, archive ${j.archive}` : ''}: ${steps}`);
    }
  }
}
