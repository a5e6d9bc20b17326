// A throw-away user for backup tests: HOME and XDG_* in a temp dir (borg's own cache and security
// dirs land there too), the CLI run against it, and real borg to look into the repositories.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runCli, type CliOptions, type CliResult } from './cli';
import { requireTool } from './tools';

export interface BackupSandbox {
  root: string;
  home: string;
  configDir: string;
  env: NodeJS.ProcessEnv;
  cli(args: string[], o?: CliOptions): Promise<CliResult>;
  jobDir(name: string): string;
  /** Real borg with a job's passphrase file (and ssh key), for checking what the runner did. */
  borg(
    name: string,
    args: string[],
    extraEnv?: NodeJS.ProcessEnv,
  ): { code: number | null; stdout: string; stderr: string };
  /** `borg init` of a new local repokey-blake2 repository `repo` with the job's passphrase (throws on failure). */
  initRepo(name: string, repo: string): void;
  /** The archive names in `repo`, read with the job's secrets. */
  archives(name: string, repo: string): string[];
  /** `borg check` of `repo` with the job's secrets: what a repository that lost nothing passes. */
  check(name: string, repo: string): { code: number | null; stderr: string };
  logs(): string[];
  cleanup(): void;
}

export function makeBackupSandbox(label = 'backup'): BackupSandbox {
  requireTool('borg', 'borgbackup');
  const root = fs.mkdtempSync(path.join(os.tmpdir(), `bp ${label} `));
  const home = path.join(root, 'home');
  fs.mkdirSync(home, { recursive: true });
  const configDir = path.join(home, '.config', 'borg-provision');
  const env: NodeJS.ProcessEnv = {
    HOME: home,
    XDG_CONFIG_HOME: path.join(home, '.config'),
    XDG_STATE_HOME: path.join(home, '.local', 'state'),
    XDG_CACHE_HOME: path.join(home, '.cache'),
    PATH: '/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin',
    BORG_PASSPHRASE: '',
  };
  const jobDir = (name: string): string => path.join(configDir, 'backups', name);
  const sb: BackupSandbox = {
    root,
    home,
    configDir,
    env,
    jobDir,
    cli: (args, o = {}) => runCli(args, { timeoutMs: 120_000, ...o, env: { ...env, ...o.env } }),
    borg(name, args, extraEnv = {}) {
      const dir = jobDir(name);
      const pass = fs.existsSync(path.join(dir, 'passphrase')) ? 'passphrase' : 'BORGKeyPassword.file';
      const key = ['ssh_key', 'SSHKey.pem'].map((k) => path.join(dir, k)).find((k) => fs.existsSync(k));
      const benv: NodeJS.ProcessEnv = {
        ...process.env,
        ...env,
        BORG_PASSPHRASE: undefined,
        BORG_PASSCOMMAND: `cat '${path.join(dir, pass)}'`,
        BORG_KEY_FILE: path.join(dir, pass === 'passphrase' ? 'keyfile' : 'BORGKey.bak'),
        ...(key
          ? {
              BORG_RSH:
                `ssh -i '${key}' -o BatchMode=yes -o StrictHostKeyChecking=no ` +
                '-o UserKnownHostsFile=/dev/null -o LogLevel=ERROR',
            }
          : {}),
        ...extraEnv,
      };
      delete benv.BORG_PASSPHRASE;
      const r = spawnSync('borg', args, { env: benv, encoding: 'utf8', cwd: root });
      return { code: r.status, stdout: r.stdout, stderr: r.stderr };
    },
    initRepo(name, repo) {
      fs.mkdirSync(path.dirname(repo), { recursive: true });
      const init = sb.borg(name, ['init', '--encryption', 'repokey-blake2', repo]);
      if (init.code !== 0) throw new Error(`borg init: ${init.stderr}`);
    },
    archives: (name, repo) => sb.borg(name, ['list', '--short', repo]).stdout.split('\n').filter(Boolean),
    check(name, repo) {
      const r = sb.borg(name, ['check', repo]);
      return { code: r.code, stderr: r.stderr };
    },
    logs() {
      const dir = path.join(home, '.local', 'state', 'borg-provision', 'logs');
      return fs.existsSync(dir)
        ? fs
            .readdirSync(dir)
            .sort()
            .map((f) => path.join(dir, f))
        : [];
    },
    cleanup: () => fs.rmSync(root, { recursive: true, force: true }),
  };
  return sb;
}

/** Writes a job's config.yaml with the modes a job must have (dir 0700, config 0600). */
export function writeJob(
  sb: BackupSandbox,
  name: string,
  yaml: string,
  passphrase = 'correct horse battery staple',
): string {
  const dir = sb.jobDir(name);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  fs.chmodSync(path.dirname(dir), 0o700);
  fs.writeFileSync(path.join(dir, 'config.yaml'), yaml, { mode: 0o600 });
  if (!fs.existsSync(path.join(dir, 'passphrase')))
    fs.writeFileSync(path.join(dir, 'passphrase'), `${passphrase}\n`, { mode: 0o600 });
  return dir;
}

/** A small source tree with text, binary, empty and nested files, and a symlink. */
export function makeSourceTree(dir: string, bigMb = 0): void {
  fs.mkdirSync(path.join(dir, 'sub', 'deeper'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'a.txt'), 'hello backup\n');
  fs.writeFileSync(path.join(dir, 'empty'), '');
  fs.writeFileSync(
    path.join(dir, 'sub', 'bin.dat'),
    Buffer.from(Array.from({ length: 70_000 }, (_, i) => (i * 7919) % 251)),
  );
  fs.writeFileSync(path.join(dir, 'sub', 'deeper', 'name with spaces.txt'), 'spaces\n');
  fs.symlinkSync('a.txt', path.join(dir, 'link'));
  if (bigMb > 0) {
    // Random data does not compress or deduplicate: create takes a while, long enough to interrupt.
    const fd = fs.openSync(path.join(dir, 'big.bin'), 'w');
    const { randomFillSync } = require('node:crypto') as typeof import('node:crypto');
    const buf = Buffer.alloc(1 << 20);
    for (let i = 0; i < bigMb; i++) fs.writeSync(fd, randomFillSync(buf));
    fs.closeSync(fd);
  }
}

/** Every file under dir as relative path -> content (symlinks as "-> target"), sorted. */
export function treeContents(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      const rel = path.relative(dir, p);
      if (e.isSymbolicLink()) out[rel] = `-> ${fs.readlinkSync(p)}`;
      else if (e.isDirectory()) walk(p);
      else out[rel] = fs.readFileSync(p).toString('base64');
    }
  };
  walk(dir);
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => a.localeCompare(b)));
}

/** Waits until `probe` returns a value (polling), or fails after `ms` naming what it waited for. */
export async function waitFor<T>(what: string, probe: () => T | null | undefined | false, ms = 60_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = probe();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
