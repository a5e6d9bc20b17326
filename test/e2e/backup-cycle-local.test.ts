// The whole cycle on a local repository through the built CLI and real borg: init, run twice,
// prune keeps what the retention says, compact, a due check then a skipped one, and the last
// archive extracts byte for byte; list/show/status/borg/shell around it; secrets never shown.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { binRun, jsonOf } from '../helpers/cli';
import { makeBackupSandbox, makeSourceTree, treeContents, type BackupSandbox } from '../helpers/backup-sandbox';

jest.setTimeout(240_000);

let sb: BackupSandbox;
let src: string;
let repo: string;
let passphrase: string;

beforeAll(() => {
  sb = makeBackupSandbox('cycle');
  src = path.join(sb.root, 'source tree');
  repo = path.join(sb.root, 'repos', 'daily');
  makeSourceTree(src);
});
afterAll(() => sb.cleanup());

interface RunDoc {
  jobs: {
    job: string;
    result: string;
    archive: string;
    steps: { step: string; status: string; tries: number }[];
    log: string;
  }[];
}

it('init writes the job with private modes and a repository, and never prints the passphrase', async () => {
  const r = await sb.cli(['backup', 'init', 'daily', '--repo', repo, '--source', src, '--json']);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  const doc = jsonOf<{ initialized: boolean; keyExport: string; publicKey: null }>(r);
  expect(doc).toMatchObject({ initialized: true, publicKey: null });
  const dir = sb.jobDir('daily');
  expect(fs.statSync(dir).mode & 0o777).toBe(0o700);
  for (const f of ['passphrase', 'config.yaml', 'key-export'])
    expect(fs.statSync(path.join(dir, f)).mode & 0o777).toBe(0o600);
  passphrase = fs.readFileSync(path.join(dir, 'passphrase'), 'utf8').trim();
  expect(passphrase.length).toBeGreaterThanOrEqual(40);
  expect(r.stdout).not.toContain(passphrase);
  expect(fs.readFileSync(doc.keyExport, 'utf8')).toMatch(/^BORG_KEY /);
  expect(sb.borg('daily', ['info', repo]).code).toBe(0);
});

it('init refuses an existing job and an existing repository, changing nothing', async () => {
  const before = fs.readFileSync(path.join(sb.jobDir('daily'), 'config.yaml'), 'utf8');
  const again = await sb.cli(['backup', 'init', 'daily', '--repo', path.join(sb.root, 'other'), '--source', src]);
  expect(again.code).toBe(2);
  expect(again.stderr).toMatch(/^borg-provision: error: backup job 'daily' exists .*not overwriting it/m);
  expect(fs.readFileSync(path.join(sb.jobDir('daily'), 'config.yaml'), 'utf8')).toBe(before);
  const sameRepo = await sb.cli(['backup', 'init', 'other', '--repo', repo, '--source', src]);
  expect(sameRepo.code).toBe(2);
  expect(sameRepo.stderr).toMatch(/exists and is not empty; not making a repository there/);
  expect(fs.existsSync(sb.jobDir('other'))).toBe(false);
});

it('init refuses a job folder that is there without a job, and leaves what is in it', async () => {
  const dir = sb.jobDir('j3');
  const repo3 = path.join(sb.root, 'repos', 'j3');
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  fs.writeFileSync(path.join(dir, 'notes.txt'), 'precious\n');
  try {
    const r = await sb.cli(['backup', 'init', 'j3', '--repo', repo3, '--source', src]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /^borg-provision: error: job folder .*\/j3 exists already; not writing job 'j3' into it$/m,
    );
    expect(fs.readdirSync(dir)).toEqual(['notes.txt']);
    expect(fs.readFileSync(path.join(dir, 'notes.txt'), 'utf8')).toBe('precious\n');
    expect(fs.existsSync(repo3)).toBe(false);
  } finally {
    // The later tests count the jobs.
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

it('--dry-run of init and run writes and runs nothing', async () => {
  const r = await sb.cli([
    'backup',
    'init',
    'dry',
    '--repo',
    path.join(sb.root, 'dry-repo'),
    '--source',
    src,
    '--dry-run',
  ]);
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/would create job dry/);
  expect(fs.existsSync(sb.jobDir('dry'))).toBe(false);
  expect(fs.existsSync(path.join(sb.root, 'dry-repo'))).toBe(false);
  const run = await sb.cli(['backup', 'run', 'daily', '--dry-run', '--json']);
  expect(run.code).toBe(0);
  const planned = jsonOf<{ jobs: { planned: { step: string; argv: string[] }[] }[] }>(run).jobs[0].planned;
  expect(planned.map((p) => p.step)).toEqual(['create', 'prune', 'compact', 'check repository', 'check archives']);
  expect(sb.logs()).toEqual([]);
  expect(sb.borg('daily', ['list', '--short', repo]).stdout).toBe('');
});

it('status before any run: never succeeded, exit 8', async () => {
  const r = await sb.cli(['backup', 'status', '--json']);
  expect(r.code).toBe(8);
  expect(jsonOf<{ error: { kind: string }; jobs: { ok: boolean }[] }>(r)).toMatchObject({
    error: { kind: 'backup-stale' },
    jobs: [{ ok: false }],
  });
  expect(r.stderr).toMatch(/stale backups: daily \(never succeeded\)/);
});

it('runs twice; prune keeps what retention says; compact; checks only when due; extract is byte for byte', async () => {
  // One archive a day is what keep_daily: 1 keeps: the second run's prune must drop the first.
  const file = path.join(sb.jobDir('daily'), 'config.yaml');
  fs.writeFileSync(
    file,
    fs.readFileSync(file, 'utf8').replace(/retention:\n( {2}.*\n)+/, 'retention:\n  keep_daily: 1\n'),
  );
  const first = await sb.cli(['backup', 'run', 'daily', '--json']);
  expect(first.stderr).toBe('');
  expect(first.code).toBe(0);
  const d1 = jsonOf<RunDoc>(first).jobs[0];
  expect(d1.result).toBe('success');
  expect(d1.steps.map((s) => `${s.step} ${s.status}`)).toEqual([
    'create ok',
    'prune ok',
    'compact ok',
    'check repository ok',
    'check archives ok',
  ]);
  fs.appendFileSync(path.join(src, 'a.txt'), 'second run\n');
  const second = await sb.cli(['backup', 'run', 'daily', '--json']);
  expect(second.code).toBe(0);
  const d2 = jsonOf<RunDoc>(second).jobs[0];
  expect(d2.steps.map((s) => `${s.step} ${s.status}`)).toEqual([
    'create ok',
    'prune ok',
    'compact ok',
    'check repository skipped',
    'check archives skipped',
  ]);
  expect(d2.archive).not.toBe(d1.archive);
  const archives = sb.borg('daily', ['list', '--short', repo]).stdout.trim().split('\n');
  expect(archives).toEqual([d2.archive]);
  expect(fs.readFileSync(d2.log, 'utf8')).toMatch(/Pruning archive.*/);
  expect(fs.readFileSync(d2.log, 'utf8')).toMatch(/compact: exit 0/);

  // sb.borg runs in sb.root, and borg extracts there: the tree lands at sb.root + its full path.
  const x = sb.borg('daily', ['extract', `${repo}::${d2.archive}`]);
  expect(x.code).toBe(0);
  const extractedRoot = path.join(sb.root, src.slice(1));
  expect(treeContents(extractedRoot)).toEqual(treeContents(src));
  expect(sb.borg('daily', ['check', repo]).code).toBe(0);
});

it('on a terminal a run shows one progress line, rewritten in place; in a pipe nothing', async () => {
  // script(1) gives the run a pseudo-terminal, as a person at a shell has.
  const cmd = [process.execPath, binRun, 'backup', 'run', 'daily'].map((w) => `'${w}'`).join(' ');
  const tty = spawnSync('script', ['-qec', cmd, '/dev/null'], { env: { ...process.env, ...sb.env }, encoding: 'utf8' });
  expect(tty.status).toBe(0);
  expect(tty.stdout).toContain('\r\x1b[Kdaily: create');
  expect(tty.stdout).toContain('\r\x1b[Kdaily: prune');
  // The line is cleared before the result is printed.
  const result = tty.stdout.indexOf('daily: success');
  expect(result).toBeGreaterThan(0);
  expect(tty.stdout.slice(0, result).trimEnd().endsWith('\r\x1b[K')).toBe(true);
  const pipe = await sb.cli(['backup', 'run', 'daily']);
  expect(pipe.code).toBe(0);
  expect(pipe.stderr).toBe('');
  expect(pipe.stdout).not.toContain('\x1b[');
});

it('list, show and status report the job; no output and no log holds the passphrase', async () => {
  const list = jsonOf<{ jobs: { name: string; repository: string; lastRun: { result: string } }[] }>(
    await sb.cli(['backup', 'list', '--json']),
  );
  expect(list.jobs).toMatchObject([{ name: 'daily', repository: repo, lastRun: { result: 'success' } }]);
  const listText = await sb.cli(['backup', 'list']);
  expect(listText.stdout).toMatch(/^daily +.*last run success .* ago, last success .* ago$/m);
  const show = await sb.cli(['backup', 'show', 'daily', '--json']);
  const doc = jsonOf<{ environment: Record<string, string>; config: { secrets: { passphrase: string } } }>(show);
  expect(doc.environment.BORG_PASSCOMMAND).toBe(`cat '${path.join(sb.jobDir('daily'), 'passphrase')}'`);
  expect(doc.environment.BORG_REPO).toBe(repo);
  expect(doc.config.secrets.passphrase).toBe(path.join(sb.jobDir('daily'), 'passphrase'));
  const status = await sb.cli(['backup', 'status', '--max-age', '1h']);
  expect(status.code).toBe(0);
  expect(status.stdout).toMatch(/^ok +daily: last success \d+s ago$/m);
  for (const text of [list, show.stdout, status.stdout, ...sb.logs().map((l) => fs.readFileSync(l, 'utf8'))]) {
    expect(JSON.stringify(text)).not.toContain(passphrase);
  }
  const bad = await sb.cli(['backup', 'status', '--max-age', 'soon']);
  expect(bad.code).toBe(2);
  expect(bad.stderr).toMatch(/bad --max-age 'soon'/);
});

it('backup borg runs one borg command with the job; backup shell gives a shell with its variables', async () => {
  const r = await sb.cli(['backup', 'borg', 'daily', '--', 'list', '--short']);
  expect(r.code).toBe(0);
  expect(r.stdout.trim().split('\n')).toHaveLength(1);
  const sh = await sb.cli(['backup', 'shell', 'daily'], {
    env: { SHELL: '/bin/sh' },
    input: 'echo "repo=$BORG_REPO"; echo "pass=${BORG_PASSPHRASE:-unset}"; borg list --short | wc -l; exit 3\n',
  });
  expect(sh.code).toBe(3);
  expect(sh.stdout).toContain(`repo=${repo}`);
  expect(sh.stdout).toContain('pass=unset');
  expect(sh.stdout).toMatch(/^1$/m);
  expect(sh.stderr).toMatch(/BORG_PASSCOMMAND/);
});

it('a job name that is not safe is refused before anything', async () => {
  const r = await sb.cli(['backup', 'run', '../etc']);
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(/bad job name '\.\.\/etc'/);
  const none = await sb.cli(['backup', 'run', 'nosuch']);
  expect(none.code).toBe(2);
  expect(none.stderr).toMatch(/no backup job named 'nosuch'/);
});

it('keyfile encryption keeps the key in the job (BORG_KEY_FILE); run --all runs every job', async () => {
  const repo2 = path.join(sb.root, 'repos', 'kf');
  const r = await sb.cli(['backup', 'init', 'kf', '--repo', repo2, '--source', src, '--encryption', 'keyfile-blake2']);
  expect(r.code).toBe(0);
  const keyfile = path.join(sb.jobDir('kf'), 'keyfile');
  expect(fs.readFileSync(keyfile, 'utf8')).toMatch(/^BORG_KEY /);
  expect(fs.statSync(keyfile).mode & 0o777).toBe(0o600);
  expect(fs.existsSync(path.join(sb.home, '.config', 'borg', 'keys'))).toBe(false);
  const all = await sb.cli(['backup', 'run', '--all', '--json']);
  expect(all.code).toBe(0);
  expect(jsonOf<RunDoc>(all).jobs.map((j) => `${j.job} ${j.result}`)).toEqual(['daily success', 'kf success']);
  const both = await sb.cli(['backup', 'run', 'daily', '--all']);
  expect(both.code).toBe(2);
});

it('runs the borg wrapper `install` put in ~/.local/bin when there is one, else borg on PATH', async () => {
  const binDir = path.join(sb.home, '.local', 'bin');
  fs.mkdirSync(binDir, { recursive: true });
  const trace = path.join(sb.root, 'wrapper-trace');
  const wrapper = path.join(binDir, 'borg');
  fs.writeFileSync(wrapper, `#!/bin/sh\necho "$1" >> "${trace}"\nexec /usr/bin/borg "$@"\n`, { mode: 0o755 });
  try {
    expect(jsonOf<{ borg: string }>(await sb.cli(['backup', 'show', 'daily', '--json'])).borg).toBe(wrapper);
    const r = await sb.cli(['backup', 'run', 'daily']);
    expect(r.code).toBe(0);
    expect(fs.readFileSync(trace, 'utf8')).toBe('create\nprune\ncompact\n');
  } finally {
    fs.rmSync(wrapper);
  }
  expect(jsonOf<{ borg: string }>(await sb.cli(['backup', 'show', 'daily', '--json'])).borg).toBe('borg');
});

it('--encryption none: init exports no key and says so; run works and its archive lists', async () => {
  const plainRepo = path.join(sb.root, 'repos', 'plain');
  const r = await sb.cli([
    'backup',
    'init',
    'plain',
    '--repo',
    plainRepo,
    '--source',
    src,
    '--encryption',
    'none',
    '--json',
  ]);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  expect(jsonOf(r)).toMatchObject({ initialized: true, encryption: 'none', keyExport: null });
  expect(fs.readdirSync(sb.jobDir('plain')).sort()).toEqual(['config.yaml', 'passphrase']);
  const run = await sb.cli(['backup', 'run', 'plain', '--json']);
  expect(run.code).toBe(0);
  const archive = jsonOf<RunDoc>(run).jobs[0].archive;
  expect(sb.borg('plain', ['list', '--short', plainRepo]).stdout).toBe(`${archive}\n`);

  const text = await sb.cli([
    'backup',
    'init',
    'plain2',
    '--repo',
    `${plainRepo}2`,
    '--source',
    src,
    '--encryption',
    'none',
  ]);
  expect(text.code).toBe(0);
  expect(text.stdout).toMatch(/^not encrypted \(--encryption none\): there is no key to export;/m);
  expect(text.stdout).not.toMatch(/exported key/);
});
