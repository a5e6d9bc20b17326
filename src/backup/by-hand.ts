// Borg by hand with a job's settings (`backup shell`, `backup borg`, once `openJob` has checked it):
// the variables the origin runner's --shell set, and a program run on the terminal.
import { spawn } from 'node:child_process';
import { borgEnvironment, jobVariables } from './borg-env';
import type { JobConfig } from './job-config';

/** What a shell for the job gets: borg's variables, and the origin runner's two names. */
export function shellVariables(job: JobConfig): Record<string, string> {
  return { ...jobVariables(job), THIS_TARGET: job.repository, BACKUP_THIS: job.sources.join(' ') };
}

/** Runs `program` on this terminal with the job's borg environment; resolves with its exit code. */
export function runWithJob(job: JobConfig, program: string, args: string[], extra: Record<string, string> = {}) {
  return new Promise<number>((resolve) => {
    const child = spawn(program, args, { stdio: 'inherit', env: { ...borgEnvironment(job), ...extra } });
    child.on('error', () => resolve(127));
    child.on('close', (c, sig) => resolve(c ?? (sig ? 128 : 1)));
  });
}
