// One run of a job at a time: a lock file holding its owner's pid and boot, put in place whole
// with link() (a reader never sees it empty). A lock whose owner is gone (killed, crashed, or from
// before a reboot, whose pid may now be another process) is stale and taken over; a live owner
// means JobBusyError (exit 9). Only one run may break a stale lock: it must first create the
// lock's `.break` file, so two runs that both saw the dead owner cannot both take over. Different
// jobs have different locks and may run at once.
import { readFileSync } from 'node:fs';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { JobBusyError, filesystemError } from '../errors';
import { makeDirs } from '../util/make-dirs';
import { stateHome } from '../util/xdg';

export interface JobLock {
  file: string;
  release(): Promise<void>;
}

/** A `.break` file older than this was left by a run killed while breaking a lock. */
const BREAK_STALE_MS = 60_000;

function bootId(): string {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return 'unknown';
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The owner a lock file names, or null when that owner cannot be running any more. */
async function liveOwner(file: string): Promise<number | null> {
  const text = await fs.readFile(file, 'utf8').catch(() => null);
  if (text === null) return null; // gone meanwhile: free
  const [pidText, boot] = text.trim().split(/\s+/);
  const pid = Number(pidText);
  if (!Number.isInteger(pid) || pid <= 0) return null;
  if (boot !== undefined && boot !== bootId()) return null;
  return alive(pid) ? pid : null;
}

/** Creates `file` holding `text`, or returns false when it exists: never a half-written file. */
async function createWhole(file: string, text: string): Promise<boolean> {
  const tmp = `${file}.${process.pid}.tmp`;
  await fs.writeFile(tmp, text, { mode: 0o600 });
  try {
    await fs.link(tmp, file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    await fs.rm(tmp, { force: true });
  }
}

/** Removes a stale lock, unless another run is breaking it (then: busy). */
async function breakStale(file: string, name: string, pidSeen: string): Promise<void> {
  const breaker = `${file}.break`;
  const since = await fs.stat(breaker).then(
    (s) => Date.now() - s.mtimeMs,
    () => null,
  );
  if (since !== null && since > BREAK_STALE_MS) await fs.rm(breaker, { force: true });
  if (!(await createWhole(breaker, `${process.pid}\n`))) {
    throw new JobBusyError(`backup job '${name}' is being started by another run`, { hint: 'try again' });
  }
  try {
    // Still the same dead owner? Then nobody took it over in between.
    const now = await fs.readFile(file, 'utf8').catch(() => null);
    if (now === pidSeen) await fs.rm(file, { force: true });
  } finally {
    await fs.rm(breaker, { force: true });
  }
}

export async function lockJob(name: string, env: NodeJS.ProcessEnv = process.env): Promise<JobLock> {
  const dir = path.join(stateHome(env), 'locks');
  const file = path.join(dir, `${name}.lock`);
  await makeDirs(dir, 0o700).catch((err) => {
    throw filesystemError(err, 'create', dir, 'set XDG_STATE_HOME to a writable place');
  });
  const mine = `${process.pid} ${bootId()}\n`;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      if (await createWhole(file, mine)) return { file, release: () => fs.rm(file, { force: true }) };
    } catch (err) {
      throw filesystemError(err, 'create the job lock', file);
    }
    const seen = await fs.readFile(file, 'utf8').catch(() => null);
    if (seen === null) continue;
    const pid = await liveOwner(file);
    if (pid !== null) {
      throw new JobBusyError(`backup job '${name}' is already running (pid ${pid})`, {
        hint: 'wait for that run to finish; different jobs may run at once',
      });
    }
    await breakStale(file, name, seen);
  }
  throw new JobBusyError(`backup job '${name}' is being started by another run`, { hint: 'try again' });
}
