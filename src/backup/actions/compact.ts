// `borg compact` frees the space prune released (borg >= 1.2; before, prune freed it itself, and
// an older borg's "invalid choice" makes this a skip, not a failure).
import { runBorgStep } from '../retry';
import type { RunContext, StepOutcome } from '../run-context';

export function compactArgs(ctx: Pick<RunContext, 'job'>): string[] | null {
  return ctx.job.compact ? ['compact', '--lock-wait', String(ctx.job.lockWaitS)] : null;
}

export async function compact(ctx: RunContext): Promise<StepOutcome> {
  const args = compactArgs(ctx);
  if (!args) return { step: 'compact', status: 'skipped', tries: 0, retried: [], warnings: [] };
  const { result: _result, ...outcome } = await runBorgStep(ctx, {
    step: 'compact',
    retriesOf: 'compact',
    args,
    skipIf: (r) =>
      r.rc !== 0 && /invalid choice: 'compact'/.test(r.stderr)
        ? 'this borg has no compact (< 1.2); prune freed the space'
        : null,
  });
  return outcome;
}
