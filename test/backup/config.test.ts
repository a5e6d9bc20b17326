// The job config: both formats resolve, every bad input names file, line and key (exit 2 through
// the CLI in the fault tests), the published JSON Schema is the zod schema's, and borg failures
// are classified as they should be for retries.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import {
  archiveGlob,
  classify,
  defaultBorg,
  nativeJsonSchema,
  parseDuration,
  parseJob,
  pruneArgs,
  sshArgs,
} from '../../src/backup';
import { requireTool } from '../helpers/tools';
import { JobConfigError } from '../../src/errors';
import { repoRoot } from '../helpers/cli';
import { ORIGIN_CONFIG } from '../helpers/origin-config';

const DIR = '/cfg/backups/j';
const FILE = `${DIR}/config.yaml`;
const env = { HOME: '/home/u', DATA: '/srv/data' };
const parse = (text: string) => parseJob('j', DIR, FILE, text, env);

function errorOf(text: string): JobConfigError {
  try {
    parse(text);
  } catch (err) {
    if (err instanceof JobConfigError) return err;
    throw err;
  }
  throw new Error('expected a JobConfigError');
}

describe('native config', () => {
  it('fills defaults and expands $VARS and ~ in sources', () => {
    const j = parse('sources: [$DATA/a, ~/b, "${DATA}/c"]\nrepository: /r\nretention: {keep_daily: 3}\n');
    expect(j.sources).toEqual(['/srv/data/a', '/home/u/b', '/srv/data/c']);
    // A relative source is the job's, as the repository is: not the scheduler's working directory.
    expect(parse('sources: [data, ../shared]\nrepository: repo\n')).toMatchObject({
      sources: [`${DIR}/data`, '/cfg/backups/shared'],
      repository: `${DIR}/repo`,
    });
    expect(j.archiveName).toBe('{hostname}-{now}');
    expect(j.retention).toEqual({ keep_daily: 3 });
    expect(j.compact).toBe(true);
    expect(j.retries).toEqual({ create: 0, prune: 0, compact: 0, check: 0 });
    expect(j.secrets.passphrase).toBe(`${DIR}/passphrase`);
    expect(j.secrets.sshKey).toBeNull();
    expect(j.remote).toBe(false);
  });

  it('turns compression, excludes and one_file_system into create options, before the extra ones', () => {
    const j = parse(
      'sources: [/a]\nrepository: ssh://u@h:2222/r\ncompression: zstd,3\nexclude_patterns: ["*.tmp"]\n' +
        'one_file_system: true\ncreate_options: [--noatime]\n',
    );
    expect(j.createOptions).toEqual([
      '--compression',
      'zstd,3',
      '--exclude',
      '*.tmp',
      '--one-file-system',
      '--noatime',
    ]);
    expect(j.remote).toBe(true);
    expect(j.secrets.sshKey).toBe(`${DIR}/ssh_key`);
  });

  it("reads borg's scp-like [user@]host:path as remote, as borg does; a path with a colon after a slash stays local", () => {
    const repo = (r: string) => parse(`sources: [/a]\nrepository: "${r}"\n`);
    for (const r of ['u@backup.example.net:repo', 'nas2:/srv/borg', 'u@[fd00::2]:borg']) {
      expect(repo(r)).toMatchObject({ remote: true, repository: r, secrets: { sshKey: `${DIR}/ssh_key` } });
    }
    expect(repo('/mnt/tank/a:b')).toMatchObject({ remote: false, repository: '/mnt/tank/a:b' });
    expect(repo('./repo:1')).toMatchObject({ remote: false, repository: `${DIR}/repo:1`, secrets: { sshKey: null } });
  });

  it('reads check frequencies into milliseconds', () => {
    const j = parse(
      'sources: [/a]\nrepository: /r\nchecks:\n  - name: repository\n    frequency: 2 weeks\n  - name: data\n',
    );
    expect(j.checks).toEqual([
      { name: 'repository', frequency: '2 weeks', everyMs: 14 * 86_400_000 },
      { name: 'data', frequency: 'always', everyMs: 0 },
    ]);
  });

  it('names the line, the key and a near known key for a typo', () => {
    const e = errorOf('sources: [/a]\nrepository: /r\nretention:\n  keep_daly: 7\n');
    expect(e.message).toBe(`${FILE}:4: unknown key 'retention.keep_daly'`);
    expect(e.hint).toMatch(/did you mean 'keep_daily'/);
    expect(e.exitCode).toBe(2);
  });

  it('names a typo inside a list item with the keys an item has', () => {
    const e = errorOf('sources: [/a]\nrepository: /r\nchecks:\n  - name: data\n    frequncy: 2 weeks\n');
    expect(e.message).toBe(`${FILE}:5: unknown key 'checks.0.frequncy'`);
    expect(e.hint).toBe("did you mean 'frequency'? (config.yaml keys: name, frequency)");
  });

  it('names a top-level typo with the keys that exist', () => {
    const e = errorOf('sources: [/a]\nrepository: /r\nretries: 2\nretry_wiat: 5\n');
    expect(e.message).toBe(`${FILE}:4: unknown key 'retry_wiat'`);
    expect(e.hint).toMatch(/retry_wait/);
  });

  it('says a required key is missing', () => {
    expect(errorOf('sources: [/a]\n').message).toMatch(/^\/cfg\/backups\/j\/config\.yaml:1: repository: is required/);
  });

  it('names the line of a value of the wrong type', () => {
    const e = errorOf('sources: [/a]\nrepository: /r\nretries: many\n');
    expect(e.message).toMatch(/config\.yaml:3: retries: .*number/);
  });

  it('refuses a bad check name, frequency unit and keep_within', () => {
    expect(errorOf('sources: [/a]\nrepository: /r\nchecks:\n  - name: spot\n').message).toMatch(/:4: checks\.0\.name:/);
    expect(
      errorOf('sources: [/a]\nrepository: /r\nchecks:\n  - name: data\n    frequency: 3 fortnights\n').message,
    ).toMatch(/:5: checks\.0\.frequency: unknown unit/);
    expect(errorOf('sources: [/a]\nrepository: /r\nretention: {keep_within: 3 days}\n').message).toMatch(
      /:3: retention\.keep_within/,
    );
    // Seconds are no unit of borg 1.2's prune --keep-within.
    expect(errorOf('sources: [/a]\nrepository: /r\nretention: {keep_within: 90S}\n').message).toMatch(
      /:3: retention\.keep_within: '90S' is not a borg interval/,
    );
  });

  it('refuses a bare m as a check frequency (keep_within reads m as months), accepts it written out', () => {
    const e = errorOf('sources: [/a]\nrepository: /r\nchecks:\n  - name: data\n    frequency: 1m\n');
    expect(e.message).toMatch(/:5: checks\.0\.frequency: '1m' could mean minutes or months/);
    expect(e.hint).toMatch(/1 month/);
    const ok = (f: string): number =>
      parse(`sources: [/a]\nrepository: /r\nchecks:\n  - name: data\n    frequency: ${f}\n`).checks[0].everyMs;
    expect(ok('1 month')).toBe(30 * 86_400_000);
    expect(ok('30 minutes')).toBe(30 * 60_000);
    expect(ok('30min')).toBe(30 * 60_000);
  });

  it('refuses YAML that does not parse, and a file that is not a mapping', () => {
    expect(errorOf('sources: [/a\nrepository: /r\n').message).toMatch(/config\.yaml:\d+: not valid YAML/);
    expect(errorOf('- a\n- b\n').message).toMatch(/config\.yaml:1: expected a mapping/);
    expect(errorOf('').message).toMatch(/an empty file/);
  });

  it('refuses a ping_url that is not http(s)', () => {
    expect(errorOf('sources: [/a]\nrepository: /r\nping_url: ftp://x/y\n').message).toMatch(/:3: ping_url:/);
  });
});

describe('origin runner format', () => {
  const origin = ORIGIN_CONFIG;

  it('means what the origin script did', () => {
    const j = parse(origin);
    expect(j.format).toBe('origin');
    expect(j.sources).toEqual(['/home/u/backup_scripts']);
    expect(j.repository).toBe('ssh://server/./subdir');
    expect(j.createOptions).toEqual(['-C', 'lzma,9']);
    expect(j.pruneOptions).toEqual(['--lock-wait', '60']);
    expect(j.retention).toEqual({ keep_daily: 7, keep_weekly: 4, keep_monthly: 6, keep_yearly: 2 });
    expect(j.retries.create).toBe(2);
    expect(j.retries.prune).toBe(2);
    expect(j.secrets).toMatchObject({
      passphrase: `${DIR}/BORGKeyPassword.file`,
      sshKey: `${DIR}/SSHKey.pem`,
      keyFile: `${DIR}/BORGKey.bak`,
    });
  });

  it('is strict too', () => {
    expect(errorOf(origin.replace('cleanup:\n  daily', 'cleanup:\n  dayly')).message).toMatch(
      /:8: unknown key 'cleanup\.dayly'/,
    );
  });
});

describe('published JSON Schema', () => {
  it('docs/backup-config.schema.json is the schema the runner validates with', () => {
    const published = JSON.parse(fs.readFileSync(path.join(repoRoot, 'docs', 'backup-config.schema.json'), 'utf8'));
    expect(published).toEqual(nativeJsonSchema());
    expect(published.additionalProperties).toBe(false);
  });
});

describe('durations', () => {
  it.each([
    ['2 weeks', 1_209_600_000],
    ['12h', 43_200_000],
    ['1 day', 86_400_000],
    ['30 minutes', 1_800_000],
  ])('%s', (t, ms) => {
    expect(parseDuration(t)).toBe(ms);
  });
  it('rejects what is not a duration', () => {
    expect(parseDuration('soon')).toBeNull();
    expect(parseDuration('3 fortnights')).toBeNull();
  });
});

describe('which borg failures are retried', () => {
  const r = (rc: number, stderr: string) => classify({ rc, stdout: '', stderr });
  it('retries a lock timeout, a closed connection, ssh not connecting (borg 1.2: exit 2 + stderr)', () => {
    expect(r(2, 'Failed to create/acquire the lock /r/lock.exclusive (timeout).\n').kind).toBe('transient');
    expect(
      r(2, 'Remote: ssh: connect to host 127.0.0.1 port 2: Connection refused\nConnection closed by remote host\n')
        .kind,
    ).toBe('transient');
    expect(r(2, 'Connection closed by remote host\n').kind).toBe('transient');
  });
  it('retries by modern exit code (borg >= 1.4)', () => {
    expect(r(73, 'whatever').kind).toBe('transient');
    expect(r(80, '').kind).toBe('transient');
    expect(r(87, '').kind).toBe('transient');
    // LockFailed: the lock could not be made at all (permissions, read-only): no try will do better.
    expect(r(72, 'Failed to create/acquire the lock /r/lock.exclusive ([Errno 13] Permission denied)').kind).toBe(
      'permanent',
    );
  });
  it('does not retry a wrong passphrase, a missing repository, a refused key, a full disk', () => {
    expect(
      r(2, 'passphrase supplied in BORG_PASSPHRASE, by BORG_PASSCOMMAND or via BORG_PASSPHRASE_FD is incorrect.\n'),
    ).toMatchObject({ kind: 'permanent', reason: 'wrong passphrase' });
    expect(
      r(52, 'Passphrase supplied in BORG_PASSPHRASE, by BORG_PASSCOMMAND, or via BORG_PASSPHRASE_FD is incorrect.'),
    ).toMatchObject({ kind: 'permanent' });
    expect(r(2, 'Repository /x does not exist.\n')).toMatchObject({
      kind: 'permanent',
      reason: 'the repository does not exist',
    });
    expect(r(2, 'root@127.0.0.1: Permission denied (publickey).\nConnection closed by remote host\n')).toMatchObject({
      kind: 'permanent',
    });
    expect(r(2, 'OSError: [Errno 28] No space left on device\n')).toMatchObject({ kind: 'permanent' });
  });
  it('calls exit 1 and modern 100-125 warnings; 126 and 127 (a shell could not start borg) fail', () => {
    expect(r(1, 'file changed while we backed it up\n').kind).toBe('warning');
    expect(r(107, '').kind).toBe('warning');
    // What install's wrapper says with no current borg, or a borg on a noexec mount.
    expect(r(127, 'borg: no current borg version in /root/borg\n')).toMatchObject({
      kind: 'permanent',
      reason: 'borg could not be started (exit 127: borg: no current borg version in /root/borg)',
    });
    expect(r(126, '').kind).toBe('permanent');
  });
  it('a borg that cannot start is permanent', () => {
    const err = Object.assign(new Error('spawn borg ENOENT'), { code: 'ENOENT' });
    expect(classify({ rc: 127, stdout: '', stderr: '', spawnError: err }).kind).toBe('permanent');
  });
});

describe('the default borg', () => {
  it("looks in install's default bin dir", () => {
    // borg-binary.ts reads the util/xdg rule that the install stage exports as defaultBinDir.
    const { defaultBinDir } = jest.requireActual('../../src/install') as typeof import('../../src/install');
    const e = { HOME: '/home/someone' };
    expect(defaultBorg(e)).toBe('borg');
    expect(defaultBinDir(e)).toBe(path.join('/home/someone', '.local', 'bin'));
  });
});

describe("the job's ssh options", () => {
  it('name the known_hosts file exactly, spaces and all; a % in the job path is refused', () => {
    requireTool('ssh', 'openssh-client');
    const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'my jobs ')), 'j');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'ssh_key'), 'not a key\n', { mode: 0o600 });
    const job = parseJob('j', dir, `${dir}/config.yaml`, 'sources: [/a]\nrepository: ssh://u@h:2222/r\n', env);
    const [ssh, ...args] = sshArgs(job);
    // ssh -G prints the options it would use, after its own token expansion and list splitting.
    const r = spawnSync(ssh, ['-G', ...args, 'example.invalid'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    const opt = (name: string) =>
      r.stdout
        .split('\n')
        .filter((l) => l.startsWith(`${name} `))
        .map((l) => l.slice(name.length + 1));
    expect(opt('userknownhostsfile')).toEqual([`${dir}/known_hosts`]);
    expect(opt('identityfile')).toContain(`${dir}/ssh_key`);
    fs.rmSync(path.dirname(dir), { recursive: true, force: true });
    const odd = '/cfg/100%/j';
    const bad = parseJob('j', odd, `${odd}/config.yaml`, 'sources: [/a]\nrepository: ssh://u@h/r\n', env);
    expect(() => sshArgs(bad)).toThrow(JobConfigError);
  });
});

describe("prune keeps to the job's own archives", () => {
  it('by a glob made of archive_name, unless the name matches all or the options choose already', () => {
    expect(archiveGlob('{hostname}-{now}')).toBe('{hostname}-*');
    expect(archiveGlob('nas-{hostname}-{now:%Y-%m-%d}-{uuid4}')).toBe('nas-{hostname}-*-*');
    expect(archiveGlob('{now}')).toBeNull();
    const args = (yaml: string) => pruneArgs({ job: parse(`sources: [/a]\nrepository: /r\n${yaml}`) });
    expect(args("archive_name: 'nas-{now}'\nretention: {keep_daily: 7}\n")).toEqual([
      'prune',
      '--list',
      '--lock-wait',
      '60',
      '--glob-archives',
      'nas-*',
      '--keep-daily=7',
    ]);
    const chosen = args("archive_name: 'nas-{now}'\nretention: {keep_daily: 7}\nprune_options: ['--prefix', 'x']\n");
    expect(chosen).not.toContain('--glob-archives');
  });
});
