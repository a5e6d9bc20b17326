// One run of one job, in borgmatic's order: before hooks, create, prune, compact, due checks,
// after hooks; on any failure the on_error hooks and the fail ping. The job's lock is held
// throughout; the state file and the log record how it ended, interrupted runs included.
import { jobError, type JobError } from './job-error';
import { BackupFailedError, InterruptedError, filesystemError, isProvisionError, type ProvisionError } from '../errors';
import { check } from './actions/check';
import { compact } from './actions/compact';
import { create } from './actions/create';
import { prune } from './actions/prune';
import { borgOf } from './borg-binary';
import { borgEnvironment } from './borg-env';
import type { JobConfig } from './job-config';
import { runErrorHooks, runHooks } from './hooks';
import { lockJob } from './job-lock';
import { openJob } from './job-security';
import { stateKey } from './job-paths';
import { readState, writeState, type RunResultKind } from './job-state';
import { ping } from './ping';
import { openRunLog } from './run-log';
import type { RunContext, StepOutcome } from './run-context';
import { plannedCommands, type PlannedCommand } from './plan';

export interface RunOptions {
  configDir?: string;
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  failOnWarning?: boolean;
  dryRun?: boolean;
  progress?: (line: string) => void;
}

export interface JobRunResult {
  job: string;
  result: RunResultKind | 'busy' | 'dry-run';
  startedAt: string;
  finishedAt: string;
  archive: string | null;
  steps: StepOutcome[];
  warnings: string[];
  log: string | null;
  error: JobError | null;
  /** With --dry-run: the commands a run would start, nothing else. */
  planned?: PlannedCommand[];
}

export async function runJob(name: string, o: RunOptions = {}): Promise<JobRunResult> {
  const env = o.env ?? process.env;
  const job = await openJob(name, o.configDir, env);
  const key = stateKey(name, o.configDir);
  const borg = borgOf(job, env);
  const startedAt = new Date().toISOString();
  if (o.dryRun) {
    const state = await readState(key, env);
    return {
      job: name,
      result: 'dry-run',
      startedAt,
      finishedAt: startedAt,
      archive: null,
      steps: [],
      warnings: [],
      log: null,
      error: null,
      planned: plannedCommands(job, borg, state),
    };
  }
  const lock = await lockJob(name, key, env);
  try {
    return await runLocked(name, key, job, borg, startedAt, o, env);
  } finally {
    // Whatever happened, even a log that could not be opened: the next run must not find it busy.
    await lock.release();
  }
}

async function runLocked(
  name: string,
  key: string,
  job: JobConfig,
  borg: string,
  startedAt: string,
  o: RunOptions,
  env: NodeJS.ProcessEnv,
): Promise<JobRunResult> {
  const log = await openRunLog(key, env).catch((err) => {
    throw filesystemError(err, 'open a run log for job', name, 'set XDG_STATE_HOME to a writable place');
  });
  const ctx: RunContext = {
    job,
    borg,
    env: borgEnvironment(job, env),
    log,
    signal: o.signal,
    progress: (l) => o.progress?.(`${name}: ${l}`),
  };
  const state = await readState(key, env);
  const steps: StepOutcome[] = [];
  // What borg warned about (rc 1) decides a 'warning' result and --fail-on-warning; the runner's
  // own notices (a ping or the log that failed) are reported but judge nothing about the backup.
  const borgWarnings: string[] = [];
  const notices: string[] = [];
  let failure: ProvisionError | null = null;
  log.line(`run of job ${name} (${job.file}), borg ${borg}, repository ${job.repository}`);
  if (job.pingUrl) pushWarning(notices, await ping(job.pingUrl, 'start'));
  try {
    const add = (s: StepOutcome | null): void => {
      if (!s) return;
      steps.push(s);
      if (s.status === 'warning') borgWarnings.push(...s.warnings.map((w) => `${s.step}: ${w}`));
    };
    add(await runHooks(ctx, 'before'));
    add(await create(ctx));
    add(await prune(ctx));
    add(await compact(ctx));
    for (const c of await check(ctx, state)) add(c);
    add(await runHooks(ctx, 'after'));
    if (o.failOnWarning && borgWarnings.length > 0) {
      throw new BackupFailedError(`${name}: borg warned and --fail-on-warning is set: ${borgWarnings[0]}`, {
        hint: `see the log ${log.file}`,
      });
    }
  } catch (err) {
    failure = isProvisionError(err) ? err : new BackupFailedError(`${name}: ${(err as Error).message}`);
    const failedStep = (err as { step?: string }).step;
    if (failedStep) {
      steps.push({
        step: failedStep,
        status: 'failed',
        tries: (err as { tries?: number }).tries ?? 0,
        retried: (err as { retried?: string[] }).retried ?? [],
        warnings: [],
      });
    }
  }
  const interrupted = failure instanceof InterruptedError;
  const result: RunResultKind = failure
    ? interrupted
      ? 'interrupted'
      : 'failed'
    : borgWarnings.length > 0
      ? 'warning'
      : 'success';
  log.line(`run ${result}${failure ? `: ${failure.message}` : ''}`);
  if (failure && !interrupted) {
    notices.push(...(await runErrorHooks(ctx, failure.message)));
  }
  if (job.pingUrl) {
    const tail = log.tail();
    pushWarning(notices, await ping(job.pingUrl, failure ? 'fail' : 'success', failure ? tail : ''));
  }
  pushWarning(notices, log.problem());
  const finishedAt = new Date().toISOString();
  const archive = (steps.find((s) => s.step === 'create')?.detail?.archive as string | undefined) ?? null;
  state.lastRun = { result, startedAt, finishedAt, archive, error: failure?.message ?? null, log: log.file };
  if (!failure) state.lastSuccess = finishedAt;
  log.close();
  await writeState(key, state, env);
  if (interrupted) throw failure;
  return {
    job: name,
    result,
    startedAt,
    finishedAt,
    archive,
    steps,
    warnings: [...borgWarnings, ...notices],
    log: log.file,
    error: failure ? jobError(failure) : null,
  };
}

function pushWarning(list: string[], w: string | null): void {
  if (w) list.push(w);
}
