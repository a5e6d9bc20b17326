// A lock file naming its owner: `<pid> <boot id> <start time>\n`. The mechanism shared by the
// prefix lock, the download lock and the job lock; each caller decides what a busy lock means
// (refuse, or wait).
// - Created whole: the content is written to a temporary file that is then link()ed into place,
//   which fails when the lock exists. A reader never sees a new lock empty or half-written.
// - Liveness: the owner is alive when its pid runs, the boot id is this boot's and the process
//   with that pid started when the owner did. A pid recorded before a reboot may belong to another
//   process now; so may one recorded before a crash or a kill -9, once the kernel hands it out
//   again: its start time then differs. Locks from older versions hold `<pid> <boot id>` (judged
//   by pid and boot) or a bare pid (judged by the pid alone).
// - Stale takeover: only the run that creates the lock's `.break` file may remove a stale lock, and
//   it removes it only if it still holds what was judged stale, so two runs that both saw the same
//   dead owner cannot both take over (the second finds the new owner's lock).
// Errors of the file system are thrown as they are; callers wrap them in their own error class.
import { randomBytes } from 'node:crypto';
import { readFileSync, promises as fs } from 'node:fs';
import * as path from 'node:path';

export interface HeldLock {
  release(): Promise<void>;
}

/** The lock is busy: `owner` is its live pid, or null while another run is creating or breaking it. */
export interface BusyLock {
  owner: number | null;
}

/**
 * An empty or unreadable lock was made by an older version, which created the file first and wrote
 * its pid after: younger than this, its writer may still be at work.
 */
const UNWRITTEN_GRACE_MS = 5_000;
/** Breaking a lock takes an instant: a `.break` file older than this was left by a killed run. */
const BREAK_STALE_MS = 60_000;

let cachedBoot: string | undefined;
export function bootId(): string {
  if (cachedBoot === undefined) {
    try {
      cachedBoot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() || 'unknown';
    } catch {
      cachedBoot = 'unknown';
    }
  }
  return cachedBoot;
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to another user, so it is alive.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * When process `pid` started: field 22 of /proc/<pid>/stat, in clock ticks since boot. Null when
 * it cannot be read (the process is gone, or /proc is not there or hides it).
 */
export function startTimeOf(pid: number): string | null {
  try {
    return parseStartTime(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return null;
  }
}

/**
 * The start time in a /proc/<pid>/stat line. Field 2, the command name, is in parentheses and may
 * itself hold spaces and ')': the fields after it begin after the last ')', with field 3 first.
 */
export function parseStartTime(stat: string): string | null {
  const close = stat.lastIndexOf(')');
  if (close < 0) return null;
  const start = stat
    .slice(close + 1)
    .trim()
    .split(/\s+/)[22 - 3];
  return start !== undefined && /^\d+$/.test(start) ? start : null;
}

let cachedMine: string | undefined;
/** What this process writes into a lock it takes (or into a `.break`): pid, boot, start time. */
function ownText(): string {
  if (cachedMine === undefined) {
    const start = startTimeOf(process.pid);
    // Without /proc there is no start time to record: pid and boot, as an older version wrote.
    cachedMine = `${process.pid} ${bootId()}${start === null ? '' : ` ${start}`}\n`;
  }
  return cachedMine;
}

export interface Owner {
  pid: number;
  /** Absent in a lock written by an older version. */
  boot?: string;
  /** The owner's start time (startTimeOf); absent in a lock written by an older version. */
  start?: string;
}

/** The owner a lock's text names, or null for an empty or garbled file. */
export function parseOwner(text: string): Owner | null {
  const [pidText, boot, start] = text.trim().split(/\s+/);
  const pid = Number(pidText);
  if (!Number.isSafeInteger(pid) || pid <= 0) return null;
  if (boot === undefined) return { pid };
  // A start time that is no number cannot be compared: the lock is judged by pid and boot, which
  // may keep a dead owner's lock but never takes a live owner's.
  return start !== undefined && /^\d+$/.test(start) ? { pid, boot, start } : { pid, boot };
}

export function ownerAlive(o: Owner): boolean {
  if (o.boot !== undefined && o.boot !== bootId()) return false;
  if (!pidAlive(o.pid)) return false;
  if (o.start === undefined) return true;
  const now = startTimeOf(o.pid);
  // Unreadable although the pid runs (/proc hides it, or it exited this instant): the pid decides.
  return now === null ? pidAlive(o.pid) : now === o.start;
}

/** What a lock file says now: free (gone), held by a live pid, busy with no owner yet, or stale. */
type Seen = { free: true } | { live: number } | { unwritten: true } | { stale: string };

async function look(file: string): Promise<Seen> {
  const text = await fs.readFile(file, 'utf8').catch(() => null);
  if (text === null) return { free: true };
  const owner = parseOwner(text);
  if (owner === null) return (await ageMs(file)) < UNWRITTEN_GRACE_MS ? { unwritten: true } : { stale: text };
  return ownerAlive(owner) ? { live: owner.pid } : { stale: text };
}

/** True when `file` is held by a live owner, or is being written by one (not free, not stale). */
export async function lockInUse(file: string): Promise<boolean> {
  const seen = await look(file);
  return 'live' in seen || 'unwritten' in seen;
}

/**
 * Takes `file` for this process, taking over a stale lock. Returns the release function, or the
 * busy lock's live owner.
 */
export async function tryLock(file: string, mode = 0o644): Promise<HeldLock | BusyLock> {
  const mine = ownText();
  // A few rounds: the lock may be released or replaced between our create and our read.
  for (let round = 0; round < 3; round++) {
    const held = await createHeld(file, mine, mode);
    if (held) return held;
    const seen = await look(file);
    if ('live' in seen) return { owner: seen.live };
    if ('unwritten' in seen) return { owner: null };
    if ('stale' in seen) {
      const taken = await breakStale(file, seen.stale, mine, mode);
      if (taken === 'busy') return { owner: null };
      if (typeof taken === 'object') return taken;
    }
  }
  return { owner: null };
}

/**
 * Removes the stale lock `file` if it still holds `staleText`, as the only breaker (the `.break`
 * file). Returns true when this call removed it. For callers that judged a lock stale themselves.
 */
export async function takeOverStale(file: string, staleText: string): Promise<boolean> {
  return (await breakStale(file, staleText, null, 0o644)) === 'removed';
}

/**
 * As the one breaker: checks that `file` still holds `staleText`, removes it and, when `mine` is
 * given, creates our lock in its place before letting other breakers in. Returns the held lock (or
 * 'removed' without `mine`), 'changed' when the lock changed meanwhile, 'busy' when another run
 * breaks it.
 */
async function breakStale(
  file: string,
  staleText: string,
  mine: string | null,
  mode: number,
): Promise<HeldLock | 'removed' | 'changed' | 'busy'> {
  const breaker = `${file}.break`;
  const me = ownText();
  if (!(await createWhole(breaker, me, 0o600))) {
    if (!(await clearLeftoverBreak(breaker))) return 'busy';
    if (!(await createWhole(breaker, me, 0o600))) return 'busy';
  }
  try {
    const now = await fs.readFile(file, 'utf8').catch(() => null);
    if (now !== staleText) return 'changed'; // taken over or released by another run meanwhile
    await fs.rm(file, { force: true });
    if (mine === null) return 'removed';
    return (await createHeld(file, mine, mode)) ?? 'changed';
  } finally {
    await removeIfUnchanged(breaker, me);
  }
}

/** Removes a `.break` left by a run that died while breaking. False when its breaker is at work. */
async function clearLeftoverBreak(breaker: string): Promise<boolean> {
  const text = await fs.readFile(breaker, 'utf8').catch(() => null);
  if (text === null) return true;
  const owner = parseOwner(text);
  const young = (await ageMs(breaker)) < BREAK_STALE_MS;
  // A pid alone (or none) cannot be trusted for long: it may have been reused.
  if (young && (owner === null || ownerAlive(owner))) return false;
  await removeIfUnchanged(breaker, text);
  return true;
}

/**
 * Removes `file` only if it still holds `text`. The file is first renamed to a unique name, which
 * only one run can do to a given file; if what was moved is not what we judged (another run put a
 * new one in place meanwhile), it is linked back, unless yet another has been created since.
 */
async function removeIfUnchanged(file: string, text: string): Promise<void> {
  const moved = tempName(file, 'stale');
  try {
    await fs.rename(file, moved);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  try {
    if ((await fs.readFile(moved, 'utf8').catch(() => null)) !== text)
      await fs.link(moved, file).catch(() => undefined);
  } finally {
    await fs.rm(moved, { force: true });
  }
}

/** Creates the lock holding `mine`; null when it exists. Its release removes only this very file. */
async function createHeld(file: string, mine: string, mode: number): Promise<HeldLock | null> {
  if (!(await createWhole(file, mine, mode))) return null;
  const ours = await fs.stat(file);
  await removeDeadTemps(file);
  return {
    release: async () => {
      // Same inode and text: still the file we created (not one a later owner made after a takeover).
      const st = await fs.stat(file).catch(() => null);
      if (st?.ino !== ours.ino || st.dev !== ours.dev) return;
      if ((await fs.readFile(file, 'utf8').catch(() => null)) === mine) await fs.rm(file, { force: true });
    },
  };
}

/** Creates `file` holding `text`, or returns false when it exists: never a half-written file. */
async function createWhole(file: string, text: string, mode: number): Promise<boolean> {
  const tmp = tempName(file, 'tmp');
  try {
    // Inside the try: on a full disk the open creates the file and the write fails; it goes too.
    await fs.writeFile(tmp, text, { mode, flag: 'wx' });
    await fs.link(tmp, file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    await fs.rm(tmp, { force: true });
  }
}

/** `<lock>.<kind>-<pid>-<random>`: unique per call (one process may take several locks at once). */
function tempName(file: string, kind: 'tmp' | 'stale'): string {
  return `${file}.${kind}-${process.pid}-${randomBytes(4).toString('hex')}`;
}

/** Removes the temporaries of this lock that a killed run left (their pid is gone). */
async function removeDeadTemps(file: string): Promise<void> {
  const dir = path.dirname(file);
  const base = path.basename(file);
  const names = await fs.readdir(dir).catch(() => [] as string[]);
  for (const name of names) {
    if (!name.startsWith(`${base}.`)) continue;
    const m = /^(?:break\.)?(?:tmp|stale)-(\d+)-[0-9a-f]+$/.exec(name.slice(base.length + 1));
    if (m && Number(m[1]) !== process.pid && !pidAlive(Number(m[1])))
      await fs.rm(path.join(dir, name), { force: true });
  }
}

async function ageMs(file: string): Promise<number> {
  const st = await fs.stat(file).catch(() => null);
  return st ? Date.now() - st.mtimeMs : 0;
}
