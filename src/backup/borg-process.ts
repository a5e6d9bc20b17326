// Running one borg command for a job: its output goes to the run log line by line (and stdout is
// kept for --json parsing); on SIGINT/SIGTERM the runner's AbortSignal stops borg with SIGTERM,
// which borg handles by rolling back and releasing its lock, and waits for it to exit. A borg that
// had already finished when the signal came keeps its result; the next step then does not start.
import { spawn } from 'node:child_process';
import { InterruptedError } from '../errors';
import { exitStatus } from '../util/signals';
import type { RunLog } from './run-log';

export interface BorgResult {
  rc: number;
  stdout: string;
  stderr: string;
  /** Set when borg could not be started at all (ENOENT, EACCES). */
  spawnError?: NodeJS.ErrnoException;
}

export interface ProcessOptions {
  env: NodeJS.ProcessEnv;
  cwd?: string;
  log?: RunLog;
  signal?: AbortSignal;
  /** Prefix of this command's lines in the log. */
  label?: string;
}

const STDERR_KEEP = 64 * 1024;

export function runLogged(cmd: string, args: string[], o: ProcessOptions): Promise<BorgResult> {
  if (o.signal?.aborted) return Promise.reject(new InterruptedError());
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: o.env, cwd: o.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let pending = { out: '', err: '' };
    const label = o.label ?? cmd;
    const emit = (which: 'out' | 'err', chunk: string): void => {
      const text = pending[which] + chunk;
      const lines = text.split('\n');
      pending = { ...pending, [which]: lines.pop() ?? '' };
      for (const l of lines) o.log?.line(`${label}: ${l}`);
    };
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      emit('out', d);
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr = (stderr + d).slice(-STDERR_KEEP);
      emit('err', d);
    });
    const onAbort = (): void => {
      o.log?.line(`${label}: interrupted; stopping it (SIGTERM)`);
      child.kill('SIGTERM');
    };
    o.signal?.addEventListener('abort', onAbort, { once: true });
    child.on('error', (err: NodeJS.ErrnoException) => {
      o.signal?.removeEventListener('abort', onAbort);
      resolve({ rc: 127, stdout, stderr, spawnError: err });
    });
    child.on('close', (code, sig) => {
      o.signal?.removeEventListener('abort', onAbort);
      for (const which of ['out', 'err'] as const) if (pending[which]) o.log?.line(`${label}: ${pending[which]}`);
      const rc = exitStatus(code, sig);
      // A borg that finished (0, or 1: done with warnings) as the signal came has committed its
      // work: that is a result, and the run stops before its next step. Any other end was borg
      // stopping on the signal, which rolls its transaction back.
      if (o.signal?.aborted && rc !== 0 && rc !== 1)
        return reject(new InterruptedError('interrupted; borg was stopped and rolled back, the next run starts clean'));
      o.log?.line(`${label}: exit ${rc}`);
      resolve({ rc, stdout, stderr });
    });
  });
}
