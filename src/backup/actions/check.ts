// `borg check` for the checks that are due: never run, or last passed longer ago than their
// frequency ("always" runs every time). The time a check passed goes into the job's state.
import type { CheckName, CheckSpec } from '../job-config';
import type { JobState } from '../job-state';
import { runBorgStep } from '../retry';
import type { RunContext, StepOutcome } from '../run-context';

const ARGS: Record<CheckName, string[]> = {
  repository: ['--repository-only'],
  archives: ['--archives-only'],
  data: ['--verify-data'],
};

export function dueChecks(checks: CheckSpec[], state: JobState, now: number): CheckSpec[] {
  return checks.filter((c) => {
    const last = state.checks[c.name];
    return c.everyMs === 0 || !last || now - Date.parse(last) >= c.everyMs;
  });
}

export function checkArgs(ctx: Pick<RunContext, 'job'>, name: CheckName): string[] {
  return ['check', '--lock-wait', String(ctx.job.lockWaitS), ...ARGS[name]];
}

/** Runs the due checks in order; returns their outcomes and records each pass in `state`. */
export async function check(ctx: RunContext, state: JobState, now = Date.now()): Promise<StepOutcome[]> {
  const due = new Set(dueChecks(ctx.job.checks, state, now).map((c) => c.name));
  const outcomes: StepOutcome[] = [];
  for (const c of ctx.job.checks) {
    const step = `check ${c.name}`;
    if (!due.has(c.name)) {
      outcomes.push({
        step,
        status: 'skipped',
        tries: 0,
        retried: [],
        warnings: [],
        detail: { lastPassed: state.checks[c.name] ?? null, frequency: c.frequency },
      });
      continue;
    }
    const { result: _r, ...o } = await runBorgStep(ctx, { step, retriesOf: 'check', args: checkArgs(ctx, c.name) });
    state.checks[c.name] = new Date().toISOString();
    outcomes.push(o);
  }
  return outcomes;
}
