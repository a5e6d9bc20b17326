// Running a borg step with its tries: a failure that can pass (classify.ts) is tried again after
// retry_wait seconds, then twice that, and so on (borgmatic's linear growth); any other failure,
// or the last try's, ends the step with BackupFailedError (exit 7) naming the step and the reason.
import { BackupFailedError, InterruptedError } from '../errors';
import { runLogged, type BorgResult } from './borg-process';
import { classify, type Verdict } from './classify';
import type { RunContext, StepOutcome } from './run-context';
import type { StepName } from './job-config';

export interface BorgStep {
  step: StepName | string;
  /** Which retry count of the job applies. */
  retriesOf: StepName;
  args: string[];
  /** Overrides the classification of a failure (a failure that can pass in general but not for this job). */
  judge?: (r: BorgResult, v: Verdict) => Verdict;
  /** Turns a given failure into a skip (e.g. no `compact` in borg < 1.2). */
  skipIf?: (r: BorgResult) => string | null;
}

export async function runBorgStep(ctx: RunContext, s: BorgStep): Promise<StepOutcome & { result: BorgResult | null }> {
  const maxTries = ctx.job.retries[s.retriesOf] + 1;
  const retried: string[] = [];
  for (let attempt = 1; ; attempt++) {
    ctx.progress(`${s.step}${attempt > 1 ? ` (try ${attempt} of ${maxTries})` : ''}`);
    ctx.log.line(`${s.step}: try ${attempt} of ${maxTries}: ${ctx.borg} ${s.args.join(' ')}`);
    const r = await runLogged(ctx.borg, s.args, {
      env: ctx.env,
      cwd: ctx.job.dir,
      log: ctx.log,
      signal: ctx.signal,
      label: `${s.step}`,
    });
    const skip = s.skipIf?.(r);
    if (skip) {
      ctx.log.line(`${s.step}: skipped: ${skip}`);
      return { step: s.step, status: 'skipped', tries: attempt, retried, warnings: [skip], result: r };
    }
    const v = s.judge ? s.judge(r, classify(r)) : classify(r);
    if (v.kind === 'ok') return { step: s.step, status: 'ok', tries: attempt, retried, warnings: [], result: r };
    if (v.kind === 'warning') {
      ctx.log.line(`${s.step}: warning: ${v.reason}`);
      return { step: s.step, status: 'warning', tries: attempt, retried, warnings: [v.reason], result: r };
    }
    if (v.kind === 'permanent' || attempt >= maxTries) {
      const tries = attempt > 1 ? ` after ${attempt} tries` : '';
      const kind = v.kind === 'permanent' ? '' : ' (each try failed this way)';
      ctx.log.line(`${s.step}: failed${tries}: ${v.reason}`);
      throw Object.assign(
        new BackupFailedError(`${ctx.job.name}: ${s.step} failed${tries}: ${v.reason}${kind}`, {
          hint:
            v.kind === 'permanent'
              ? (v.hint ?? `see the log ${ctx.log.file}`)
              : `see the log ${ctx.log.file}; raise retries or retry_wait if this passes by itself`,
        }),
        { step: s.step, tries: attempt, retried },
      );
    }
    const waitS = ctx.job.retryWaitS * attempt;
    retried.push(v.reason);
    ctx.log.line(`${s.step}: try ${attempt} of ${maxTries} failed (${v.reason}); retrying in ${waitS}s`);
    ctx.progress(`${s.step}: ${v.reason}; retrying in ${waitS}s`);
    await sleep(waitS * 1000, ctx.signal);
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new InterruptedError());
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(t);
      reject(new InterruptedError());
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
