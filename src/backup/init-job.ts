// `backup init NAME --repo URL`: writes the job (config.yaml, a random passphrase file, for ssh://
// an ed25519 key), runs `borg init`, then (unless unencrypted) `borg key export` into the job. It
// never overwrites a job or a repository. For ssh:// the server must first accept the new key: when
// it refuses, the job stays, marked init-pending, the authorized_keys line is returned, and running
// init again finishes.
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { stringify } from 'yaml';
import { shQuoteForDisplay } from '../util/text';
import { BackupFailedError, UsageError, filesystemError } from '../errors';
import { runLogged } from './borg-process';
import { borgOf } from './borg-binary';
import { borgEnvironment, sshArgs } from './borg-env';
import { classify } from './classify';
import { loadJob } from './config-load';
import { isRemoteRepository, type JobConfig } from './job-config';
import { jobConfigFile, jobDir, jobExists } from './job-paths';
import { makeDirs } from '../util/make-dirs';

export const ENCRYPTIONS = ['repokey-blake2', 'keyfile-blake2', 'repokey', 'keyfile', 'none'] as const;
export type Encryption = (typeof ENCRYPTIONS)[number];
const PENDING = 'init-pending';

export interface InitOptions {
  name: string;
  repo: string;
  sources: string[];
  encryption: Encryption;
  configDir?: string;
  env?: NodeJS.ProcessEnv;
  dryRun?: boolean;
  signal?: AbortSignal;
}

export interface InitResult {
  job: string;
  dir: string;
  repository: string;
  encryption: Encryption;
  /** The job's public ssh key and the line for the server's authorized_keys (ssh:// only). */
  publicKey: string | null;
  authorizedKeysLine: string | null;
  passphraseFile: string;
  keyExport: string | null;
  /** false when the server did not accept the key yet (run init again after authorizing it). */
  initialized: boolean;
  dryRun: boolean;
}

/** The path borg serve should be restricted to, from an ssh:// URL. */
export function serverPath(repo: string): string {
  const m = /^ssh:\/\/[^/]+(\/.*)$/.exec(repo);
  const p = m ? m[1] : '/';
  return p.startsWith('/./') ? p.slice(3) : p.startsWith('/~/') ? p.slice(3) : p;
}

function authorizedLine(repo: string, publicKey: string): string {
  return `command="borg serve --restrict-to-path ${shQuoteForDisplay(serverPath(repo))}",restrict ${publicKey.trim()}`;
}

function initialConfig(o: InitOptions): string {
  const config = {
    // As the user meant them where they typed them: a scheduled run starts elsewhere.
    sources: o.sources.map((src) => path.resolve(src)),
    repository: isRemoteRepository(o.repo) ? o.repo : path.resolve(o.repo),
    archive_name: '{hostname}-{now}',
    compression: 'zstd,3',
    retention: { keep_daily: 7, keep_weekly: 4, keep_monthly: 6 },
    compact: true,
    checks: [
      { name: 'repository', frequency: '2 weeks' },
      { name: 'archives', frequency: '1 month' },
    ],
    retries: 3,
    retry_wait: 60,
    lock_wait: 60,
  };
  return `# borg-provision backup job ${o.name}: keys and their meaning in docs/backup.md\n${stringify(config)}`;
}

export async function initJob(o: InitOptions): Promise<InitResult> {
  const env = o.env ?? process.env;
  const dir = jobDir(o.name, o.configDir);
  const remote = isRemoteRepository(o.repo);
  if (!remote && !path.isAbsolute(o.repo))
    throw new UsageError(`--repo ${o.repo} must be an absolute path or ssh://user@host[:port]/path`);
  if (o.sources.length === 0) throw new UsageError('give at least one --source PATH to back up');
  const pending = await fs.access(path.join(dir, PENDING)).then(
    () => true,
    () => false,
  );
  if (jobExists(o.name, o.configDir) && !pending) {
    throw new UsageError(`backup job '${o.name}' exists (${jobConfigFile(o.name, o.configDir)}); not overwriting it`, {
      hint: 'choose another name, or remove that directory first',
    });
  }
  if (
    !remote &&
    (await fs.readdir(o.repo).then(
      (e) => e.length > 0,
      () => false,
    ))
  ) {
    throw new UsageError(`${o.repo} exists and is not empty; not making a repository there`, {
      hint: 'choose an empty or new directory',
    });
  }
  const base: InitResult = {
    job: o.name,
    dir,
    repository: o.repo,
    encryption: o.encryption,
    publicKey: null,
    authorizedKeysLine: null,
    passphraseFile: path.join(dir, 'passphrase'),
    keyExport: null,
    initialized: false,
    dryRun: !!o.dryRun,
  };
  if (o.dryRun) return base;
  // Set only once this run's mkdir made the folder: what another run or the user put there stays.
  let created = false;
  try {
    if (!pending) {
      await makeJobDir(o.name, dir);
      created = true;
      await writeJobFiles(o, dir, remote, env, o.signal);
    }
    const job = await loadJob(o.name, { configDir: o.configDir, env });
    if (pending && job.repository !== o.repo) {
      throw new UsageError(`job '${o.name}' is waiting to initialise ${job.repository}, not ${o.repo}`, {
        hint: `run init again with --repo ${job.repository}`,
      });
    }
    const publicKey = remote ? await fs.readFile(`${job.secrets.sshKey}.pub`, 'utf8') : null;
    const result = {
      ...base,
      publicKey: publicKey?.trim() ?? null,
      authorizedKeysLine: publicKey ? authorizedLine(o.repo, publicKey) : null,
    };
    const borg = borgOf(job, env);
    const benv = borgEnvironment(job, env);
    // Asked of ssh itself: borg 1.2 does not always pass on ssh's "Permission denied" (then it
    // says only that the connection closed), and a refused key must leave the job waiting.
    if (remote && (await sshKeyRefused(job, env, o.signal))) {
      await fs.writeFile(path.join(dir, PENDING), `${o.repo}\n`, { mode: 0o600 });
      return result;
    }
    const init = await runLogged(borg, ['init', '--encryption', o.encryption, '--make-parent-dirs'], {
      env: benv,
      signal: o.signal,
    });
    if (init.rc !== 0 && init.rc !== 1) {
      const v = classify(init);
      if (remote && v.kind === 'permanent' && /ssh key/.test(v.reason)) {
        await fs.writeFile(path.join(dir, PENDING), `${o.repo}\n`, { mode: 0o600 });
        return result;
      }
      if (/already exists/i.test(init.stderr))
        throw new UsageError(`a repository already exists at ${o.repo}; not overwriting it`, {
          hint: 'choose another --repo',
        });
      throw new BackupFailedError(`borg init of ${o.repo} failed: ${v.kind === 'ok' ? 'unknown' : v.reason}`, {
        hint: 'hint' in v && v.hint ? v.hint : undefined,
      });
    }
    // An unencrypted repository has no key, and borg refuses to export one.
    const encrypted = o.encryption !== 'none';
    if (encrypted) {
      // Created before borg writes it, so the exported key is never readable by others.
      await fs.writeFile(job.secrets.keyExport, '', { mode: 0o600, flag: 'w' });
      const exp = await runLogged(borg, ['key', 'export', o.repo, job.secrets.keyExport], {
        env: benv,
        signal: o.signal,
      });
      if (exp.rc !== 0) throw new BackupFailedError(`borg key export failed: ${classifyReason(exp)}`);
      await fs.chmod(job.secrets.keyExport, 0o600);
    }
    await fs.chmod(job.secrets.keyFile, 0o600).catch(() => undefined);
    await fs.rm(path.join(dir, PENDING), { force: true });
    return { ...result, keyExport: encrypted ? job.secrets.keyExport : null, initialized: true };
  } catch (err) {
    if (created) await fs.rm(dir, { recursive: true, force: true });
    throw err;
  }
}

/** Whether the server refuses the job's ssh key (an ssh login that runs nothing: stdin is empty). */
async function sshKeyRefused(job: JobConfig, env: NodeJS.ProcessEnv, signal?: AbortSignal): Promise<boolean> {
  const m = /^ssh:\/\/(?:([^@/]+)@)?(\[[^\]]+\]|[^:/]+)(?::(\d+))?\//.exec(job.repository);
  if (!m) return false;
  const [cmd, ...args] = sshArgs(job);
  const target = `${m[1] ? `${m[1]}@` : ''}${m[2].replace(/^\[|\]$/g, '')}`;
  const r = await runLogged(cmd, [...args, ...(m[3] ? ['-p', m[3]] : []), target, 'true'], { env, signal });
  return r.rc === 255 && /Permission denied/i.test(r.stderr);
}

function classifyReason(r: Parameters<typeof classify>[0]): string {
  const v = classify(r);
  return v.kind === 'ok' ? 'unknown' : v.reason;
}

/** Makes the job's folder; one that is there already (a user's, another init's) is refused. */
async function makeJobDir(name: string, dir: string): Promise<void> {
  try {
    await makeDirs(path.dirname(dir), 0o700);
    await fs.mkdir(dir, { mode: 0o700 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new UsageError(`job folder ${dir} exists already; not writing job '${name}' into it`, {
        hint: 'choose another name, or move that folder away first',
      });
    }
    throw filesystemError(err, 'make the job folder', dir, 'choose another --config-dir');
  }
}

async function writeJobFiles(
  o: InitOptions,
  dir: string,
  remote: boolean,
  env: NodeJS.ProcessEnv,
  signal?: AbortSignal,
): Promise<void> {
  try {
    // mkdir's mode is cut by the umask.
    await fs.chmod(dir, 0o700);
    // 32 random bytes; written once, read by borg through BORG_PASSCOMMAND, never printed.
    await fs.writeFile(path.join(dir, 'passphrase'), `${randomBytes(32).toString('base64url')}\n`, {
      mode: 0o600,
      flag: 'wx',
    });
    await fs.writeFile(path.join(dir, 'config.yaml'), initialConfig(o), { mode: 0o600, flag: 'wx' });
  } catch (err) {
    throw filesystemError(err, 'write the job', dir, 'choose another --config-dir');
  }
  if (remote) {
    const key = path.join(dir, 'ssh_key');
    const comment = `borg-provision:${o.name}@${os.hostname()}`;
    const r = await runLogged('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', key], {
      env,
      signal,
    });
    if (r.rc !== 0) {
      throw new BackupFailedError(
        `ssh-keygen failed: ${r.spawnError ? 'ssh-keygen is not installed' : r.stderr.trim()}`,
        { hint: 'install openssh-client' },
      );
    }
  }
}
