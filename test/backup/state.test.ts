// The run's bookkeeping on real files: logs rotated per job, the job lock (busy, stale, released),
// and a state file that is torn or missing.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BackupStaleError, JobBusyError } from '../../src/errors';
import { lockJob } from '../../src/backup/job-lock';
import { readState, stateFile, writeState } from '../../src/backup/job-state';
import { logsDir, openRunLog } from '../../src/backup/run-log';
import { jobStatus, listJobs, runJob } from '../../src/backup';
import { stateKey } from '../../src/backup/job-paths';
import { configHome } from '../../src/util/xdg';
import { FilesystemError } from '../../src/errors';

let root: string;
let env: NodeJS.ProcessEnv;

beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'bp-state-'));
  env = { HOME: root, XDG_STATE_HOME: path.join(root, 'state') };
});
afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

it('keeps the newest 10 logs of a job, mode 0600, and leaves other jobs alone', async () => {
  const dir = logsDir(env);
  fs.mkdirSync(dir, { recursive: true });
  for (let i = 0; i < 12; i++)
    fs.writeFileSync(path.join(dir, `daily.2026-01-${String(i + 10)}T00-00-00-000Z.1.log`), 'old\n');
  fs.writeFileSync(path.join(dir, 'weekly.2026-01-01T00-00-00-000Z.1.log'), 'other job\n');
  // Job `daily.db` shares the prefix `daily.`; its logs are its own.
  for (let i = 0; i < 12; i++)
    fs.writeFileSync(path.join(dir, `daily.db.2026-01-${String(i + 10)}T00-00-00-000Z.1.log`), 'daily.db\n');
  const log = await openRunLog('daily', env);
  log.line('first line\nsecond line');
  log.close();
  const daily = fs
    .readdirSync(dir)
    .filter((f) => f.startsWith('daily.') && !f.startsWith('daily.db.'))
    .sort();
  expect(daily).toHaveLength(10);
  expect(daily[0]).toBe('daily.2026-01-13T00-00-00-000Z.1.log');
  expect(daily).toContain(path.basename(log.file));
  expect(fs.existsSync(path.join(dir, 'weekly.2026-01-01T00-00-00-000Z.1.log'))).toBe(true);
  expect(fs.readdirSync(dir).filter((f) => f.startsWith('daily.db.'))).toHaveLength(12);
  expect(fs.statSync(log.file).mode & 0o777).toBe(0o600);
  expect(fs.readFileSync(log.file, 'utf8')).toMatch(/^\S+Z first line\n\S+Z second line\n$/);
});

it('a held job lock makes a second taker JobBusyError (exit 9); release frees it', async () => {
  const lock = await lockJob('daily', 'daily', env);
  await expect(lockJob('daily', 'daily', env)).rejects.toThrow(JobBusyError);
  await expect(lockJob('daily', 'daily', env)).rejects.toThrow(
    `backup job 'daily' is already running (pid ${process.pid})`,
  );
  const other = await lockJob('weekly', 'weekly', env);
  await other.release();
  await lock.release();
  const again = await lockJob('daily', 'daily', env);
  await again.release();
});

it('a lock left by a process that is gone, or from before a reboot, is taken over', async () => {
  const boot = fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  const stat = fs.readFileSync('/proc/self/stat', 'utf8');
  const mine = `${process.pid} ${boot} ${stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]}\n`;
  const first = await lockJob('daily', 'daily', env);
  expect(fs.readFileSync(first.file, 'utf8')).toBe(mine);
  // A pid that cannot be alive: above the kernel's pid_max.
  fs.writeFileSync(first.file, `99999999 ${boot}\n`);
  const lock = await lockJob('daily', 'daily', env);
  expect(fs.readFileSync(lock.file, 'utf8')).toBe(mine);
  // A live pid, but written before this boot: that pid is another process now.
  fs.writeFileSync(lock.file, `${process.pid} another-boot\n`);
  const again = await lockJob('daily', 'daily', env);
  await again.release();
  expect(fs.existsSync(again.file)).toBe(false);
});

it('a stale lock another run is breaking right now is not taken twice (busy, exit 9)', async () => {
  const first = await lockJob('daily', 'daily', env);
  fs.writeFileSync(first.file, '99999999\n');
  fs.writeFileSync(`${first.file}.break`, '1\n');
  await expect(lockJob('daily', 'daily', env)).rejects.toThrow("backup job 'daily' is being started by another run");
  expect(fs.readFileSync(first.file, 'utf8')).toBe('99999999\n');
  // A break file left by a run killed long ago does not block for ever.
  const old = new Date(Date.now() - 5 * 60_000);
  fs.utimesSync(`${first.file}.break`, old, old);
  const lock = await lockJob('daily', 'daily', env);
  await lock.release();
  expect(fs.readdirSync(path.dirname(first.file))).toEqual([]);
});

it('a full disk at lock time: exit 6 saying to free space or move XDG_STATE_HOME, and no file left', async () => {
  const state = path.join(root, 'state');
  const locks = path.join(state, 'borg-provision', 'locks');
  fs.mkdirSync(state);
  if (spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', state]).status !== 0)
    throw new Error('this test mounts a tmpfs: run it as root (mount -t tmpfs)');
  try {
    fs.mkdirSync(locks, { recursive: true, mode: 0o700 });
    // Full: an empty file can still be created there, but nothing written into it.
    spawnSync('dd', ['if=/dev/zero', `of=${path.join(state, 'fill')}`, 'bs=4k'], { stdio: 'ignore' });
    const err = (await lockJob('daily', 'daily', env).catch((e: unknown) => e)) as FilesystemError;
    expect(err).toBeInstanceOf(FilesystemError);
    expect(err.exitCode).toBe(6);
    expect(err.message).toBe(
      `cannot create the job lock ${path.join(locks, 'daily.lock')}: ` +
        'the disk is full: free space or set XDG_STATE_HOME to a writable place',
    );
    expect(fs.readdirSync(locks)).toEqual([]);
  } finally {
    spawnSync('umount', [state]);
  }
});

it('state: missing or torn reads as empty; written with mode 0600', async () => {
  expect(await readState('daily', env)).toEqual({ lastRun: null, lastSuccess: null, checks: {} });
  const state = {
    lastRun: null,
    lastSuccess: '2026-01-01T00:00:00.000Z',
    checks: { repository: '2026-01-01T00:00:00.000Z' },
  };
  await writeState('daily', state, env);
  expect(await readState('daily', env)).toEqual(state);
  expect(fs.statSync(stateFile('daily', env)).mode & 0o777).toBe(0o600);
  fs.writeFileSync(stateFile('daily', env), '{"lastRun": ');
  expect(await readState('daily', env)).toEqual({ lastRun: null, lastSuccess: null, checks: {} });
});

it('a run that cannot open its log fails (exit 6) and leaves the job unlocked', async () => {
  const configDir = path.join(root, 'config');
  const dir = path.join(configDir, 'backups', 'daily');
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  fs.chmodSync(path.dirname(dir), 0o700);
  fs.writeFileSync(path.join(dir, 'config.yaml'), 'sources: [/etc/hostname]\nrepository: /nonexistent/repo\n', {
    mode: 0o600,
  });
  fs.writeFileSync(path.join(dir, 'passphrase'), 'x\n', { mode: 0o600 });
  // The logs directory's place is taken by a file.
  fs.mkdirSync(path.dirname(logsDir(env)), { recursive: true });
  fs.writeFileSync(logsDir(env), 'not a directory\n');
  await expect(runJob('daily', { configDir, env })).rejects.toThrow(FilesystemError);
  const lock = await lockJob('daily', stateKey('daily', configDir), env);
  await lock.release();
});

function jobIn(configDir: string, name: string, borg: string): void {
  const dir = path.join(configDir, 'backups', name);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  fs.chmodSync(configDir, 0o700);
  fs.chmodSync(path.dirname(dir), 0o700);
  const config = `sources: [/etc/hostname]\nrepository: ${path.join(configDir, 'repo')}\nborg: ${borg}\n`;
  fs.writeFileSync(path.join(dir, 'config.yaml'), config, { mode: 0o600 });
  fs.writeFileSync(path.join(dir, 'passphrase'), 'x\n', { mode: 0o600 });
}

it('jobs of one name in two config dirs have their own lock, state and logs', async () => {
  // A borg that succeeds at every step, so only the bookkeeping is under test.
  const borg = path.join(root, 'borg');
  fs.writeFileSync(borg, '#!/bin/sh\nexit 0\n', { mode: 0o755 });
  const [a, b] = [path.join(root, 'a'), path.join(root, 'b')];
  jobIn(a, 'daily', borg);
  jobIn(b, 'daily', borg);
  expect(stateKey('daily', a)).toMatch(/^daily@[0-9a-f]{8}$/);
  expect(stateKey('daily', b)).not.toBe(stateKey('daily', a));
  // One directory, one key, however it is named: the default, a trailing slash, a symlink.
  expect(stateKey('daily', path.join(configHome(), '.'))).toBe(stateKey('daily'));
  expect(stateKey('daily', `${a}/`)).toBe(stateKey('daily', a));
  fs.symlinkSync(a, path.join(root, 'a-link'));
  expect(stateKey('daily', path.join(root, 'a-link'))).toBe(stateKey('daily', a));

  const held = await lockJob('daily', stateKey('daily', a), env);
  try {
    await expect(runJob('daily', { configDir: a, env })).rejects.toThrow(JobBusyError);
    const ran = await runJob('daily', { configDir: b, env });
    expect(ran.result).toBe('success');
    expect(path.basename(ran.log as string).startsWith(`${stateKey('daily', b)}.`)).toBe(true);
  } finally {
    await held.release();
  }
  expect((await readState(stateKey('daily', b), env)).lastSuccess).not.toBeNull();
  expect(await readState(stateKey('daily', a), env)).toEqual({ lastRun: null, lastSuccess: null, checks: {} });
  expect(fs.readdirSync(path.dirname(stateFile('daily', env)))).toEqual([`${stateKey('daily', b)}.json`]);
});

it('a folder that is no job name is listed with its error; list and status still cover the other jobs', async () => {
  const borg = path.join(root, 'borg');
  fs.writeFileSync(borg, '#!/bin/sh\nexit 0\n', { mode: 0o755 });
  const configDir = path.join(root, 'config');
  jobIn(configDir, 'good', borg);
  const stray = path.join(configDir, 'backups', 'old copy');
  fs.mkdirSync(stray, { mode: 0o700 });
  fs.writeFileSync(path.join(stray, 'config.yaml'), 'sources: [/etc/hostname]\n', { mode: 0o600 });
  expect((await runJob('good', { configDir, env })).result).toBe('success');

  const jobs = await listJobs({ configDir, env });
  expect(jobs.map((j) => [j.name, j.configError === null, j.lastSuccess !== null])).toEqual([
    ['good', true, true],
    ['old copy', false, false],
  ]);
  expect(jobs[1].configError).toBe("bad job name 'old copy'");
  // Status judges each job: the good one is fresh, the stray folder never succeeded (exit 8, not a usage error).
  const stale = await jobStatus(86_400_000, { configDir, env }).catch((e: unknown) => e);
  expect(stale).toBeInstanceOf(BackupStaleError);
  expect((stale as Error).message).toBe('stale backups: old copy (never succeeded)');
  expect((await jobStatus(86_400_000, { configDir, env, names: ['good'] })).ok).toBe(true);
});
