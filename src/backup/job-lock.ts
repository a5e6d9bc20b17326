// One run of a job at a time: `<state>/locks/<key>.lock` names its owner (util/pid-lock: written
// whole, pid, boot and start time, one breaker of a stale lock). A lock whose owner is gone
// (killed, crashed, or from before a reboot) is taken over; a live owner means JobBusyError
// (exit 9). Different jobs have different locks and may run at once.
import * as path from 'node:path';
import { JobBusyError, filesystemError } from '../errors';
import { makeDirs } from '../util/make-dirs';
import { tryLock } from '../util/pid-lock';
import { stateHome } from '../util/xdg';

export interface JobLock {
  file: string;
  release(): Promise<void>;
}

/** Takes job `name`'s lock, the file `<state>/locks/<key>.lock` (key: job-paths' stateKey). */
export async function lockJob(name: string, key: string, env: NodeJS.ProcessEnv = process.env): Promise<JobLock> {
  const dir = path.join(stateHome(env), 'locks');
  const file = path.join(dir, `${key}.lock`);
  await makeDirs(dir, 0o700).catch((err) => {
    throw filesystemError(err, 'create', dir, 'set XDG_STATE_HOME to a writable place');
  });
  const got = await tryLock(file, 0o600).catch((err: unknown) => {
    // The lock lives in the state dir: that is what to move when its disk is full (backup has no --prefix).
    throw filesystemError(err, 'create the job lock', file, 'set XDG_STATE_HOME to a writable place');
  });
  if ('release' in got) return { file, release: got.release };
  if (got.owner !== null) {
    throw new JobBusyError(`backup job '${name}' is already running (pid ${got.owner})`, {
      hint: 'wait for that run to finish; different jobs may run at once',
    });
  }
  throw new JobBusyError(`backup job '${name}' is being started by another run`, { hint: 'try again' });
}
