// One run of a job at a time: a lock file created with O_EXCL holding the owner's pid. A lock
// whose owner is gone (killed, crashed) is stale and taken over; a live owner means JobBusyError
// (exit 9). Different jobs have different locks and may run at once.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { JobBusyError, filesystemError } from '../errors';
import { stateHome } from '../util/xdg';

export interface JobLock {
  file: string;
  release(): Promise<void>;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export async function lockJob(name: string, env: NodeJS.ProcessEnv = process.env): Promise<JobLock> {
  const dir = path.join(stateHome(env), 'locks');
  const file = path.join(dir, `${name}.lock`);
  await fs.mkdir(dir, { recursive: true, mode: 0o700 }).catch((err) => {
    throw filesystemError(err, 'create', dir, 'set XDG_STATE_HOME to a writable place');
  });
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const h = await fs.open(file, 'wx', 0o600);
      await h.writeFile(`${process.pid}\n`);
      await h.close();
      return { file, release: () => fs.rm(file, { force: true }) };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw filesystemError(err, 'create the job lock', file);
    }
    const pid = Number((await fs.readFile(file, 'utf8').catch(() => '')).trim());
    if (Number.isInteger(pid) && pid > 0 && alive(pid)) {
      throw new JobBusyError(`backup job '${name}' is already running (pid ${pid})`, {
        hint: 'wait for that run to finish; different jobs may run at once',
      });
    }
    // Stale: move it aside under a unique name first, so two runs cannot both remove and take it.
    const aside = `${file}.stale.${process.pid}`;
    await fs.rename(file, aside).then(
      () => fs.rm(aside, { force: true }),
      () => undefined,
    );
  }
  throw new JobBusyError(`backup job '${name}' is being started by another run`, { hint: 'try again' });
}
