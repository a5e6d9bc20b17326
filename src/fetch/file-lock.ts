// One transfer per file at a time: two installs into different prefixes share the download cache,
// and two writers of one `<name>.part` would splice their bytes. `<name>.part.lock` names its owner
// (util/pid-lock); a lock whose owner is gone (SIGKILL, power loss, a reboot) is stale and taken
// over. A waiter polls, so it needs no cooperation from the holder.
import { promises as fs } from 'node:fs';
import { InterruptedError, LockedError } from '../errors';
import { downloadWriteError } from './cache-dir';
import { sleep } from '../net';
import { tryLock } from '../util/pid-lock';

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
    const got = await tryLock(lock, 0o644).catch((err: unknown) => {
      throw downloadWriteError(err, 'create the download lock', lock);
    });
    if ('release' in got) return { release: () => got.release().catch(() => undefined), waited };
    const holder = got.owner;
    if (holder === null) {
      // Another run is creating or breaking the lock this instant.
      await pauseFor(pause, o.signal);
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

async function fileSize(file: string): Promise<number> {
  return (await fs.stat(file).catch(() => null))?.size ?? 0;
}

async function pauseFor(ms: number, signal?: AbortSignal): Promise<void> {
  await sleep(ms, signal).catch(() => {
    throw new InterruptedError('interrupted while waiting for another download of the same file; nothing was written');
  });
}
