// ssh:// repositories against a real sshd on 127.0.0.1 whose authorized_keys allows only
// `borg serve --restrict-to-path`: init (the printed line is what the server needs), the cycle,
// the origin document's config file as a job, and sshd down for the first try / for every try.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { jsonOf, type CliResult } from '../helpers/cli';
import {
  makeBackupSandbox,
  makeSourceTree,
  treeContents,
  waitFor,
  type BackupSandbox,
} from '../helpers/backup-sandbox';
import { makeSshd, type Sshd } from '../helpers/sshd';
import { ORIGIN_CONFIG } from '../helpers/origin-config';

jest.setTimeout(300_000);

let sb: BackupSandbox;
let sshd: Sshd;
let src: string;
let srv: string;

beforeAll(async () => {
  sb = makeBackupSandbox('ssh');
  sshd = await makeSshd(path.join(sb.root, 'sshd'));
  await sshd.start();
  src = path.join(sb.root, 'src');
  srv = path.join(sb.root, 'server');
  fs.mkdirSync(srv, { recursive: true });
  makeSourceTree(src);
});
afterAll(async () => {
  await sshd?.stop();
  sb?.cleanup();
});

const url = (p: string): string => `ssh://root@127.0.0.1:${sshd.port}${p}`;

interface RunDoc {
  jobs: {
    result: string;
    archive: string;
    steps: { step: string; status: string; tries: number; retried: string[] }[];
    error: { message: string } | null;
    log: string;
  }[];
}

it('init over ssh: prints the restricted authorized_keys line, waits for it, then initialises', async () => {
  const repo = path.join(srv, 'offsite');
  const first = await sb.cli(['backup', 'init', 'offsite', '--repo', url(repo), '--source', src]);
  expect(first.code).toBe(7);
  expect(first.stderr).toMatch(/did not accept job offsite's ssh key yet/);
  const line = first.stdout.split('\n').find((l) => l.startsWith('command='));
  expect(line).toMatch(
    new RegExp(`^command="borg serve --restrict-to-path '${repo}'",restrict ssh-ed25519 \\S+ borg-provision:offsite@`),
  );
  expect(fs.statSync(path.join(sb.jobDir('offsite'), 'ssh_key')).mode & 0o777).toBe(0o600);
  fs.appendFileSync(sshd.authorizedKeys, `${line}\n`);
  const plan = await sb.cli(['backup', 'init', 'offsite', '--repo', url(repo), '--source', src, '--dry-run']);
  expect(plan.stdout.trim()).toBe(
    `would borg init --encryption repokey-blake2 ${url(repo)} for the waiting job offsite`,
  );
  const second = await sb.cli(['backup', 'init', 'offsite', '--repo', url(repo), '--source', src, '--json']);
  expect(second.stderr).toBe('');
  expect(second.code).toBe(0);
  expect(jsonOf<{ initialized: boolean; resumed: string }>(second)).toMatchObject({
    initialized: true,
    resumed: 'ssh-key',
  });
  expect(fs.existsSync(path.join(repo, 'config'))).toBe(true);
  expect(fs.existsSync(path.join(sb.jobDir('offsite'), 'init-pending'))).toBe(false);
});

it('runs over ssh: create, prune, compact, the due checks; the retention holds; the archive extracts byte for byte', async () => {
  const cfg = path.join(sb.jobDir('offsite'), 'config.yaml');
  fs.writeFileSync(cfg, fs.readFileSync(cfg, 'utf8').replace(/retry_wait: \d+/, 'retry_wait: 1'));
  const steps = (r: CliResult): string[][] => jsonOf<RunDoc>(r).jobs[0].steps.map((s) => [s.step, s.status]);
  const list = (): string[] =>
    sb
      .borg('offsite', ['list', '--short', url(path.join(srv, 'offsite'))])
      .stdout.trim()
      .split('\n');
  const first = await sb.cli(['backup', 'run', 'offsite', '--json']);
  expect(first.code).toBe(0);
  expect(steps(first)).toEqual([
    ['create', 'ok'],
    ['prune', 'ok'],
    ['compact', 'ok'],
    ['check repository', 'ok'],
    ['check archives', 'ok'],
  ]);
  // The checks passed a moment ago: not due again for weeks.
  const second = await sb.cli(['backup', 'run', 'offsite', '--json']);
  expect(second.code).toBe(0);
  expect(steps(second).slice(3)).toEqual([
    ['check repository', 'skipped'],
    ['check archives', 'skipped'],
  ]);
  expect(list()).toHaveLength(2); // keep_daily 7 keeps both of today's (the oldest of the day too)
  // A retention of one: prune deletes the older two of three, compact frees their space.
  fs.writeFileSync(
    cfg,
    fs.readFileSync(cfg, 'utf8').replace(/retention:\n(?: {2}.*\n)+/, 'retention:\n  keep_last: 1\n'),
  );
  const third = await sb.cli(['backup', 'run', 'offsite', '--json']);
  expect(third.code).toBe(0);
  expect(steps(third).slice(0, 3)).toEqual([
    ['create', 'ok'],
    ['prune', 'ok'],
    ['compact', 'ok'],
  ]);
  const archives = list();
  expect(archives).toEqual([jsonOf<RunDoc>(third).jobs[0].archive]);
  const out = path.join(sb.root, 'x1');
  fs.mkdirSync(out);
  const x = spawnSync(
    'sh',
    [
      '-c',
      `cd '${out}' && exec "$0" "$@"`,
      process.execPath,
      path.resolve('bin/run.js'),
      'backup',
      'borg',
      'offsite',
      '--',
      'extract',
      `::${archives[0]}`,
    ],
    {
      env: { ...process.env, ...sb.env, NODE_ENV: 'production' },
      encoding: 'utf8',
    },
  );
  expect(x.status).toBe(0);
  expect(treeContents(path.join(out, src.slice(1)))).toEqual(treeContents(src));
});

it('init of a second job onto an existing ssh:// repository: refused (exit 2) once the server takes its key; the repository is untouched', async () => {
  const repo = path.join(srv, 'offsite');
  const before = fs.readFileSync(path.join(repo, 'config'));
  const first = await sb.cli(['backup', 'init', 'twin', '--repo', url(repo), '--source', src]);
  expect(first.code).toBe(7);
  const line = first.stdout.split('\n').find((l) => l.startsWith('command='));
  fs.appendFileSync(sshd.authorizedKeys, `${line}\n`);
  const second = await sb.cli(['backup', 'init', 'twin', '--repo', url(repo), '--source', src]);
  expect(second.code).toBe(2);
  expect(second.stderr).toMatch(
    /^borg-provision: error: a repository already exists at ssh:\/\/.*offsite; not overwriting it$/m,
  );
  expect(second.stderr).toMatch(/hint: remove the waiting job \(rm -r .*twin'?\), then run init with another --repo/);
  expect(fs.readFileSync(path.join(repo, 'config'))).toEqual(before);
  // The first job's repository still opens with the first job's passphrase.
  expect(sb.borg('offsite', ['list', '--short', url(repo)]).code).toBe(0);
});

it("the origin document's config.yaml runs unchanged as a job", async () => {
  // The origin's set-up, step by step: its SSH key, its passphrase file, `borg init -e keyfile`,
  // `borg key export` into BORGKey.bak; the server side keeps repositories under srv/origin-home.
  const dir = sb.jobDir('remote');
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const originConfig = ORIGIN_CONFIG;
  fs.writeFileSync(path.join(dir, 'config.yaml'), originConfig, { mode: 0o600 });
  // "server" is the origin's host alias: the job's own ssh_config says where it is.
  fs.writeFileSync(
    path.join(dir, 'ssh_config'),
    `Host server\n  HostName 127.0.0.1\n  Port ${sshd.port}\n  User root\n`,
    { mode: 0o600 },
  );
  const key = path.join(dir, 'SSHKey.pem');
  expect(spawnSync('ssh-keygen', ['-q', '-N', '', '-a', '4096', '-f', key]).status).toBe(0);
  const serverHome = path.join(srv, 'origin-home');
  fs.mkdirSync(serverHome, { recursive: true });
  sshd.authorize(fs.readFileSync(`${key}.pub`, 'utf8'), serverHome);
  const pass = path.join(dir, 'BORGKeyPassword.file');
  fs.writeFileSync(pass, spawnSync('openssl', ['rand', '-base64', '4096']).stdout, { mode: 0o600 });
  const benv = {
    ...process.env,
    ...sb.env,
    BORG_RSH:
      `ssh -F '${path.join(dir, 'ssh_config')}' -i '${key}' ` +
      '-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null',
    // As the origin's `export BORG_PASSPHRASE=`cat ...`` did: the shell drops the trailing newline.
    BORG_PASSPHRASE: fs.readFileSync(pass, 'utf8').replace(/\n+$/, ''),
  };
  expect(
    spawnSync('borg', ['init', '-e', 'keyfile', 'ssh://server/./subdir'], { env: benv, encoding: 'utf8' }).status,
  ).toBe(0);
  expect(
    spawnSync('borg', ['key', 'export', 'ssh://server/./subdir', path.join(dir, 'BORGKey.bak')], { env: benv }).status,
  ).toBe(0);
  fs.chmodSync(path.join(dir, 'BORGKey.bak'), 0o600);
  // The keyfile borg init left in ~/.config/borg/keys goes: the job must work from BORGKey.bak.
  fs.rmSync(path.join(sb.home, '.config', 'borg', 'keys'), { recursive: true, force: true });
  const scripts = path.join(sb.home, 'backup_scripts');
  makeSourceTree(scripts);

  const r = await sb.cli(['backup', 'run', 'remote', '--json']);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  const job = jsonOf<RunDoc>(r).jobs[0];
  expect(job.steps.map((s) => `${s.step} ${s.status}`)).toEqual(['create ok', 'prune ok', 'compact ok']);
  const log = fs.readFileSync(job.log, 'utf8');
  expect(log).toMatch(/borg create --stats --json --lock-wait 60 -C lzma,9 ::\{hostname\}-\{now\} .*backup_scripts/);
  expect(log).toMatch(
    /borg prune --list --lock-wait 60 --keep-daily=7 --keep-weekly=4 --keep-monthly=6 --keep-yearly=2 --lock-wait 60/,
  );
  expect(fs.existsSync(path.join(serverHome, 'subdir', 'config'))).toBe(true);
  const show = jsonOf<{ format: string; environment: Record<string, string> }>(
    await sb.cli(['backup', 'show', 'remote', '--json']),
  );
  expect(show.format).toBe('origin');
  expect(show.environment.BORG_KEY_FILE).toBe(path.join(dir, 'BORGKey.bak'));
  expect(show.environment.BORG_RSH).toContain(`-F '${path.join(dir, 'ssh_config')}' -i '${key}'`);
});

it('sshd down for the first try: retried, and the run succeeds once it is back', async () => {
  const cfg = path.join(sb.jobDir('offsite'), 'config.yaml');
  fs.writeFileSync(
    cfg,
    fs
      .readFileSync(cfg, 'utf8')
      .replace(/retries: \d+/, 'retries: 3')
      .replace(/retry_wait: \d+/, 'retry_wait: 2'),
  );
  await sshd.stop();
  const logsBefore = new Set(sb.logs());
  const run = sb.cli(['backup', 'run', 'offsite', '--json']);
  const log = await waitFor('the run log', () => sb.logs().find((l) => !logsBefore.has(l)));
  await waitFor('the first try to fail', () => /create: try 1 of 4 failed/.test(fs.readFileSync(log, 'utf8')));
  await sshd.start();
  const r = await run;
  expect(r.code).toBe(0);
  const create = jsonOf<RunDoc>(r).jobs[0].steps[0];
  expect(create.status).toBe('ok');
  expect(create.tries).toBeGreaterThanOrEqual(2);
  expect(create.retried[0]).toMatch(/Connection refused|connection/);
  expect(sb.borg('offsite', ['check', url(path.join(srv, 'offsite'))]).code).toBe(0);
});

it('sshd down for every try: exit 7 naming the connection, after the configured tries', async () => {
  const cfg = path.join(sb.jobDir('offsite'), 'config.yaml');
  fs.writeFileSync(
    cfg,
    fs
      .readFileSync(cfg, 'utf8')
      .replace(/retries: \d+/, 'retries: 1')
      .replace(/retry_wait: \d+/, 'retry_wait: 0'),
  );
  await sshd.stop();
  const r = await sb.cli(['backup', 'run', 'offsite', '--json']);
  await sshd.start();
  expect(r.code).toBe(7);
  expect(r.stderr).toMatch(
    // ssh's own line when it got that far; on a loaded machine sometimes only borg's.
    new RegExp(
      '^borg-provision: error: offsite: create failed after 2 tries: ' +
        '(ssh: connect to host 127\\.0\\.0\\.1 port \\d+: Connection refused|' +
        'the connection to the repository closed) ' +
        '\\(each try failed this way\\)$',
      'm',
    ),
  );
  const doc = jsonOf<RunDoc & { error: { kind: string } }>(r);
  expect(doc.error.kind).toBe('backup-failed');
  expect(doc.jobs[0].result).toBe('failed');
  const status = await sb.cli(['backup', 'list', '--json']);
  expect(
    jsonOf<{ jobs: { name: string; lastRun: { result: string } }[] }>(status).jobs.find((j) => j.name === 'offsite')
      ?.lastRun.result,
  ).toBe('failed');
  expect(sb.borg('offsite', ['check', url(path.join(srv, 'offsite'))]).code).toBe(0);
});
