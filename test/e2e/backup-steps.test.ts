// The steps a job's config chooses, with real borg on local repositories: retry waits that grow
// per try, a data check, and compact turned off.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { jsonOf } from '../helpers/cli';
import { makeBackupSandbox, makeSourceTree, waitFor, writeJob, type BackupSandbox } from '../helpers/backup-sandbox';

jest.setTimeout(300_000);

let sb: BackupSandbox;
let src: string;

interface RunDoc {
  jobs: { result: string; steps: { step: string; status: string; tries: number }[]; log: string | null }[];
}

beforeAll(() => {
  sb = makeBackupSandbox('steps');
  src = path.join(sb.root, 'src');
  makeSourceTree(src);
});
afterAll(() => sb.cleanup());

function job(name: string, extra = ''): string {
  const repo = path.join(sb.root, 'repos', name);
  writeJob(sb, name, `sources: ["${src}"]\nrepository: "${repo}"\nlock_wait: 1\n${extra}`);
  sb.initRepo(name, repo);
  return repo;
}

/** Milliseconds of each log line matching `re`, from the line's leading ISO time. */
function timesOf(log: string, re: RegExp): number[] {
  return fs
    .readFileSync(log, 'utf8')
    .split('\n')
    .filter((l) => re.test(l))
    .map((l) => Date.parse(l.slice(0, l.indexOf(' '))));
}

it('retry_wait grows per try: 1 s before the second try, 2 s before the third', async () => {
  const repo = job('waits', 'retries: 2\nretry_wait: 1\n');
  // Another borg holds the lock for the whole run: every try fails the same way.
  const release = path.join(sb.root, 'release-waits');
  const holder = spawn('borg', ['with-lock', repo, 'sh', '-c', `while [ ! -e '${release}' ]; do sleep 0.1; done`], {
    env: {
      ...process.env,
      ...sb.env,
      BORG_PASSCOMMAND: `cat '${path.join(sb.jobDir('waits'), 'passphrase')}'`,
      BORG_PASSPHRASE: undefined,
    } as NodeJS.ProcessEnv,
    stdio: 'ignore',
  });
  try {
    await waitFor('the other borg to hold the lock', () => fs.existsSync(path.join(repo, 'lock.exclusive')));
    const r = await sb.cli(['backup', 'run', 'waits', '--json']);
    expect(r.code).toBe(7);
    const doc = jsonOf<RunDoc>(r).jobs[0];
    expect(doc.steps.at(-1)).toMatchObject({ step: 'create', status: 'failed', tries: 3 });
    const log = fs.readFileSync(doc.log!, 'utf8');
    expect(log).toMatch(/create: try 1 of 3 failed .*; retrying in 1s/);
    expect(log).toMatch(/create: try 2 of 3 failed .*; retrying in 2s/);
    const failed = timesOf(doc.log!, /create: try \d of 3 failed/);
    const started = timesOf(doc.log!, /create: try \d of 3: /);
    expect(started[1] - failed[0]).toBeGreaterThanOrEqual(1000);
    expect(started[2] - failed[1]).toBeGreaterThanOrEqual(2000);
  } finally {
    fs.writeFileSync(release, '');
    await new Promise((res) => (holder.exitCode === null ? holder.once('exit', res) : res(null)));
  }
});

it('a data check runs borg check --verify-data and records when it passed; compact: false runs no compact', async () => {
  const repo = job('datacheck', 'compact: false\nchecks:\n  - name: data\n    frequency: 1 week\n');
  const r = await sb.cli(['backup', 'run', 'datacheck', '--json']);
  expect(r.code).toBe(0);
  const doc = jsonOf<RunDoc>(r).jobs[0];
  expect(doc.steps.map((s) => [s.step, s.status])).toEqual([
    ['create', 'ok'],
    ['prune', 'skipped'],
    ['compact', 'skipped'],
    ['check data', 'ok'],
  ]);
  const log = fs.readFileSync(doc.log!, 'utf8');
  expect(log).toMatch(/check data: try 1 of 1: \S+ check --lock-wait 1 --verify-data$/m);
  expect(log).not.toMatch(/compact: try/);
  // Passed a moment ago: not due again within its week.
  const again = jsonOf<RunDoc>(await sb.cli(['backup', 'run', 'datacheck', '--json'])).jobs[0];
  expect(again.steps.find((s) => s.step === 'check data')?.status).toBe('skipped');
  expect(sb.borg('datacheck', ['list', '--short', repo]).stdout.trim().split('\n')).toHaveLength(2);
});
