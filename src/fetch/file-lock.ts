// One transfer per file at a time: two installs into different prefixes share the download cache,
// and two writers of one `<name>.part` would splice their bytes. `<name>.part.lock` is created
// exclusively (O_EXCL) and holds the owner's pid; a lock whose pid is gone (SIGKILL, power loss)
// is stale and taken over. A waiter polls, so it needs no cooperation from the holder.
import { promises as fs } from 'node:fs';
import { InterruptedError, LockedError } from '../errors';
import { downloadWriteError } from './cache-dir';
import { sleep } from '../net';

export interface WaitOptions {
  signal?: AbortSignal;
  /** Give up when the holder's `.part` has not grown for this long. */
  noProgressMs: number;
  /** The file whose growth shows the holder is alive and working (its `.part`). */
  progressFile: string;
  /** What is being downloaded, for the message. */
  target: string;
}

/**
 * Takes the lock, waiting while a live process holds it. Returns the release function, and whether
 * it had to wait (then the caller should look for the holder's finished file first).
 */
export async function acquireFileLock(
  lock: string,
  o: WaitOptions,
): Promise<{ release: () => Promise<void>; waited: boolean }> {
  let waited = false;
  let lastSize = -1;
  let lastChange = Date.now();
  let pause = 25;
  for (;;) {
    if (o.signal?.aborted) throw new InterruptedError();
    if (await tryCreate(lock))
      return {
        release: () =>
          fs.rm(lock, { force: true }).then(
            () => undefined,
            () => undefined,
          ),
        waited,
      };
    const holder = await readPid(lock);
    if (holder === null || !isAlive(holder)) {
      // A pid that is gone: stale. An empty or unreadable file: a holder between create and write,
      // or a crash right then; give it a moment before calling it stale.
      if (holder !== null || (await ageMs(lock)) > 5000) await removeIfStill(lock, holder);
      else await pauseFor(pause, o.signal);
      continue;
    }
    waited = true;
    const size = await fileSize(o.progressFile);
    if (size !== lastSize) {
      lastSize = size;
      lastChange = Date.now();
    } else if (Date.now() - lastChange > o.noProgressMs) {
      throw new LockedError(
        `another borg-provision (pid ${holder}) is downloading ${o.target} and made no progress for ${o.noProgressMs / 1000} s: wait for it, or stop it and run again`,
      );
    }
    await pauseFor(pause, o.signal);
    pause = Math.min(pause * 2, 500);
  }
}

async function tryCreate(lock: string): Promise<boolean> {
  try {
    const h = await fs.open(lock, 'wx', 0o644);
    try {
      await h.writeFile(`${process.pid}\n`);
    } finally {
      await h.close();
    }
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw downloadWriteError(err, 'create the download lock', lock);
  }
}

async function readPid(lock: string): Promise<number | null> {
  const text = await fs.readFile(lock, 'utf8').catch(() => '');
  const pid = Number(text.trim());
  return Number.isInteger(pid) && pid > 0 ? pid : null;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to another user, so it is alive.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes a stale lock only if it still names the same (dead) holder: a new owner writes its own pid. */
async function removeIfStill(lock: string, holder: number | null): Promise<void> {
  if ((await readPid(lock)) === holder) await fs.rm(lock, { force: true }).catch(() => undefined);
}

async function ageMs(file: string): Promise<number> {
  const st = await fs.stat(file).catch(() => null);
  return st ? Date.now() - st.mtimeMs : 0;
}

async function fileSize(file: string): Promise<number> {
  return (await fs.stat(file).catch(() => null))?.size ?? 0;
}

async function pauseFor(ms: number, signal?: AbortSignal): Promise<void> {
  await sleep(ms, signal).catch(() => {
    throw new InterruptedError('interrupted while waiting for another download of the same file; nothing was written');
  });
}
