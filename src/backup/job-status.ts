// `backup list`, `backup show`, `backup status`: what the jobs are, how their last runs went, and
// whether each last succeeded recently enough (for monitoring without a third party).
import { BackupStaleError, UsageError } from '../errors';
import { borgOf } from './borg-binary';
import { jobVariables } from './borg-env';
import { loadJob } from './config-load';
import type { JobConfig } from './job-config';
import { stateKey } from './job-paths';
import { readState, stateFile, type JobState } from './job-state';
import { allJobNames } from './run-jobs';

export interface JobSummary {
  name: string;
  repository: string | null;
  /** Set when the job's config cannot be read (the list still shows the job). */
  configError: string | null;
  lastRun: JobState['lastRun'];
  lastSuccess: string | null;
  lastSuccessAgeMs: number | null;
}

export async function listJobs(
  o: { configDir?: string; env?: NodeJS.ProcessEnv; now?: number } = {},
): Promise<JobSummary[]> {
  const env = o.env ?? process.env;
  const now = o.now ?? Date.now();
  const out: JobSummary[] = [];
  for (const name of await allJobNames(o.configDir)) {
    let repository: string | null = null;
    let configError: string | null = null;
    let key: string | null = null;
    try {
      // A folder whose name is no job name is listed with its error, not allowed to stop the list.
      key = stateKey(name, o.configDir);
      repository = (await loadJob(name, { configDir: o.configDir, env })).repository;
    } catch (err) {
      configError = (err as Error).message;
    }
    const state = key ? await readState(key, env) : { lastRun: null, lastSuccess: null, checks: {} };
    out.push({
      name,
      repository,
      configError,
      lastRun: state.lastRun,
      lastSuccess: state.lastSuccess,
      lastSuccessAgeMs: state.lastSuccess ? now - Date.parse(state.lastSuccess) : null,
    });
  }
  return out;
}

export interface StatusResult {
  maxAgeMs: number;
  jobs: (JobSummary & { ok: boolean })[];
  ok: boolean;
}

/** Every job's freshness; throws BackupStaleError (exit 8), carrying the result, when one is stale. */
export async function jobStatus(
  maxAgeMs: number,
  o: { configDir?: string; env?: NodeJS.ProcessEnv; names?: string[] } = {},
): Promise<StatusResult> {
  let jobs = await listJobs(o);
  if (o.names && o.names.length > 0) {
    const unknown = o.names.find((n) => !jobs.some((j) => j.name === n));
    if (unknown !== undefined) {
      throw new UsageError(`no backup job named '${unknown}'`, {
        hint: 'see the jobs with: borg-provision backup list',
      });
    }
    jobs = jobs.filter((j) => o.names!.includes(j.name));
  }
  const rows = jobs.map((j) => ({ ...j, ok: j.lastSuccessAgeMs !== null && j.lastSuccessAgeMs <= maxAgeMs }));
  const result = { maxAgeMs, jobs: rows, ok: rows.length > 0 && rows.every((r) => r.ok) };
  if (!result.ok) {
    const bad = rows.filter((r) => !r.ok);
    const what =
      rows.length === 0
        ? 'no backup jobs'
        : bad
            .map((r) => `${r.name} (${r.lastSuccess ? `last success ${r.lastSuccess}` : 'never succeeded'})`)
            .join(', ');
    throw Object.assign(
      new BackupStaleError(`stale backups: ${what}`, { hint: 'run `borg-provision backup run` and look at its log' }),
      { body: result },
    );
  }
  return result;
}

export interface JobShow {
  name: string;
  file: string;
  format: JobConfig['format'];
  borg: string;
  config: Omit<JobConfig, 'pingUrl'> & { pingUrl: string | null };
  /** The variables `backup shell` and hooks get (the passphrase only as a command reading its file). */
  environment: Record<string, string>;
  state: JobState;
  stateFile: string;
}

export async function showJob(name: string, o: { configDir?: string; env?: NodeJS.ProcessEnv } = {}): Promise<JobShow> {
  const env = o.env ?? process.env;
  const job = await loadJob(name, { configDir: o.configDir, env });
  const key = stateKey(name, o.configDir);
  // A ping URL usually carries its check's token: show only where it points.
  const pingUrl = job.pingUrl ? `${new URL(job.pingUrl).origin}/...` : null;
  return {
    name,
    file: job.file,
    format: job.format,
    borg: borgOf(job, env),
    config: { ...job, pingUrl },
    environment: jobVariables(job),
    state: await readState(key, env),
    stateFile: stateFile(key, env),
  };
}
