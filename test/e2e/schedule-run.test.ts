// What a scheduler starts really backs up: a real job (`backup init`, real borg, a path with
// spaces), scheduled without --config-dir, then started the way the scheduler would start it, with
// the scheduler's own environment (another HOME, no XDG variables, its own PATH): cron from the
// /etc/cron.d file it reads, TrueNAS through the stand-in's `cronjob.run` (the middleware's
// `sudo -H -u root sh -c COMMAND`). The archive lands in the repository, and a failing run says why.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { makeBackupSandbox, makeSourceTree, type BackupSandbox } from '../helpers/backup-sandbox';
import { makeSandbox, STUBS, type Sandbox } from '../helpers/schedule-sandbox';

jest.setTimeout(180_000);

let bsb: BackupSandbox;
let ssb: Sandbox;
let env: NodeJS.ProcessEnv;
/** The home the scheduler gives the run: not the one the job was made under. */
let schedulerHome: string;
let repo: string;

async function setUp(truenas: boolean): Promise<void> {
  bsb = makeBackupSandbox('scheduled run');
  ssb = makeSandbox({ truenas });
  schedulerHome = path.join(bsb.root, 'scheduler home');
  mkdirSync(schedulerHome);
  const src = path.join(bsb.root, 'source tree');
  makeSourceTree(src);
  repo = path.join(bsb.root, 'repo');
  env = {
    ...ssb.env,
    ...bsb.env,
    PATH: `${STUBS}:${bsb.env.PATH}`,
    BORG_PROVISION_SCHEDULE_ROOT: ssb.root,
    MIDCLT_RUN_HOME: schedulerHome,
  };
  const init = await bsb.cli(['backup', 'init', 'nas', '--repo', repo, '--source', src], { env });
  expect(init.stderr).toBe('');
  expect(init.code).toBe(0);
}

afterEach(() => {
  expect(ssb.state('midclt').errors).toEqual([]);
  ssb.cleanup();
  bsb.cleanup();
});

const archives = (): string[] =>
  bsb
    .borg('nas', ['list', '--short', repo])
    .stdout.split('\n')
    .filter((l) => l !== '');

const runLogs = (): string[] =>
  spawnSync('find', [path.join(schedulerHome, '.local', 'state'), '-name', '*.log'], { encoding: 'utf8' })
    .stdout.split('\n')
    .filter((l) => l !== '');

test('cron: the line in /etc/cron.d, run as cron runs it, makes an archive', async () => {
  await setUp(false);
  const add = await bsb.cli(['schedule', 'add', 'nas', '--daily', '02:30', '--via', 'cron'], { env });
  expect(add.stderr).toBe('');
  expect(add.code).toBe(0);
  const file = readFileSync(path.join(ssb.root, 'etc', 'cron.d', 'borg-provision-nas'), 'utf8');
  const vars = Object.fromEntries([...file.matchAll(/^([A-Z]+)=(.*)$/gm)].map((m) => [m[1], m[2]]));
  const entry = /^30 2 \* \* \* root (.*)$/m.exec(file);
  expect(entry).not.toBeNull();
  // cron turns an unescaped % into a newline (stdin); ours are all escaped.
  expect(entry![1]).not.toMatch(/(^|[^\\])%/);
  const command = entry![1].replace(/\\%/g, '%');
  const cronEnv = { ...vars, HOME: schedulerHome, LOGNAME: 'root' };
  const r = spawnSync('/bin/sh', ['-c', command], { env: cronEnv, cwd: schedulerHome, encoding: 'utf8' });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  expect(archives()).toHaveLength(1);
  expect(runLogs()).toHaveLength(1);
});

test('TrueNAS: cronjob.run of the registered job makes an archive; a failing run exits non-zero with the reason', async () => {
  await setUp(true);
  const add = await bsb.cli(['schedule', 'add', 'nas', '--daily', '02:30'], { env });
  expect(add.stderr).toBe('');
  expect(add.code).toBe(0);
  const midclt = (args: string[]) =>
    spawnSync(path.join(STUBS, 'midclt'), ['call', ...args], { env, encoding: 'utf8' });
  const ok = midclt(['cronjob.run', '1', 'true']);
  expect(ok.stderr).toBe('');
  expect(ok.status).toBe(0);
  expect(archives()).toHaveLength(1);
  // The repository gone: the run fails, and what TrueNAS alerts and mails says why.
  rmSync(repo, { recursive: true, force: true });
  const bad = midclt(['cronjob.run', '1', 'true']);
  expect(bad.status).toBe(1);
  expect(bad.stderr).toMatch(/CronJob 1 exited with 7: .*borg-provision: error: /s);
  expect(runLogs()).toHaveLength(2);
});
