// `backup init NAME --repo URL`: writes the job (config.yaml, a random passphrase file, for ssh://
// an ed25519 key), runs `borg init`, then (unless unencrypted) `borg key export` into the job. It
// never overwrites a job or a repository. For ssh:// the server must first accept the new key: when
// it refuses, the job stays, marked init-pending, the authorized_keys line is returned, and running
// init again finishes. Once `borg init` succeeded the job's passphrase is the only way into the
// repository: nothing after that removes the job; it is marked init-key-export-pending instead.
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { stringify } from 'yaml';
import { firstLine, shQuoteForDisplay } from '../util/text';
import {
  BackupFailedError,
  FilesystemError,
  InterruptedError,
  UsageError,
  filesystemError,
  isErrnoError,
} from '../errors';
import { runLogged } from './borg-process';
import { borgOf } from './borg-binary';
import { borgEnvironment, sshArgs } from './borg-env';
import { classify } from './classify';
import { openJob } from './job-security';
import { isRemoteRepository, type JobConfig } from './job-config';
import { jobConfigFile, jobDir, jobExists } from './job-paths';
import { makeDirs } from '../util/make-dirs';

export const ENCRYPTIONS = ['repokey-blake2', 'keyfile-blake2', 'repokey', 'keyfile', 'none'] as const;
export type Encryption = (typeof ENCRYPTIONS)[number];
// Markers an unfinished init leaves in the job, so that running the same init again finishes it.
const PENDING = 'init-pending';
const EXPORT_PENDING = 'init-key-export-pending';

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
  /**
   * Where this init started: a new job, one waiting for the server to take its key, or one whose
   * repository is made and whose key export remains.
   */
  resumed: PendingStage['kind'];
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
  // ssh:// only: the server's authorized_keys line is made from the URL's path.
  const remote = o.repo.startsWith('ssh://');
  if (!remote && (isRemoteRepository(o.repo) || !path.isAbsolute(o.repo)))
    throw new UsageError(`--repo ${o.repo} must be an absolute path or ssh://user@host[:port]/path`, {
      hint: 'write user@host:path as ssh://user@host/./path, and user@host:/path as ssh://user@host/path',
    });
  if (o.sources.length === 0) throw new UsageError('give at least one --source PATH to back up');
  const stage = await pendingStage(dir);
  if (jobExists(o.name, o.configDir) && stage.kind === 'new') {
    throw new UsageError(`backup job '${o.name}' exists (${jobConfigFile(o.name, o.configDir)}); not overwriting it`, {
      hint: 'choose another name, or remove that directory first',
    });
  }
  // A repository this job made already is not empty, and is what the job waits to finish.
  if (!remote && stage.kind !== 'key-export' && (await nonEmptyDir(o.repo))) {
    throw new UsageError(`${o.repo} exists and is not empty; not making a repository there`, {
      hint: 'choose an empty or new directory',
    });
  }
  const base: InitResult = {
    job: o.name,
    dir,
    repository: o.repo,
    encryption: stage.kind === 'key-export' ? stage.encryption : o.encryption,
    publicKey: null,
    authorizedKeysLine: null,
    passphraseFile: path.join(dir, 'passphrase'),
    keyExport: null,
    initialized: false,
    resumed: stage.kind,
    dryRun: !!o.dryRun,
  };
  if (o.dryRun) return base;
  // Set only once this run's mkdir made the folder: what another run or the user put there stays.
  let created = false;
  let made: Made;
  try {
    if (stage.kind === 'new') {
      await makeJobDir(o.name, dir);
      created = true;
      await writeJobFiles(o, dir, remote, env, o.signal);
    }
    made = await makeRepository(o, dir, stage, base, env);
  } catch (err) {
    // Until borg init succeeded there is no repository the passphrase opens: a job made by this
    // run goes. After it, only finishInit runs, and it never removes anything.
    if (created) await fs.rm(dir, { recursive: true, force: true });
    throw err;
  }
  if (!made.repository) return made.result;
  return finishInit(o, dir, made.job, made.result, env);
}

/** What an earlier init of this job left to do, from its marker files. */
type PendingStage =
  | { kind: 'new' }
  /** The server refused the job's ssh key: the repository is not made. */
  | { kind: 'ssh-key' }
  /** The repository is made; its key is not exported yet. */
  | { kind: 'key-export'; encryption: Encryption };

/** Both markers are there when the repository was made after an ssh key wait: the later one wins. */
async function pendingStage(dir: string): Promise<PendingStage> {
  const exportPending = await fs.readFile(path.join(dir, EXPORT_PENDING), 'utf8').catch(() => null);
  if (exportPending !== null) {
    const encryption = exportPending.split('\n')[1] as Encryption;
    return { kind: 'key-export', encryption: ENCRYPTIONS.includes(encryption) ? encryption : 'repokey-blake2' };
  }
  return (await exists(path.join(dir, PENDING))) ? { kind: 'ssh-key' } : { kind: 'new' };
}

function exists(file: string): Promise<boolean> {
  return fs.access(file).then(
    () => true,
    () => false,
  );
}

function nonEmptyDir(dir: string): Promise<boolean> {
  return fs.readdir(dir).then(
    (e) => e.length > 0,
    () => false,
  );
}

async function withPublicKey(o: InitOptions, job: JobConfig, base: InitResult): Promise<InitResult> {
  const publicKey = isRemoteRepository(o.repo) ? await fs.readFile(`${job.secrets.sshKey}.pub`, 'utf8') : null;
  return {
    ...base,
    publicKey: publicKey?.trim() ?? null,
    authorizedKeysLine: publicKey ? authorizedLine(o.repo, publicKey) : null,
  };
}

/** The job as init wrote it; `repository` is false while the server refuses the job's ssh key. */
interface Made {
  job: JobConfig;
  result: InitResult;
  repository: boolean;
}

/** Runs `borg init` unless an earlier init made the repository; a refused ssh key marks the job. */
async function makeRepository(
  o: InitOptions,
  dir: string,
  stage: PendingStage,
  base: InitResult,
  env: NodeJS.ProcessEnv,
): Promise<Made> {
  // Checked as any run is: a pending job's config.yaml names the borg and ssh_config that run now.
  const job = await openJob(o.name, o.configDir, env);
  if (stage.kind !== 'new' && job.repository !== o.repo) {
    throw new UsageError(`job '${o.name}' is waiting to initialise ${job.repository}, not ${o.repo}`, {
      hint: `run init again with --repo ${job.repository}`,
    });
  }
  const result = await withPublicKey(o, job, base);
  const waiting = async (): Promise<Made> => {
    await fs.writeFile(path.join(dir, PENDING), `${o.repo}\n`, { mode: 0o600 });
    return { job, result, repository: false };
  };
  if (stage.kind === 'key-export') return { job, result, repository: true };
  const remote = isRemoteRepository(o.repo);
  // Asked of ssh itself: borg 1.2 does not always pass on ssh's "Permission denied" (then it
  // says only that the connection closed), and a refused key must leave the job waiting.
  if (remote && (await sshKeyRefused(job, env, o.signal))) return waiting();
  const init = await runLogged(borgOf(job, env), ['init', '--encryption', o.encryption, '--make-parent-dirs'], {
    env: borgEnvironment(job, env),
    signal: o.signal,
  });
  if (init.rc === 0 || init.rc === 1) return { job, result, repository: true };
  const v = classify(init);
  if (remote && v.kind === 'permanent' && /ssh key/.test(v.reason)) return waiting();
  if (/already exists/i.test(init.stderr))
    throw new UsageError(`a repository already exists at ${o.repo}; not overwriting it`, {
      // A job waiting from an earlier init stays bound to this URL: it has to go first.
      hint:
        stage.kind === 'new'
          ? 'choose another --repo'
          : `remove the waiting job (rm -r ${shQuoteForDisplay(dir)}), then run init with another --repo`,
    });
  throw new BackupFailedError(`borg init of ${o.repo} failed: ${v.kind === 'ok' ? 'unknown' : v.reason}`, {
    hint: 'hint' in v && v.hint ? v.hint : undefined,
  });
}

/**
 * After `borg init`: the job's passphrase is now the only way into the repository, so a failure
 * here (the key export, a signal, the disk) keeps the job, marked so that the same init finishes.
 */
async function finishInit(
  o: InitOptions,
  dir: string,
  job: JobConfig,
  result: InitResult,
  env: NodeJS.ProcessEnv,
): Promise<InitResult> {
  try {
    await fs.chmod(job.secrets.keyFile, 0o600).catch(() => undefined);
    // An unencrypted repository has no key, and borg refuses to export one.
    if (result.encryption !== 'none') {
      await fs.writeFile(path.join(dir, EXPORT_PENDING), `${o.repo}\n${result.encryption}\n`, { mode: 0o600 });
      await exportKey(job, o.repo, env, o.signal);
    }
    await fs.rm(path.join(dir, PENDING), { force: true });
    await fs.rm(path.join(dir, EXPORT_PENDING), { force: true });
  } catch (err) {
    throw await keptJobError(err, o, dir, job);
  }
  return { ...result, keyExport: result.encryption === 'none' ? null : job.secrets.keyExport, initialized: true };
}

async function exportKey(job: JobConfig, repo: string, env: NodeJS.ProcessEnv, signal?: AbortSignal): Promise<void> {
  // Created before borg writes it, so the exported key is never readable by others.
  await fs.writeFile(job.secrets.keyExport, '', { mode: 0o600, flag: 'w' });
  await fs.chmod(job.secrets.keyExport, 0o600);
  const exp = await runLogged(borgOf(job, env), ['key', 'export', repo, job.secrets.keyExport], {
    env: borgEnvironment(job, env),
    signal,
  }).catch(async (err: unknown) => {
    await fs.rm(job.secrets.keyExport, { force: true });
    throw err;
  });
  if (exp.rc !== 0) {
    // An empty file where the key should be would pass for an export at a glance.
    await fs.rm(job.secrets.keyExport, { force: true });
    throw new BackupFailedError(`borg key export failed: ${classifyReason(exp)}`);
  }
}

/** The failure after `borg init`, as the same kind, saying the job is kept and how to finish. */
async function keptJobError(err: unknown, o: InitOptions, dir: string, job: JobConfig): Promise<Error> {
  const again = `borg-provision backup init ${shQuoteForDisplay(o.name)} --repo ${shQuoteForDisplay(o.repo)}`;
  const hint = (await exists(path.join(dir, EXPORT_PENDING)))
    ? `job ${o.name} and its passphrase are kept (the only way into the repository); to export the key, run the same init again: ${again}`
    : `job ${o.name} and its passphrase are kept (the only way into the repository); export its key by hand: ` +
      `borg-provision backup borg ${shQuoteForDisplay(o.name)} -- key export :: ${shQuoteForDisplay(job.secrets.keyExport)}`;
  const what = `job ${o.name}: repository ${o.repo} is initialised but its key is not exported`;
  if (err instanceof InterruptedError) return new InterruptedError(`interrupted; ${what}`, { hint, cause: err });
  if (err instanceof FilesystemError || isErrnoError(err))
    return new FilesystemError(`${what}: ${firstLine(err)}`, { hint, cause: err });
  return new BackupFailedError(`${what}: ${firstLine(err)}`, { hint, cause: err });
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
