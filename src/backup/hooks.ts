// The job's hooks: each command run with `sh -c` in the job's directory, with the job's variables
// (BORG_REPO, BORG_PASSCOMMAND, ...: names and paths, never the passphrase) and, for on_error,
// BORG_PROVISION_ERROR. Output goes to the run log.
import { BackupFailedError } from '../errors';
import { runLogged } from './borg-process';
import type { RunContext, StepOutcome } from './run-context';

export async function runHooks(
  ctx: RunContext,
  which: 'before' | 'after',
  extraEnv: Record<string, string> = {},
): Promise<StepOutcome | null> {
  const cmds = ctx.job.hooks[which];
  if (cmds.length === 0) return null;
  for (const [i, cmd] of cmds.entries()) {
    ctx.progress(`${which} hook ${i + 1}`);
    ctx.log.line(`${which} hook: sh -c ${cmd}`);
    const r = await runLogged('sh', ['-c', cmd], {
      env: { ...ctx.env, ...extraEnv },
      cwd: ctx.job.dir,
      log: ctx.log,
      signal: ctx.signal,
      label: `${which} hook`,
    });
    if (r.rc !== 0) {
      throw Object.assign(
        new BackupFailedError(`${ctx.job.name}: ${which} hook \`${cmd}\` exited ${r.rc}`, {
          hint: `see the log ${ctx.log.file}`,
        }),
        {
          step: `${which} hook`,
          tries: 1,
          retried: [],
        },
      );
    }
  }
  return { step: `${which} hooks`, status: 'ok', tries: 1, retried: [], warnings: [] };
}

/** on_error hooks: a failure here is logged and reported as a warning, the run's error stands. */
export async function runErrorHooks(ctx: RunContext, error: string): Promise<string[]> {
  const warnings: string[] = [];
  for (const cmd of ctx.job.hooks.on_error) {
    ctx.log.line(`on_error hook: sh -c ${cmd}`);
    const r = await runLogged('sh', ['-c', cmd], {
      env: { ...ctx.env, BORG_PROVISION_ERROR: error },
      cwd: ctx.job.dir,
      log: ctx.log,
      label: 'on_error hook',
    });
    if (r.rc !== 0) warnings.push(`on_error hook \`${cmd}\` exited ${r.rc}`);
  }
  return warnings;
}
