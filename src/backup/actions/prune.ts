// `borg prune` with the job's retention, over the job's own archives; no retention, no prune
// (never "keep nothing").
import { archiveGlob, choosesArchives } from '../archive-glob';
import { runBorgStep } from '../retry';
import type { Retention } from '../job-config';
import type { RunContext, StepOutcome } from '../run-context';

const FLAGS: [keyof Retention, string][] = [
  ['keep_within', '--keep-within'],
  ['keep_last', '--keep-last'],
  ['keep_hourly', '--keep-hourly'],
  ['keep_daily', '--keep-daily'],
  ['keep_weekly', '--keep-weekly'],
  ['keep_monthly', '--keep-monthly'],
  ['keep_yearly', '--keep-yearly'],
];

export function pruneArgs(ctx: Pick<RunContext, 'job'>): string[] | null {
  const r = ctx.job.retention;
  if (!r) return null;
  const keep = FLAGS.filter(([k]) => r[k] !== undefined).map(([k, flag]) => `${flag}=${r[k]}`);
  // The origin runner pruned every archive of its repository, whatever its name: so does its format.
  const own = ctx.job.format === 'native' && !choosesArchives(ctx.job.pruneOptions);
  const glob = own ? archiveGlob(ctx.job.archiveName) : null;
  const only = glob ? ['--glob-archives', glob] : [];
  return ['prune', '--list', '--lock-wait', String(ctx.job.lockWaitS), ...only, ...keep, ...ctx.job.pruneOptions];
}

export async function prune(ctx: RunContext): Promise<StepOutcome> {
  const args = pruneArgs(ctx);
  if (!args)
    return { step: 'prune', status: 'skipped', tries: 0, retried: [], warnings: ['no retention set: nothing pruned'] };
  const { result: _result, ...outcome } = await runBorgStep(ctx, { step: 'prune', retriesOf: 'prune', args });
  return outcome;
}
