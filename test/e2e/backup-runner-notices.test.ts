// What the runner reports beside borg's own results, with real borg on local repositories: a run
// log whose disk fills up, a ping server that is down, a stray folder among the jobs under --all,
// and a job name that does not exist in `backup status`.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { jsonOf } from '../helpers/cli';
import { makeBackupSandbox, makeSourceTree, writeJob, type BackupSandbox } from '../helpers/backup-sandbox';

jest.setTimeout(300_000);

let sb: BackupSandbox;
let src: string;

interface RunDoc {
  jobs: { job: string; result: string; warnings: string[]; error: { message: string } | null }[];
  error?: { exitCode: number; message: string };
}

beforeAll(() => {
  sb = makeBackupSandbox('notices');
  src = path.join(sb.root, 'src');
  makeSourceTree(src);
});
afterAll(() => sb.cleanup());

/** A job on a fresh local repository (real borg init), with `extra` config lines. */
function job(name: string, extra = ''): string {
  const repo = path.join(sb.root, 'repos', name);
  writeJob(sb, name, `sources: ["${src}"]\nrepository: "${repo}"\nlock_wait: 1\nretry_wait: 1\n${extra}`);
  sb.initRepo(name, repo);
  return repo;
}

const archives = (name: string, repo: string): string[] => sb.archives(name, repo);

const expectCheckPasses = (name: string, repo: string): void =>
  expect(sb.check(name, repo)).toEqual({ code: 0, stderr: '' });

it('a run log whose disk fills up: no crash; the archive is made, the state error says the disk is full (exit 6)', async () => {
  const repo = job('logfull', 'hooks:\n  before: ["seq 1 20000"]\n');
  const state = path.join(sb.root, 'small-state');
  fs.mkdirSync(state);
  const mount = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', state]);
  if (mount.status !== 0) throw new Error('this test mounts a tmpfs: run it as root (mount -t tmpfs)');
  try {
    // Room for the lock and the log's first pages only: the hook's output fills the disk.
    fs.writeFileSync(path.join(state, 'filler'), Buffer.alloc(48 * 1024));
    const r = await sb.cli(['backup', 'run', 'logfull', '--json'], { env: { XDG_STATE_HOME: state } });
    expect(r.code).toBe(6);
    expect(r.stderr).not.toMatch(/^\s+at /m);
    expect(r.stderr).toMatch(/^borg-provision: error: cannot write the job state .*: the disk is full/m);
    expect(jsonOf<RunDoc>(r).error?.exitCode).toBe(6);
    // The lock is gone, and the backup itself was made.
    expect(fs.readdirSync(path.join(state, 'borg-provision', 'locks'))).toEqual([]);
    expect(archives('logfull', repo)).toHaveLength(1);
    expectCheckPasses('logfull', repo);
    // With room again the next run succeeds and says nothing about the log.
    expect(spawnSync('mount', ['-o', 'remount,size=4m', state]).status).toBe(0);
    const again = await sb.cli(['backup', 'run', 'logfull', '--json'], { env: { XDG_STATE_HOME: state } });
    expect(again.code).toBe(0);
    expect(jsonOf<RunDoc>(again).jobs[0]).toMatchObject({ result: 'success', warnings: [] });
  } finally {
    spawnSync('umount', [state]);
  }
});

it('a ping server that is down is a notice: the run succeeds, its result stays success, --fail-on-warning too', async () => {
  const repo = job('pingdown', 'ping_url: http://127.0.0.1:9/ping/x\n');
  const r = await sb.cli(['backup', 'run', 'pingdown', '--json', '--fail-on-warning']);
  expect(r.code).toBe(0);
  const doc = jsonOf<RunDoc>(r).jobs[0];
  expect(doc.result).toBe('success');
  expect(doc.warnings).toEqual([
    expect.stringMatching(/^ping start failed/),
    expect.stringMatching(/^ping success failed/),
  ]);
  expect(r.stderr).toMatch(/^borg-provision: warning: pingdown: ping start failed/m);
  const shown = await sb.cli(['backup', 'list', '--json']);
  expect(JSON.stringify(jsonOf(shown))).toMatch(/"pingdown".*"success"/);
  expect(archives('pingdown', repo)).toHaveLength(1);
});

it('--all: a folder whose name is no job name fails alone (exit 2 in its row); the jobs after it still run', async () => {
  const base = path.join(sb.root, 'all-jobs');
  const cfg = (n: string): string => {
    const repo = path.join(sb.root, 'repos', `all-${n.replace(/\W/g, '')}`);
    fs.mkdirSync(path.join(base, 'backups', n), { recursive: true, mode: 0o700 });
    fs.writeFileSync(path.join(base, 'backups', n, 'config.yaml'), `sources: ["${src}"]\nrepository: "${repo}"\n`, {
      mode: 0o600,
    });
    fs.writeFileSync(path.join(base, 'backups', n, 'passphrase'), 'all jobs pass\n', { mode: 0o600 });
    return repo;
  };
  fs.mkdirSync(base, { mode: 0o700 });
  const repos = ['a', 'old copy', 'z'].map(cfg);
  for (const n of ['a', 'z']) {
    const init = await sb.cli([
      'backup',
      'borg',
      n,
      '--config-dir',
      base,
      '--',
      'init',
      '--encryption',
      'repokey-blake2',
    ]);
    expect(init.code).toBe(0);
  }
  const r = await sb.cli(['backup', 'run', '--all', '--config-dir', base, '--json']);
  const doc = jsonOf<RunDoc>(r);
  expect(doc.jobs.map((j) => [j.job, j.result])).toEqual([
    ['a', 'success'],
    ['old copy', 'failed'],
    ['z', 'success'],
  ]);
  expect(doc.jobs[1].error?.message).toMatch(/bad job name 'old copy'/);
  expect(r.code).toBe(2);
  expect(fs.existsSync(repos[1])).toBe(false);
  // Named on the command line, a bad name stops everything before a job runs.
  const named = await sb.cli(['backup', 'run', 'a', 'old copy', '--config-dir', base]);
  expect(named.code).toBe(2);
  expect(named.stderr).toMatch(/^borg-provision: error: bad job name 'old copy'$/m);
  const list = await sb.cli(['backup', 'borg', 'a', '--config-dir', base, '--', 'list', '--short']);
  expect(list.stdout.trim().split('\n')).toHaveLength(1);
});

it('backup status NAME of no such job: exit 2 saying so, not "stale"', async () => {
  job('present');
  const r = await sb.cli(['backup', 'status', 'absent']);
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(/^borg-provision: error: no backup job named 'absent'$/m);
  expect(r.stderr).toMatch(/hint: see the jobs with: borg-provision backup list/);
});

it('backup init of an scp-like user@host:path is refused with the ssh:// form to use (exit 2), nothing written', async () => {
  const r = await sb.cli(['backup', 'init', 'scp', '--repo', 'u@backup.example.net:repo', '--source', src]);
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(/must be an absolute path or ssh:\/\/user@host\[:port\]\/path/);
  expect(r.stderr).toMatch(/hint: write user@host:path as ssh:\/\/user@host\/\.\/path/);
  expect(fs.existsSync(path.join(sb.env.XDG_CONFIG_HOME!, 'borg-provision', 'backups', 'scp'))).toBe(false);
});
