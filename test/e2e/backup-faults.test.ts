// Faults of a run on local repositories, each with its exit code and message, and nothing lost:
// after each the repository passes `borg check` and (where it applies) the next run succeeds.
// Also hooks, the ping server on loopback, borg warnings, and the `borg:` key.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { stateKey } from '../../src/backup/job-paths';
import { jsonOf } from '../helpers/cli';
import { makeBackupSandbox, makeSourceTree, waitFor, writeJob, type BackupSandbox } from '../helpers/backup-sandbox';

jest.setTimeout(300_000);

let sb: BackupSandbox;
let src: string;

interface StepDoc {
  step: string;
  status: string;
  tries: number;
  retried: string[];
}
interface RunDoc {
  jobs: {
    job: string;
    result: string;
    steps: StepDoc[];
    warnings: string[];
    error: { kind: string; message: string } | null;
    log: string | null;
  }[];
  error?: { kind: string; exitCode: number; message: string };
}

beforeAll(() => {
  sb = makeBackupSandbox('faults');
  src = path.join(sb.root, 'src');
  makeSourceTree(src);
});
afterAll(() => sb.cleanup());

/** A job on a fresh local repository (made with real borg init), with `extra` config lines. */
function job(name: string, extra = '', sources = [src]): { repo: string; dir: string } {
  const repo = path.join(sb.root, 'repos', name);
  const dir = writeJob(
    sb,
    name,
    `sources:\n${sources.map((s) => `  - "${s}"\n`).join('')}` +
      `repository: "${repo}"\nlock_wait: 1\nretry_wait: 1\n${extra}`,
  );
  sb.initRepo(name, repo);
  return { repo, dir };
}

const archives = (name: string, repo: string): string[] => sb.archives(name, repo);

const expectCheckPasses = (name: string, repo: string): void =>
  expect(sb.check(name, repo)).toEqual({ code: 0, stderr: '' });

it('a repository locked by another borg: retried, then succeeds once the lock is released', async () => {
  const { repo } = job('locked', 'retries: 6\n');
  // The other borg holds the lock until the test lets it go: after the runner's first try failed.
  const release = path.join(sb.root, 'release-lock');
  const holder = spawn('borg', ['with-lock', repo, 'sh', '-c', `while [ ! -e '${release}' ]; do sleep 0.1; done`], {
    env: {
      ...process.env,
      ...sb.env,
      BORG_PASSCOMMAND: `cat '${path.join(sb.jobDir('locked'), 'passphrase')}'`,
      BORG_PASSPHRASE: undefined,
    } as NodeJS.ProcessEnv,
    stdio: 'ignore',
  });
  await waitFor('the other borg to hold the lock', () => fs.existsSync(path.join(repo, 'lock.exclusive')));
  const logsBefore = new Set(sb.logs());
  const run = sb.cli(['backup', 'run', 'locked', '--json']);
  const log = await waitFor('the run log', () => sb.logs().find((l) => !logsBefore.has(l)));
  await waitFor('the first try to fail', () => /create: try 1 of 7 failed/.test(fs.readFileSync(log, 'utf8')));
  fs.writeFileSync(release, '');
  const r = await run;
  await new Promise((res) => (holder.exitCode === null ? holder.once('exit', res) : res(null)));
  expect(r.code).toBe(0);
  const create = jsonOf<RunDoc>(r).jobs[0].steps[0];
  expect(create).toMatchObject({ step: 'create', status: 'ok' });
  expect(create.tries).toBeGreaterThanOrEqual(2);
  expect(create.retried[0]).toBe('the repository is locked by another borg (lock timeout)');
  expect(archives('locked', repo)).toHaveLength(1);
  expectCheckPasses('locked', repo);
});

it('a fixed archive name that exists already is not retried: exit 7 after one try, naming the fix', async () => {
  const { repo } = job('fixed', "archive_name: 'always-the-same'\nretries: 3\n");
  expect((await sb.cli(['backup', 'run', 'fixed'])).code).toBe(0);
  const r = await sb.cli(['backup', 'run', 'fixed', '--json']);
  expect(r.code).toBe(7);
  expect(r.stderr).toMatch(
    /^borg-provision: error: fixed: create failed: an archive named always-the-same exists already$/m,
  );
  expect(r.stderr).toMatch(/^borg-provision: hint: put a time in the job's archive_name/m);
  expect(jsonOf<RunDoc>(r).jobs[0].steps.at(-1)).toMatchObject({ step: 'create', tries: 1 });
  expect(archives('fixed', repo)).toEqual(['always-the-same']);
});

it('a wrong passphrase is not retried: exit 7 after one try', async () => {
  const { repo, dir } = job('wrongpass', 'retries: 3\n');
  fs.writeFileSync(path.join(dir, 'passphrase'), 'not the passphrase\n', { mode: 0o600 });
  const r = await sb.cli(['backup', 'run', 'wrongpass', '--json']);
  expect(r.code).toBe(7);
  expect(r.stderr).toMatch(/^borg-provision: error: wrongpass: create failed: wrong passphrase$/m);
  expect(r.stderr).toMatch(/^borg-provision: hint: check the job's passphrase file$/m);
  const doc = jsonOf<RunDoc>(r);
  expect(doc.jobs[0].steps.at(-1)).toMatchObject({ step: 'create', status: 'failed', tries: 1 });
  const log = fs.readFileSync(doc.jobs[0].log!, 'utf8');
  expect(log).not.toMatch(/try 2 of/);
  fs.writeFileSync(path.join(dir, 'passphrase'), 'correct horse battery staple\n', { mode: 0o600 });
  expectCheckPasses('wrongpass', repo);
  expect(archives('wrongpass', repo)).toEqual([]);
});

it('a missing source: exit 7 naming it, borg not started, no archive, the fail hook and ping fire', async () => {
  const pings: { path: string; body: string }[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      pings.push({ path: req.url ?? '', body });
      res.end('OK');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as import('node:net').AddressInfo).port;
  const missing = path.join(sb.root, 'not there');
  const marker = path.join(sb.root, 'on-error-ran');
  const { repo } = job(
    'nosource',
    `retries: 3\nping_url: http://127.0.0.1:${port}/ping/abc-123\n` +
      `hooks:\n  on_error:\n    - 'echo "$BORG_PROVISION_ERROR" > "${marker}"'\n`,
    [src, missing],
  );
  try {
    const r = await sb.cli(['backup', 'run', 'nosource']);
    expect(r.code).toBe(7);
    expect(r.stderr).toContain(
      `borg-provision: error: nosource: create failed: source ${missing} does not exist; no archive was made`,
    );
    expect(fs.readFileSync(marker, 'utf8')).toContain('does not exist');
    expect(pings.map((p) => p.path)).toEqual(['/ping/abc-123/start', '/ping/abc-123/fail']);
    // The fail ping carries the log's tail, which says what was missing.
    expect(pings[1].body).toContain(`create: source missing: ${missing}`);
    expect(archives('nosource', repo)).toEqual([]);
    // And a good run pings start and success.
    pings.length = 0;
    fs.mkdirSync(missing);
    const ok = await sb.cli(['backup', 'run', 'nosource']);
    expect(ok.code).toBe(0);
    expect(pings.map((p) => p.path)).toEqual(['/ping/abc-123/start', '/ping/abc-123']);
    expectCheckPasses('nosource', repo);
  } finally {
    server.close();
  }
});

it('hooks run in order with the job variables and no passphrase; a failing before hook stops the run', async () => {
  const trace = path.join(sb.root, 'hook-trace');
  const { repo } = job(
    'hooked',
    `hooks:\n  before:\n    - 'echo "before $BORG_REPO ${'$'}{BORG_PASSPHRASE:-none}" >> "${trace}"'\n` +
      `  after:\n    - 'echo after >> "${trace}"'\n`,
  );
  const r = await sb.cli(['backup', 'run', 'hooked', '--json']);
  expect(r.code).toBe(0);
  expect(fs.readFileSync(trace, 'utf8')).toBe(`before ${repo} none\nafter\n`);
  expect(jsonOf<RunDoc>(r).jobs[0].steps.map((s) => s.step)).toEqual([
    'before hooks',
    'create',
    'prune',
    'compact',
    'after hooks',
  ]);
  const cfg = path.join(sb.jobDir('hooked'), 'config.yaml');
  fs.writeFileSync(
    cfg,
    fs.readFileSync(cfg, 'utf8').replace(/before:\n {4}- .*\n/, "before:\n    - 'exit 4 # token-in-a-hook'\n"),
    {
      mode: 0o600,
    },
  );
  const bad = await sb.cli(['backup', 'run', 'hooked', '--json']);
  expect(bad.code).toBe(7);
  expect(bad.stderr).toMatch(/^borg-provision: error: hooked: before hook 1 of 1 exited 4$/m);
  // A hook is named by its place, never by its text (which may hold a token): not in the log either.
  const log = jsonOf<RunDoc>(bad).jobs[0].log ?? '';
  expect(fs.readFileSync(log, 'utf8')).toMatch(/before hook 1 of 1: exit 4/);
  expect(fs.readFileSync(log, 'utf8') + bad.stdout + bad.stderr).not.toContain('token-in-a-hook');
  expect(archives('hooked', repo)).toHaveLength(1);
});

it('a borg warning (exit 1) is a warning; --fail-on-warning makes it exit 7', async () => {
  // `borg:` names a wrapper (as install's is); this one hands borg create one path that is gone.
  const wrapper = path.join(sb.root, 'borg-wrapper');
  fs.writeFileSync(
    wrapper,
    `#!/bin/sh\nif [ "$1" = create ]; then exec borg "$@" "${path.join(sb.root, 'vanished')}"; fi\nexec borg "$@"\n`,
    { mode: 0o755 },
  );
  // Microseconds in the name: the two runs below may start within one second.
  const { repo } = job('warned', `borg: "${wrapper}"\narchive_name: '{now:%Y-%m-%dT%H:%M:%S.%f}'\n`);
  const r = await sb.cli(['backup', 'run', 'warned', '--json']);
  expect(r.code).toBe(0);
  const doc = jsonOf<RunDoc>(r).jobs[0];
  expect(doc.result).toBe('warning');
  expect(doc.steps[0].status).toBe('warning');
  expect(r.stderr).toMatch(/^borg-provision: warning: warned: create: .*vanished.*No such file or directory/m);
  const strict = await sb.cli(['backup', 'run', 'warned', '--fail-on-warning']);
  expect(strict.code).toBe(7);
  expect(strict.stderr).toMatch(/borg warned and --fail-on-warning is set/);
  expectCheckPasses('warned', repo);
});

it('a typo in a key: exit 2 with file, line and key; nothing runs, no log, no state', async () => {
  const repo = path.join(sb.root, 'repos', 'typo');
  writeJob(sb, 'typo', `sources: ["${src}"]\nrepository: "${repo}"\nretension:\n  keep_daily: 7\n`);
  const logsBefore = sb.logs().length;
  const r = await sb.cli(['backup', 'run', 'typo']);
  expect(r.code).toBe(2);
  expect(r.stderr).toBe(
    `borg-provision: error: ${path.join(sb.jobDir('typo'), 'config.yaml')}:3: unknown key 'retension'\n` +
      "borg-provision: hint: did you mean 'retention'? (config.yaml keys: sources, repository, archive_name, " +
      'compression, exclude_patterns, one_file_system, create_options, prune_options, retention, compact, checks, ' +
      'retries, retry_wait, lock_wait, hooks, ping_url, borg)\n',
  );
  expect(sb.logs()).toHaveLength(logsBefore);
  expect(fs.existsSync(repo)).toBe(false);
  const stateDir = path.join(sb.home, '.local', 'state', 'borg-provision', 'state');
  const states = fs.existsSync(stateDir) ? fs.readdirSync(stateDir) : [];
  expect(states.filter((f) => f.startsWith('typo@'))).toEqual([]);
});

it('secrets readable by others (0644), a config others may write, an open job dir: refused, exit 2', async () => {
  const { repo, dir } = job('loose');
  fs.chmodSync(path.join(dir, 'passphrase'), 0o644);
  const r = await sb.cli(['backup', 'run', 'loose']);
  expect(r.code).toBe(2);
  expect(r.stderr).toBe(
    `borg-provision: error: secret ${path.join(dir, 'passphrase')} is readable by other users (mode 0644)\n` +
      // Quoted: the sandbox's path has spaces, and the hint is a command to paste.
      `borg-provision: hint: chmod 600 '${path.join(dir, 'passphrase')}'\n`,
  );
  fs.chmodSync(path.join(dir, 'passphrase'), 0o600);
  fs.chmodSync(path.join(dir, 'config.yaml'), 0o666);
  const w = await sb.cli(['backup', 'shell', 'loose']);
  expect(w.code).toBe(2);
  expect(w.stderr).toMatch(/config\.yaml is writable by other users \(mode 0666\); its hooks run as shell commands/);
  fs.chmodSync(path.join(dir, 'config.yaml'), 0o600);
  fs.chmodSync(dir, 0o755);
  const d = await sb.cli(['backup', 'borg', 'loose', '--', 'list']);
  expect(d.code).toBe(2);
  expect(d.stderr).toMatch(/job directory .* is open to other users \(mode 0755\)/);
  fs.chmodSync(dir, 0o700);
  // Whoever may rename things in the folder that holds the job could swap its config.yaml.
  const backups = path.dirname(dir);
  const before = fs.statSync(backups).mode & 0o7777;
  fs.chmodSync(backups, 0o777);
  const open = await sb.cli(['backup', 'run', 'loose']);
  fs.chmodSync(backups, before);
  expect(open.code).toBe(2);
  expect(open.stderr).toMatch(
    /^borg-provision: error: .*backups may be changed by another user \(owner uid \d+, mode 0777\)/m,
  );
  // A job directory of another user (nobody), even one that is mode 0700.
  fs.chownSync(dir, 65534, 65534);
  const theirs = await sb.cli(['backup', 'run', 'loose']);
  fs.chownSync(dir, process.getuid!(), process.getgid!());
  expect(theirs.code).toBe(2);
  expect(theirs.stderr).toMatch(/may be changed by another user \(owner uid 65534, mode 0700\)/);
  expect(archives('loose', repo)).toEqual([]);
});

describe('the way to a job and its files: refused before config.yaml is read, nothing runs', () => {
  // Each case is a job under its own --config-dir, with a before hook that leaves a marker if it
  // ran: the hook is what an attacker who could swap config.yaml would get run as root.
  const PASS = 'trust me not';
  let repo: string;
  beforeAll(() => {
    repo = path.join(sb.root, 'repos', 'trust');
    fs.mkdirSync(path.dirname(repo), { recursive: true });
    const init = spawnSync('borg', ['init', '--encryption', 'repokey-blake2', repo], {
      env: { ...process.env, ...sb.env, BORG_PASSPHRASE: PASS },
      encoding: 'utf8',
    });
    if (init.status !== 0) throw new Error(`borg init: ${init.stderr}`);
  });

  let n = 0;
  /** A job in <parent>/base-N/backups/j (parent: under sb.root unless given). */
  function isolated(parent = path.join(sb.root, 'bases')): { base: string; dir: string; marker: string } {
    fs.mkdirSync(parent, { recursive: true, mode: 0o755 });
    const base = path.join(parent, `base-${++n}`);
    const dir = path.join(base, 'backups', 'j');
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const marker = path.join(sb.root, `hook-ran-${n}`);
    fs.writeFileSync(
      path.join(dir, 'config.yaml'),
      `sources: ["${src}"]\nrepository: "${repo}"\nretries: 0\nhooks:\n  before:\n    - 'touch "${marker}"'\n`,
      { mode: 0o600 },
    );
    fs.writeFileSync(path.join(dir, 'passphrase'), `${PASS}\n`, { mode: 0o600 });
    return { base, dir, marker };
  }

  function archivesOfTrust(): string[] {
    const r = spawnSync('borg', ['list', '--short', repo], {
      env: { ...process.env, ...sb.env, BORG_PASSPHRASE: PASS },
      encoding: 'utf8',
    });
    expect(r.status).toBe(0);
    return r.stdout.split('\n').filter(Boolean);
  }

  /** `backup run j` there is refused with exit 2 and `message`, the hook not run, no archive made. */
  async function expectRefused(j: { base: string; marker: string }, message: RegExp): Promise<string> {
    const before = archivesOfTrust();
    const r = await sb.cli(['backup', 'run', 'j', '--config-dir', j.base], { timeoutMs: 20_000 });
    expect(r.stderr).toMatch(message);
    expect(r.code).toBe(2);
    expect(fs.existsSync(j.marker)).toBe(false);
    expect(archivesOfTrust()).toEqual(before);
    return r.stderr;
  }

  it('a --config-dir owned by another user (uid 1234), though mode 0700: run, shell, borg refused', async () => {
    const j = isolated();
    fs.chownSync(j.base, 1234, 1234);
    const refusal = /^borg-provision: error: .*base-\d+ may be changed by another user \(owner uid 1234, mode 0700\)/m;
    await expectRefused(j, refusal);
    const byHand = [
      ['backup', 'shell', 'j', '--config-dir', j.base],
      ['backup', 'borg', 'j', '--config-dir', j.base, '--', 'list'],
    ];
    for (const args of byHand) {
      const r = await sb.cli(args);
      expect(r.stderr).toMatch(refusal);
      expect(r.code).toBe(2);
    }
  });

  it('a folder above the --config-dir that is group-writable: refused; one with the sticky bit (like /tmp): runs', async () => {
    const parent = path.join(sb.root, 'shared');
    const j = isolated(parent);
    fs.chmodSync(parent, 0o775);
    await expectRefused(
      j,
      /^borg-provision: error: .*shared may be changed by another user \(owner uid 0, mode 0775\)/m,
    );
    // Others may add entries to a sticky folder, not rename or remove ours: the job runs.
    fs.chmodSync(parent, 0o1777);
    const ok = await sb.cli(['backup', 'run', 'j', '--config-dir', j.base]);
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    expect(fs.existsSync(j.marker)).toBe(true);
    expect(archivesOfTrust()).toHaveLength(1);
  });

  it('config.yaml that is a symlink (to a file that would pass): refused, not followed', async () => {
    const j = isolated();
    const cfg = path.join(j.dir, 'config.yaml');
    fs.renameSync(cfg, path.join(j.dir, 'real.yaml'));
    fs.symlinkSync('real.yaml', cfg);
    const err = await expectRefused(j, /config\.yaml is a symbolic link, not a regular file of the job's own/);
    expect(err).not.toMatch(/chmod|chown/);
  });

  it('config.yaml that is a FIFO: refused at once, the command does not wait for a writer', async () => {
    const j = isolated();
    const cfg = path.join(j.dir, 'config.yaml');
    fs.rmSync(cfg);
    expect(spawnSync('mkfifo', ['-m', '600', cfg]).status).toBe(0);
    await expectRefused(j, /config\.yaml is a FIFO, not a regular file of the job's own/);
    // Showing the jobs does not wait on it either: the job is listed with its error.
    const list = await sb.cli(['backup', 'list', '--config-dir', j.base], { timeoutMs: 20_000 });
    expect(list.signal).toBeNull();
    expect(list.stdout + list.stderr).toMatch(/is a FIFO/);
  }, 60_000);

  it('config.yaml owned by another user (uid 1234): refused', async () => {
    const j = isolated();
    fs.chownSync(path.join(j.dir, 'config.yaml'), 1234, 1234);
    await expectRefused(j, /config\.yaml is owned by uid 1234, not by the user running the job \(uid 0\)/);
  });

  it('a passphrase that is a symlink to a 0600 file: refused, and the hint does not chmod through it', async () => {
    const j = isolated();
    const pass = path.join(j.dir, 'passphrase');
    const target = path.join(sb.root, `elsewhere-${n}`);
    fs.renameSync(pass, target);
    fs.symlinkSync(target, pass);
    const err = await expectRefused(j, /secret .*passphrase is a symbolic link, not a regular file/);
    expect(err).not.toMatch(/chmod|chown/);
    expect(err).toMatch(/^borg-provision: hint: rm '.*passphrase' \(the link, not what it points to\)/m);
  });

  it('a passphrase owned by another user (uid 1234): refused', async () => {
    const j = isolated();
    fs.chownSync(path.join(j.dir, 'passphrase'), 1234, 1234);
    await expectRefused(j, /secret .*passphrase is owned by uid 1234, not by the user running the job \(uid 0\)/);
  });

  it('an ssh_config others may write (0666; a ProxyCommand in it would run): refused', async () => {
    const j = isolated();
    const conf = path.join(j.dir, 'ssh_config');
    fs.writeFileSync(conf, 'Host *\n', { mode: 0o600 });
    fs.chmodSync(conf, 0o666);
    await expectRefused(j, /ssh_config is writable by other users \(mode 0666\); ssh reads it/);
  });
});

it('a repository on a full tmpfs: exit 7 "disk is full", not retried, the repository still checks', async () => {
  const mnt = path.join(sb.root, 'small');
  fs.mkdirSync(mnt);
  const mount = spawnSyncOk('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', mnt]);
  if (!mount) throw new Error('this test mounts a tmpfs: run it as root (mount -t tmpfs)');
  try {
    const big = path.join(sb.root, 'big-src');
    fs.mkdirSync(big);
    makeSourceTree(big, 12);
    const repo = path.join(mnt, 'repo');
    writeJob(sb, 'full', `sources: ["${big}"]\nrepository: "${repo}"\nretries: 3\nretry_wait: 1\n`);
    expect(sb.borg('full', ['init', '--encryption', 'repokey-blake2', repo]).code).toBe(0);
    const r = await sb.cli(['backup', 'run', 'full', '--json']);
    expect(r.code).toBe(7);
    expect(r.stderr).toMatch(/^borg-provision: error: full: create failed: the repository disk is full$/m);
    expect(jsonOf<RunDoc>(r).jobs[0].steps.at(-1)).toMatchObject({ step: 'create', tries: 1 });
    expectCheckPasses('full', repo);
  } finally {
    spawnSyncOk('umount', [mnt]);
  }
});

describe('a failure after borg init keeps the job, and the same init finishes it', () => {
  /** Real borg, except that `key export` runs `body` instead; first on PATH, so init takes it. */
  function borgWithExport(label: string, body: string): NodeJS.ProcessEnv {
    const bin = path.join(sb.root, label);
    fs.mkdirSync(bin);
    fs.writeFileSync(
      path.join(bin, 'borg'),
      `#!/bin/sh\nif [ "$1" = key ] && [ "$2" = export ]; then\n${body}\nfi\nexec /usr/bin/borg "$@"\n`,
      { mode: 0o755 },
    );
    return { PATH: `${bin}:${sb.env.PATH}` };
  }

  /** The job is there with its passphrase, marked, without a key export; the passphrase opens the repository. */
  function expectKept(name: string, repo: string, stderr: string): void {
    const dir = sb.jobDir(name);
    expect(stderr).toContain(
      `\nborg-provision: hint: job ${name} and its passphrase are kept (the only way into the repository); ` +
        `to export the key, run the same init again: borg-provision backup init ${name} --repo '${repo}'\n`,
    );
    expect(fs.readdirSync(dir).sort()).toEqual(['config.yaml', 'init-key-export-pending', 'passphrase']);
    expect(sb.borg(name, ['list', repo]).code).toBe(0);
  }

  async function expectInitFinishes(name: string, repo: string): Promise<void> {
    const plan = await sb.cli(['backup', 'init', name, '--repo', repo, '--source', src, '--dry-run']);
    expect(plan.stdout.trim()).toBe(`would export the key of job ${name}'s repository ${repo}`);
    const again = await sb.cli(['backup', 'init', name, '--repo', repo, '--source', src, '--json']);
    expect(again.stderr).toBe('');
    expect(again.code).toBe(0);
    const keyExport = path.join(sb.jobDir(name), 'key-export');
    expect(jsonOf(again)).toMatchObject({
      initialized: true,
      resumed: 'key-export',
      encryption: 'repokey-blake2',
      keyExport,
    });
    expect(fs.readFileSync(keyExport, 'utf8')).toMatch(/^BORG_KEY /);
    expect(fs.statSync(keyExport).mode & 0o777).toBe(0o600);
    expect(fs.existsSync(path.join(sb.jobDir(name), 'init-key-export-pending'))).toBe(false);
    const third = await sb.cli(['backup', 'init', name, '--repo', repo, '--source', src]);
    expect(third.code).toBe(2);
    expect(third.stderr).toMatch(/backup job '.*' exists .*not overwriting it/);
  }

  it('a key export that fails: exit 7, the job stays; a run works; init again exports the key', async () => {
    const repo = path.join(sb.root, 'repos', 'kx');
    const env = borgWithExport('export-fails', "  echo 'key export refused by the test' >&2\n  exit 2");
    const r = await sb.cli(['backup', 'init', 'kx', '--repo', repo, '--source', src], { env });
    expect(r.code).toBe(7);
    expect(r.stderr).toMatch(
      /^borg-provision: error: job kx: repository .* is initialised but its key is not exported: borg key export failed: .+$/m,
    );
    expectKept('kx', repo, r.stderr);
    const run = await sb.cli(['backup', 'run', 'kx', '--json']);
    expect(run.code).toBe(0);
    await expectInitFinishes('kx', repo);
    expect(archives('kx', repo)).toHaveLength(1);
  });

  it('SIGINT during the key export: exit 130, the job stays; init again exports the key', async () => {
    const repo = path.join(sb.root, 'repos', 'kxint');
    const started = path.join(sb.root, 'export-started');
    const env = borgWithExport('export-waits', `  touch '${started}'\n  exec sleep 60`);
    let child: ChildProcess | null = null;
    const done = sb.cli(['backup', 'init', 'kxint', '--repo', repo, '--source', src], {
      env,
      onSpawn: (c) => (child = c),
    });
    await waitFor('the key export to start', () => fs.existsSync(started));
    child!.kill('SIGINT');
    const r = await done;
    expect(r.code).toBe(130);
    expect(r.stderr).toMatch(
      /^borg-provision: error: interrupted; job kxint: repository .* is initialised but its key is not exported$/m,
    );
    expectKept('kxint', repo, r.stderr);
    await expectInitFinishes('kxint', repo);
  });
});

it('a lock whose pid now runs another process is taken over; one naming a live owner means exit 9', async () => {
  const { repo } = job('reused');
  const lock = path.join(sb.env.XDG_STATE_HOME!, 'borg-provision', 'locks', `${stateKey('reused', sb.configDir)}.lock`);
  fs.mkdirSync(path.dirname(lock), { recursive: true, mode: 0o700 });
  const boot = fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  // The process that has the pid now: a lock naming it with another start time was left by a
  // killed run whose pid the kernel handed out again.
  const other = spawn('/bin/sleep', ['300'], { stdio: 'ignore' });
  try {
    await new Promise((resolve) => other.once('spawn', resolve));
    const stat = fs.readFileSync(`/proc/${other.pid}/stat`, 'utf8');
    const start = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
    for (const live of [`${other.pid} ${boot} ${start}\n`, `${other.pid} ${boot}\n`]) {
      // Its real owner (the second as an older version wrote it, without a start time): busy.
      fs.writeFileSync(lock, live);
      const busy = await sb.cli(['backup', 'run', 'reused']);
      expect(busy.code).toBe(9);
      expect(busy.stderr).toContain(`backup job 'reused' is already running (pid ${other.pid})`);
    }
    fs.writeFileSync(lock, `${other.pid} ${boot} ${start - 1}\n`);
    const r = await sb.cli(['backup', 'run', 'reused']);
    expect(r.code).toBe(0);
    expect(fs.existsSync(lock)).toBe(false);
    expect(archives('reused', repo)).toHaveLength(1);
  } finally {
    other.kill('SIGKILL');
  }
});

describe('backup shell waits for its shell, whatever signals come', () => {
  /**
   * A stand-in for $SHELL, in node so that its handling of signals is exact: it notes its pid and
   * each SIGINT it gets in `<base>.pid` and `<base>.ints`; `onInt` is what it does on the first.
   */
  function shellScript(base: string, onInt: string | null): string {
    const file = `${base}.js`;
    const handler = onInt
      ? `let n = 0; process.on('SIGINT', () => { fs.appendFileSync('${base}.ints', 'INT\\n'); if (n++ === 0) ${onInt}; });`
      : '';
    fs.writeFileSync(
      file,
      `#!${process.execPath}\nconst fs = require('fs');\n${handler}\n` +
        `fs.writeFileSync('${base}.pid', String(process.pid));\nsetInterval(() => undefined, 1000);\n`,
      { mode: 0o755 },
    );
    return file;
  }

  async function pidOf(base: string): Promise<number> {
    const text = await waitFor(
      'the shell to start',
      () => fs.existsSync(`${base}.pid`) && fs.readFileSync(`${base}.pid`, 'utf8'),
    );
    return Number(text);
  }

  beforeAll(() => {
    writeJob(sb, 'by-hand', `sources: ["${src}"]\nrepository: "${path.join(sb.root, 'repos', 'by-hand')}"\n`);
  });

  it("Ctrl-C twice: the shell's to handle; borg-provision waits and exits with the shell's 0", async () => {
    const base = path.join(sb.root, 'int-shell');
    const shell = shellScript(base, 'setTimeout(() => process.exit(0), 1000)');
    let child: ChildProcess | null = null;
    const done = sb.cli(['backup', 'shell', 'by-hand'], {
      env: { SHELL: shell },
      timeoutMs: 20_000,
      detached: true,
      onSpawn: (c) => (child = c),
    });
    try {
      const shellPid = await pidOf(base);
      // As the terminal does: to the whole foreground process group, borg-provision and its shell.
      const started = Date.now();
      process.kill(-child!.pid!, 'SIGINT');
      await waitFor('the shell to get the first SIGINT', () => fs.existsSync(`${base}.ints`));
      process.kill(-child!.pid!, 'SIGINT');
      await waitFor(
        'the shell to get the second SIGINT',
        () => fs.readFileSync(`${base}.ints`, 'utf8') === 'INT\nINT\n',
      );
      const r = await done;
      expect([r.code, r.signal]).toEqual([0, null]);
      expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
      expect(gone(shellPid)).toBe(true);
    } finally {
      try {
        process.kill(-child!.pid!, 'SIGKILL');
      } catch {
        // the group is gone: nothing left running
      }
    }
  });

  it('a shell ended by a signal gives 128 + its number: SIGTERM, passed on to the shell, is exit 143', async () => {
    const base = path.join(sb.root, 'term-shell');
    const shell = shellScript(base, null);
    let child: ChildProcess | null = null;
    const done = sb.cli(['backup', 'shell', 'by-hand'], {
      env: { SHELL: shell },
      timeoutMs: 20_000,
      onSpawn: (c) => (child = c),
    });
    const shellPid = await pidOf(base);
    try {
      // To borg-provision alone (as `kill` or a service manager sends it): the shell would not see it.
      child!.kill('SIGTERM');
      const r = await done;
      expect([r.code, r.signal]).toEqual([143, null]);
      expect(gone(shellPid)).toBe(true);
    } finally {
      if (!gone(shellPid)) process.kill(shellPid, 'SIGKILL');
    }
  });
});

describe('interrupts and concurrency (a large source, so create takes a while)', () => {
  let repo: string;
  let cfg: string;
  let original: string;
  let fifo: string;
  beforeAll(() => {
    const big = path.join(sb.root, 'large');
    fs.mkdirSync(big);
    makeSourceTree(big, 200);
    repo = job('large', 'create_options: [--compression, none]\n', [big]).repo;
    cfg = path.join(sb.jobDir('large'), 'config.yaml');
    original = fs.readFileSync(cfg, 'utf8');
    fifo = path.join(sb.root, 'never-written');
    spawnSyncOk('mkfifo', [fifo]);
  });

  /**
   * Starts a run whose create cannot finish: after the tree, borg reads a FIFO that nobody writes
   * (--read-special). It is "during create" once borg has listed a stored file (--list, in the run
   * log): a signal earlier, while borg is still taking the lock, is borg's own window (it can leave
   * a stale lock, which borg removes at its next run).
   */
  async function runUntilCreating(
    extra = '',
    flags: string[] = [],
  ): Promise<{
    child: () => ChildProcess;
    done: Promise<import('../helpers/cli').CliResult>;
  }> {
    const blocking =
      original
        .replace('repository:', `  - "${fifo}"\nrepository:`)
        .replace(
          'create_options: [--compression, none]',
          'create_options: [--compression, none, --read-special, --list]',
        ) + extra;
    fs.writeFileSync(cfg, blocking, { mode: 0o600 });
    const logsBefore = new Set(sb.logs());
    let child: ChildProcess | null = null;
    const done = sb.cli(['backup', 'run', 'large', ...flags], { onSpawn: (c) => (child = c) });
    done.finally(() => fs.writeFileSync(cfg, original, { mode: 0o600 })).catch(() => undefined);
    try {
      const log = await waitFor('the run log', () => sb.logs().find((l) => !logsBefore.has(l)));
      await waitFor('borg create to store a file', () => /^.*create: A /m.test(fs.readFileSync(log, 'utf8')), 120_000);
    } catch (err) {
      (child as ChildProcess | null)?.kill('SIGKILL');
      throw err;
    }
    return { child: () => child!, done };
  }

  it.each(['SIGINT', 'SIGTERM'] as const)(
    '%s during create: exit 130, borg rolled back, the lock released',
    async (sig) => {
      const run = await runUntilCreating();
      run.child().kill(sig);
      const r = await run.done;
      expect(r.code).toBe(130);
      expect(r.stderr).toMatch(
        /^borg-provision: error: interrupted; borg was stopped and rolled back, the next run starts clean$/m,
      );
      expect(fs.existsSync(path.join(repo, 'lock.exclusive'))).toBe(false);
      expect(archives('large', repo)).toEqual([]);
      const list = jsonOf<{ jobs: { name: string; lastRun: { result: string } }[] }>(
        await sb.cli(['backup', 'list', '--json']),
      );
      expect(list.jobs.find((j) => j.name === 'large')?.lastRun.result).toBe('interrupted');
      expectCheckPasses('large', repo);
    },
  );

  it('a borg that finishes as the signal comes keeps its archive; the run stops before the next step', async () => {
    // A stand-in for borg committing as SIGTERM lands: it ignores the signal and ends with exit 0.
    const started = path.join(sb.root, 'finishing-started');
    const calls = path.join(sb.root, 'finishing-calls');
    const fake = path.join(sb.root, 'finishing-borg');
    fs.writeFileSync(
      fake,
      `#!/bin/sh\ntrap '' TERM INT\necho "$1" >> '${calls}'\n` +
        `[ "$1" = create ] && { touch '${started}'; sleep 2; echo '{"archive":{"name":"fin-1","stats":{}}}'; }\nexit 0\n`,
      { mode: 0o755 },
    );
    job('finishing', `borg: "${fake}"\nretention: {keep_last: 3}\n`);
    let child: ChildProcess | null = null;
    const done = sb.cli(['backup', 'run', 'finishing', '--json'], { onSpawn: (c) => (child = c) });
    await waitFor('the stand-in create to start', () => fs.existsSync(started));
    child!.kill('SIGTERM');
    const r = await done;
    expect(r.code).toBe(130);
    expect(r.stderr).toMatch(/^borg-provision: error: interrupted; nothing was left half-written$/m);
    expect(r.stderr).not.toMatch(/rolled back/);
    expect(fs.readFileSync(calls, 'utf8')).toBe('create\n');
    const list = jsonOf<{ jobs: { name: string; lastRun: { result: string; archive: string | null } }[] }>(
      await sb.cli(['backup', 'list', '--json']),
    );
    expect(list.jobs.find((j) => j.name === 'finishing')?.lastRun).toMatchObject({
      result: 'interrupted',
      archive: 'fin-1',
    });
  });

  it('two runs of one job at once: the second exits 9, the first (after the interrupts) succeeds', async () => {
    // The first run waits in a before hook until the second has been refused.
    const release = path.join(sb.root, 'release-first');
    const cfg = path.join(sb.jobDir('large'), 'config.yaml');
    const original = fs.readFileSync(cfg, 'utf8');
    const hook = `hooks:\n  before:\n    - 'while [ ! -e "${release}" ]; do sleep 0.1; done'\n`;
    fs.writeFileSync(cfg, original + hook, { mode: 0o600 });
    const logsBefore = new Set(sb.logs());
    const first = sb.cli(['backup', 'run', 'large', '--json']);
    const log = await waitFor('the first run log', () => sb.logs().find((l) => !logsBefore.has(l)));
    await waitFor('the first run to be in its hook', () =>
      /before hook 1 of 1: started/.test(fs.readFileSync(log, 'utf8')),
    );
    const second = await sb.cli(['backup', 'run', 'large']);
    fs.writeFileSync(release, '');
    expect(second.code).toBe(9);
    expect(second.stderr).toMatch(/^borg-provision: error: backup job 'large' is already running \(pid \d+\)$/m);
    const r = await first;
    fs.writeFileSync(cfg, original, { mode: 0o600 });
    expect(r.code).toBe(0);
    expect(jsonOf<RunDoc>(r).jobs[0].result).toBe('success');
    expect(archives('large', repo)).toHaveLength(1);
    expectCheckPasses('large', repo);
  });

  it('SIGTERM twice during create: the second does not cut the stop short; exit 130, state written, nothing left', async () => {
    // Real borg behind a wrapper that waits a second before passing SIGTERM on: the second signal
    // then surely comes while borg-provision is still stopping.
    const pids = path.join(sb.root, 'slow-stop-pids');
    const stopping = path.join(sb.root, 'slow-stop-started');
    const wrapper = path.join(sb.root, 'slow-stop-borg');
    fs.writeFileSync(
      wrapper,
      `#!/bin/sh\n/usr/bin/borg "$@" &\nborg=$!\necho "$$ $borg" >> '${pids}'\n` +
        `trap 'touch "${stopping}"; sleep 1; kill -TERM $borg' TERM\nwait $borg\nrc=$?\n` +
        // A wait cut short by the trap returns at once: borg's own status comes from a second wait.
        `[ -e '${stopping}' ] && { wait $borg; rc=$?; }\nexit $rc\n`,
      { mode: 0o755 },
    );
    const run = await runUntilCreating(`borg: "${wrapper}"\n`, ['--verbose']);
    run.child().kill('SIGTERM');
    await waitFor('the wrapper to get the SIGTERM', () => fs.existsSync(stopping));
    run.child().kill('SIGTERM');
    const r = await run.done;
    expect([r.code, r.signal]).toEqual([130, null]);
    // With --verbose the second signal is noted, and nothing else comes of it.
    expect(r.stderr).toMatch(/SIGTERM again: still stopping$/m);
    expect(r.stderr).toMatch(/^borg-provision: error: interrupted; borg was stopped and rolled back/m);
    const started = fs.readFileSync(pids, 'utf8').trim().split(/\s+/).map(Number);
    expect(started.filter((p) => !gone(p))).toEqual([]);
    const locks = path.join(sb.env.XDG_STATE_HOME!, 'borg-provision', 'locks');
    expect(fs.readdirSync(locks).filter((n) => n.endsWith('.lock'))).toEqual([]);
    const list = jsonOf<{ jobs: { name: string; lastRun: { result: string } }[] }>(
      await sb.cli(['backup', 'list', '--json']),
    );
    expect(list.jobs.find((j) => j.name === 'large')?.lastRun.result).toBe('interrupted');
    expect(fs.existsSync(path.join(repo, 'lock.exclusive'))).toBe(false);
    const next = await sb.cli(['backup', 'run', 'large']);
    expect(next.code).toBe(0);
    expectCheckPasses('large', repo);
  });
});

/** True once no process has this pid. */
function gone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch {
    return true;
  }
}

function spawnSyncOk(cmd: string, args: string[]): boolean {
  const { spawnSync } = require('node:child_process') as typeof import('node:child_process');
  return spawnSync(cmd, args, { stdio: 'ignore' }).status === 0;
}
