// The job's hooks: each command run with `sh -c` in the job's directory, with the job's variables
// (BORG_REPO, BORG_PASSCOMMAND, ...: names and paths, never the passphrase) and, for on_error,
// BORG_PROVISION_ERROR. Output goes to the run log. A hook is named by its place ("before hook 2
// of 3"), never by its text: a hook may carry a token (curl -H 'Authorization: ...'), and the log
// tail goes out with the fail ping.
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
    const name = `${which} hook ${i + 1} of ${cmds.length}`;
    ctx.progress(name);
    ctx.log.line(`${name}: started`);
    const r = await runLogged('sh', ['-c', cmd], {
      env: { ...ctx.env, ...extraEnv },
      cwd: ctx.job.dir,
      log: ctx.log,
      signal: ctx.signal,
      label: name,
    });
    if (r.rc !== 0) {
      throw Object.assign(
        new BackupFailedError(`${ctx.job.name}: ${name} exited ${r.rc}`, {
          hint: `see its output in the log ${ctx.log.file}`,
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
  const cmds = ctx.job.hooks.on_error;
  for (const [i, cmd] of cmds.entries()) {
    const name = `on_error hook ${i + 1} of ${cmds.length}`;
    ctx.log.line(`${name}: started`);
    const r = await runLogged('sh', ['-c', cmd], {
      env: { ...ctx.env, BORG_PROVISION_ERROR: error },
      cwd: ctx.job.dir,
      log: ctx.log,
      label: name,
    });
    if (r.rc !== 0) warnings.push(`${name} exited ${r.rc}`);
  }
  return warnings;
}
