// The lock mechanism on real files: whole content, liveness by pid and boot, stale takeover by
// exactly one taker, release of only our own lock, and old-format locks holding a bare pid.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { lockInUse, takeOverStale, tryLock, type HeldLock } from '../../src/util/pid-lock';

const BOOT = fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
const MINE = `${process.pid} ${BOOT}\n`;

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

it('creates the lock whole with pid and boot, in the mode asked, and leaves no temporaries', async () => {
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
