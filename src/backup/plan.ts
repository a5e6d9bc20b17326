// What a run would start, for --dry-run: the borg commands (with the job's repository through
// BORG_REPO) and hooks, nothing executed.
import { checkArgs, dueChecks } from './actions/check';
import { compactArgs } from './actions/compact';
import { createArgs } from './actions/create';
import { pruneArgs } from './actions/prune';
import type { JobConfig } from './job-config';
import type { JobState } from './job-state';

export interface PlannedCommand {
  step: string;
  argv: string[];
}

export function plannedCommands(job: JobConfig, borg: string, state: JobState, now = Date.now()): PlannedCommand[] {
  const ctx = { job };
  const out: PlannedCommand[] = [];
  for (const h of job.hooks.before) out.push({ step: 'before hook', argv: ['sh', '-c', h] });
  out.push({ step: 'create', argv: [borg, ...createArgs(ctx)] });
  const p = pruneArgs(ctx);
  if (p) out.push({ step: 'prune', argv: [borg, ...p] });
  const c = compactArgs(ctx);
  if (c) out.push({ step: 'compact', argv: [borg, ...c] });
  for (const chk of dueChecks(job.checks, state, now))
    out.push({ step: `check ${chk.name}`, argv: [borg, ...checkArgs(ctx, chk.name)] });
  for (const h of job.hooks.after) out.push({ step: 'after hook', argv: ['sh', '-c', h] });
  return out;
}
