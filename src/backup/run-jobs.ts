// `backup run NAME... | --all`: the jobs one after another. A job that fails does not stop the
// others; the worst outcome decides the exit code (an interrupt stops everything at once).
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { BackupFailedError, ExitCode, InterruptedError, isProvisionError, type ProvisionError } from '../errors';
import { backupsDir, jobConfigFile } from './job-paths';
import { jobError, typedError } from './job-error';
import { runJob, type JobRunResult, type RunOptions } from './run-job';

export interface RunSummary {
  jobs: JobRunResult[];
  ok: boolean;
}

/** The names of all jobs under the config dir (directories holding a config.yaml), sorted. */
export async function allJobNames(configDir?: string): Promise<string[]> {
  const dir = backupsDir(configDir);
  const entries = await fs.readdir(dir, { withFileTypes: true }).catch(() => []);
  const names: string[] = [];
  for (const e of entries) {
    if (!e.isDirectory()) continue;
    if (
      await fs.access(path.join(dir, e.name, 'config.yaml')).then(
        () => true,
        () => false,
      )
    )
      names.push(e.name);
  }
  return names.sort();
}

export async function runJobs(names: string[], o: RunOptions = {}): Promise<RunSummary> {
  const jobs: JobRunResult[] = [];
  for (const name of names) {
    try {
      // A folder whose name is no job name (under --all) fails alone; the others still run.
      jobConfigFile(name, o.configDir);
      jobs.push(await runJob(name, o));
    } catch (err) {
      if (err instanceof InterruptedError) throw err;
      if (!isProvisionError(err)) throw err;
      const now = new Date().toISOString();
      jobs.push({
        job: name,
        result: err.exitCode === ExitCode.jobBusy ? 'busy' : 'failed',
        startedAt: now,
        finishedAt: now,
        archive: null,
        steps: [],
        warnings: [],
        log: null,
        error: jobError(err),
      });
    }
  }
  return { jobs, ok: jobs.every((j) => j.error === null) };
}

/** The error a failed summary ends with: the one job's own, or exit 7 naming the failed jobs. */
export function summaryError(s: RunSummary): ProvisionError | null {
  const failed = s.jobs.filter((j) => j.error !== null);
  if (failed.length === 0) return null;
  const codes = new Set(failed.map((j) => j.error!.exitCode));
  const first = failed[0].error!;
  const message =
    failed.length === 1
      ? first.message
      : `${failed.length} of ${s.jobs.length} jobs failed: ` +
        failed.map((j) => `${j.job} (${j.error!.message})`).join('; ');
  // One kind of failure keeps its own class and exit code (2 for a bad config, 9 for a busy job, ...).
  const own = typedError(first);
  if (failed.length === 1 && own) return own;
  const Kind = codes.size === 1 && own ? (own.constructor as typeof BackupFailedError) : BackupFailedError;
  return new Kind(message, first.hint ? { hint: first.hint } : undefined);
}
