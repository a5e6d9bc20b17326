// Borg by hand with a job's settings (`backup shell`, `backup borg`, once `openJob` has checked it):
// the variables the origin runner's --shell set, and a program run on the terminal.
import { spawn, type ChildProcess } from 'node:child_process';
import { InterruptedError } from '../errors';
import { exitStatus } from '../util/signals';
import { borgEnvironment, jobVariables } from './borg-env';
import type { JobConfig } from './job-config';

/** What a shell for the job gets: borg's variables, and the origin runner's two names. */
export function shellVariables(job: JobConfig): Record<string, string> {
  return { ...jobVariables(job), THIS_TARGET: job.repository, BACKUP_THIS: job.sources.join(' ') };
}

/**
 * Runs `program` on this terminal with the job's borg environment and waits for it; resolves with
 * its exit status (128 + the signal's number when a signal ended it; 127 when it cannot start).
 * Not started once `signal` has fired (InterruptedError).
 */
export function runWithJob(
  job: JobConfig,
  program: string,
  args: string[],
  extra: Record<string, string> = {},
  signal?: AbortSignal,
): Promise<number> {
  if (signal?.aborted) return Promise.reject(new InterruptedError());
  return new Promise<number>((resolve) => {
    const child = spawn(program, args, { stdio: 'inherit', env: { ...borgEnvironment(job), ...extra } });
    const stopHandling = handleSignalsFor(child);
    child.on('error', () => {
      stopHandling();
      resolve(127);
    });
    child.on('close', (code, sig) => {
      stopHandling();
      resolve(exitStatus(code, sig));
    });
  });
}

/**
 * While `child` runs, signals are its own and this process only waits for it. Ctrl-C reaches the
 * whole foreground process group, the child too (a shell keeps running, borg stops): acting on it
 * here would orphan the child. A SIGTERM was sent to this process alone: it is passed on. Returns
 * the function that removes these listeners.
 */
function handleSignalsFor(child: ChildProcess): () => void {
  const ignore = (): void => undefined;
  const passOn = (): void => void child.kill('SIGTERM');
  process.on('SIGINT', ignore);
  process.on('SIGTERM', passOn);
  return () => {
    process.removeListener('SIGINT', ignore);
    process.removeListener('SIGTERM', passOn);
  };
}
