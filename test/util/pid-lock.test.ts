// The lock mechanism on real files: whole content, liveness by pid, boot and start time, stale
// takeover by exactly one taker, release of only our own lock, old-format locks (pid and boot, or
// a bare pid), and nothing left behind on a full disk.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { lockInUse, parseStartTime, startTimeOf, takeOverStale, tryLock, type HeldLock } from '../../src/util/pid-lock';

const BOOT = fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();

/** Field 22 of /proc/<pid>/stat, read here on its own: the fields after the command name's last ')'. */
function realStart(pid: number | 'self'): string {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]!;
}
const MINE = `${process.pid} ${BOOT} ${realStart('self')}\n`;

let dir: string;
let file: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bp-pid-lock-'));
  file = path.join(dir, 'x.lock');
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const deadPid = (): number => spawnSync(process.execPath, ['-e', '0']).pid!;

function held(r: HeldLock | { owner: number | null }): HeldLock {
  if (!('release' in r)) throw new Error(`lock not taken: busy, owner ${String(r.owner)}`);
  return r;
}

it('creates the lock whole with pid, boot and start time, in the mode asked, and leaves no temporaries', async () => {
  const lock = held(await tryLock(file, 0o600));
  expect(fs.readFileSync(file, 'utf8')).toBe(MINE);
  expect(fs.statSync(file).mode & 0o777).toBe(0o600);
  expect(fs.readdirSync(dir)).toEqual(['x.lock']);
  expect(await lockInUse(file)).toBe(true);
  await lock.release();
  expect(fs.readdirSync(dir)).toEqual([]);
  expect(await lockInUse(file)).toBe(false);
});

it('a live owner makes the lock busy, naming it; the lock is left alone', async () => {
  const first = held(await tryLock(file));
  expect(await tryLock(file)).toEqual({ owner: process.pid });
  // An older version's lock: a bare pid, here of a live process.
  fs.writeFileSync(file, `${process.ppid}\n`);
  expect(await tryLock(file)).toEqual({ owner: process.ppid });
  expect(fs.readFileSync(file, 'utf8')).toBe(`${process.ppid}\n`);
  // Release removes only our own lock, not the one now in its place.
  await first.release();
  expect(fs.readFileSync(file, 'utf8')).toBe(`${process.ppid}\n`);
});

it.each([
  ['a pid that is gone', (): string => `${deadPid()} ${BOOT}\n`],
  ['a pid that is gone, old format', (): string => `${deadPid()}\n`],
  ['a live pid recorded in another boot', (): string => `${process.pid} another-boot\n`],
])('a stale lock (%s) is taken over', async (_what, content) => {
  fs.writeFileSync(file, content());
  const lock = held(await tryLock(file));
  expect(fs.readFileSync(file, 'utf8')).toBe(MINE);
  await lock.release();
  expect(fs.readdirSync(dir)).toEqual([]);
});

it('two concurrent takers of one stale lock: exactly one holds it', async () => {
  fs.writeFileSync(file, `${deadPid()} ${BOOT}\n`);
  const results = await Promise.all([tryLock(file), tryLock(file)]);
  const winners = results.filter((r): r is HeldLock => 'release' in r);
  expect(winners).toHaveLength(1);
  const loser = results.find((r) => !('release' in r));
  // The loser saw either the winner's new lock or the winner still breaking the stale one.
  expect([{ owner: process.pid }, { owner: null }]).toContainEqual(loser);
  expect(fs.readFileSync(file, 'utf8')).toBe(MINE);
  expect(fs.readdirSync(dir)).toEqual(['x.lock']);
  await winners[0]!.release();
  expect(fs.readdirSync(dir)).toEqual([]);
});

it('a taker acting on an old judgement of staleness leaves the new lock alone', async () => {
  const dead = `${deadPid()} ${BOOT}\n`;
  fs.writeFileSync(file, dead);
  expect(await takeOverStale(file, dead)).toBe(true);
  const lock = held(await tryLock(file));
  expect(await takeOverStale(file, dead)).toBe(false);
  expect(fs.readFileSync(file, 'utf8')).toBe(MINE);
  await lock.release();
});

it('a stale lock another run is breaking is busy; a break left by a dead run is cleared', async () => {
  fs.writeFileSync(file, `${deadPid()}\n`);
  fs.writeFileSync(`${file}.break`, `${process.ppid} ${BOOT}\n`);
  expect(await tryLock(file)).toEqual({ owner: null });
  fs.writeFileSync(`${file}.break`, `${deadPid()} ${BOOT}\n`);
  const lock = held(await tryLock(file));
  await lock.release();
  expect(fs.readdirSync(dir)).toEqual([]);
});

it('an empty lock is being written by an older version: busy at first, stale once old', async () => {
  fs.writeFileSync(file, '');
  expect(await tryLock(file)).toEqual({ owner: null });
  expect(await lockInUse(file)).toBe(true);
  const old = new Date(Date.now() - 10 * 60_000);
  fs.utimesSync(file, old, old);
  const lock = held(await tryLock(file));
  expect(fs.readFileSync(file, 'utf8')).toBe(MINE);
  await lock.release();
});

it("removes the temporaries a killed run left next to the lock, not a live run's", async () => {
  const dead = deadPid();
  const stale = [`x.lock.tmp-${dead}-abcd1234`, `x.lock.stale-${dead}-abcd1234`, `x.lock.break.stale-${dead}-0a0b0c0d`];
  const kept = [`x.lock.tmp-${process.ppid}-abcd1234`, 'y.lock.tmp-1-abcd1234'];
  for (const n of [...stale, ...kept]) fs.writeFileSync(path.join(dir, n), 'x');
  const lock = held(await tryLock(file));
  expect(fs.readdirSync(dir).sort()).toEqual(['x.lock', ...kept].sort());
  await lock.release();
});

describe('the owner is told from a later process with its pid by its start time', () => {
  let children: ChildProcess[] = [];
  afterEach(() => {
    for (const c of children) c.kill('SIGKILL');
    children = [];
  });

  /** A live process that is not the lock's writer (as one that reused a dead owner's pid is). */
  async function liveOther(command = '/bin/sleep'): Promise<number> {
    const c = spawn(command, ['300'], { stdio: 'ignore' });
    children.push(c);
    // libuv reports the spawn once the exec has happened: the stat is the program's, not node's fork.
    await new Promise((resolve, reject) => c.once('spawn', resolve).once('error', reject));
    return c.pid!;
  }

  it('a lock naming a live pid whose start time differs is taken over', async () => {
    const pid = await liveOther();
    const other = String(Number(realStart(pid)) + 1);
    fs.writeFileSync(file, `${pid} ${BOOT} ${other}\n`);
    expect(await lockInUse(file)).toBe(false);
    const lock = held(await tryLock(file));
    expect(fs.readFileSync(file, 'utf8')).toBe(MINE);
    await lock.release();
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it("a lock naming a live child with its real start time is busy, and so is this process's own", async () => {
    const pid = await liveOther();
    const text = `${pid} ${BOOT} ${realStart(pid)}\n`;
    fs.writeFileSync(file, text);
    expect(await tryLock(file)).toEqual({ owner: pid });
    expect(await lockInUse(file)).toBe(true);
    expect(fs.readFileSync(file, 'utf8')).toBe(text);
    fs.writeFileSync(file, MINE);
    expect(await tryLock(file)).toEqual({ owner: process.pid });
  });

  it.each([
    ['pid and boot (the previous version)', (pid: number): string => `${pid} ${BOOT}\n`],
    ['a bare pid (older still)', (pid: number): string => `${pid}\n`],
    ['a start time that is no number', (pid: number): string => `${pid} ${BOOT} 12x\n`],
  ])('a lock without a usable start time (%s) naming a live pid is busy, as before', async (_what, content) => {
    const pid = await liveOther();
    fs.writeFileSync(file, content(pid));
    expect(await tryLock(file)).toEqual({ owner: pid });
    expect(fs.readFileSync(file, 'utf8')).toBe(content(pid));
  });

  it("reads the start time after the command name's last ')', whatever the name holds", async () => {
    const line =
      '4242 (a) b (c) S 1 4242 4242 0 -1 4194560 99 0 0 0 1 2 0 0 20 0 1 0 777123 8192 100 ' + '0 '.repeat(30);
    expect(parseStartTime(line)).toBe('777123');
    expect(parseStartTime('4242 (sleep) S 1')).toBeNull();
    expect(parseStartTime('no parentheses')).toBeNull();
    // A real process named so: its start time is its own (near a plain sleep's started next), not
    // another field read by splitting at the spaces in its name.
    const odd = path.join(dir, 'x) (y z');
    fs.symlinkSync('/bin/sleep', odd);
    const oddPid = await liveOther(odd);
    expect(fs.readFileSync(`/proc/${oddPid}/stat`, 'utf8')).toContain('(x) (y z)');
    const plainPid = await liveOther();
    const gap = Number(startTimeOf(plainPid)) - Number(startTimeOf(oddPid));
    expect(gap).toBeGreaterThanOrEqual(0);
    expect(gap).toBeLessThan(1000);
    expect(startTimeOf(deadPid())).toBeNull();
  });
});

it('on a full disk the lock fails with ENOSPC and leaves no temporary file', async () => {
  const mnt = path.join(dir, 'small');
  fs.mkdirSync(mnt);
  if (spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', mnt]).status !== 0)
    throw new Error('this test mounts a tmpfs: run it as root (mount -t tmpfs)');
  try {
    // Fill it: creating an empty file still works then, writing into it does not.
    spawnSync('dd', ['if=/dev/zero', `of=${path.join(mnt, 'fill')}`, 'bs=4k'], { stdio: 'ignore' });
    await expect(tryLock(path.join(mnt, 'x.lock'))).rejects.toMatchObject({ code: 'ENOSPC' });
    expect(fs.readdirSync(mnt)).toEqual(['fill']);
  } finally {
    spawnSync('umount', [mnt]);
  }
});
