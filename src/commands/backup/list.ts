// `borg-provision backup list`: the jobs, their repositories, and how their last runs went.
import { BackupCommand, configDirFlag } from '../../cli/backup-command';
import type { JobSummary } from '../../backup';

export default class BackupList extends BackupCommand {
  static override summary = 'List backup jobs with their last run, its result and age';
  static override examples = ['<%= config.bin %> backup list', '<%= config.bin %> backup list --json'];
  static override flags = { 'config-dir': configDirFlag };

  async run(): Promise<{ jobs: JobSummary[] }> {
    const { listJobs, formatAge } = await import('../../backup');
    const { flags } = await this.parse(BackupList);
    const jobs = await listJobs({ configDir: flags['config-dir'] });
    if (this.jsonEnabled()) return { jobs };
    if (jobs.length === 0) this.log('no backup jobs');
    const now = Date.now();
    for (const j of jobs) {
      const last = j.lastRun
        ? `last run ${j.lastRun.result} ${formatAge(now - Date.parse(j.lastRun.finishedAt))} ago`
        : 'never run';
      const ok = j.lastSuccessAgeMs === null ? 'no success yet' : `last success ${formatAge(j.lastSuccessAgeMs)} ago`;
      this.log(`${j.name.padEnd(16)} ${(j.repository ?? `(bad config: ${j.configError})`).padEnd(40)} ${last}, ${ok}`);
    }
    return { jobs };
  }
}
