// What a job must look like before anything of it runs: every folder on the way to it the running
// user's or root's and writable by nobody else, its directory and secrets the running user's and
// readable by nobody else, and its config.yaml (whose hooks run as shell commands) the running
// user's, writable by nobody else, and read from the very descriptor that was checked. A job that
// fails this is refused (InsecureJobError, exit 2) before anything of it is read or run.
import { promises as fs, type Stats } from 'node:fs';
import * as path from 'node:path';
import { InsecureJobError, filesystemError } from '../errors';
import { shQuoteForDisplay as q } from '../util/text';
import { noSuchJob, parseJob, readJobConfig } from './config-load';
import { SECRET_NAMES, type JobConfig } from './job-config';
import { jobConfigFile, jobDir } from './job-paths';
import { fileKind, notRegularError } from './read-regular';
import { assertTrustedDir, modeString as mode } from './trusted-dir';

function runningUid(): number {
  return process.getuid?.() ?? 0;
}

async function lstatOrNull(p: string): Promise<Stats | null> {
  return fs.lstat(p).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return null;
    throw filesystemError(err, 'read', p);
  });
}

/** The job directory's real path; a job that is not there is no job (the message loadJob gives). */
async function realJobDir(name: string, configDir?: string): Promise<string> {
  const dir = jobDir(name, configDir);
  return fs.realpath(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT' || err.code === 'ENOTDIR') throw noSuchJob(name, jobConfigFile(name, configDir));
    throw filesystemError(err, 'read', dir);
  });
}

async function assertDirPrivate(dir: string): Promise<void> {
  const st = await fs.lstat(dir);
  if ((st.mode & 0o077) !== 0) {
    throw new InsecureJobError(
      `job directory ${dir} is open to other users (mode ${mode(st.mode)}); it holds the job's secrets`,
      { hint: `chmod 700 ${q(dir)}` },
    );
  }
}

/** config.yaml, seen through its open descriptor: the running user's, writable by nobody else. */
function assertConfigOwned(file: string, st: Stats, uid: number): void {
  if (st.uid !== uid) {
    throw new InsecureJobError(
      `${file} is owned by uid ${st.uid}, not by the user running the job (uid ${uid}); ` +
        'its hooks would run as this user',
      { hint: `chown ${uid} ${q(file)}` },
    );
  }
  if ((st.mode & 0o022) !== 0) {
    throw new InsecureJobError(
      `${file} is writable by other users (mode ${mode(st.mode)}); its hooks run as shell commands`,
      { hint: `chmod 600 ${q(file)}` },
    );
  }
}

/**
 * Each file of the job that borg or ssh reads, and the mode bits others must not have: keys and
 * the passphrase are private; a public key and known_hosts may be read, not written, by others;
 * ssh_config may not be written by others either (a ProxyCommand in it runs as the user).
 */
function secretFiles(job: JobConfig): Map<string, number> {
  const s = job.secrets;
  const sshKey = s.sshKey ?? path.join(job.dir, SECRET_NAMES[job.format].sshKey);
  return new Map([
    [s.passphrase, 0o077],
    [sshKey, 0o077],
    [`${sshKey}.pub`, 0o022],
    [s.keyFile, 0o077],
    [s.keyExport, 0o077],
    [s.knownHosts, 0o022],
    [s.sshConfig, 0o022],
  ]);
}

/** A secret as it is (lstat: a link is refused, never followed): a regular file of the running user. */
function assertSecretFile(file: string, st: Stats, forbidden: number, uid: number): void {
  if (!st.isFile()) throw notRegularError(file, fileKind(st), 'secret ');
  if (st.uid !== uid) {
    throw new InsecureJobError(
      `secret ${file} is owned by uid ${st.uid}, not by the user running the job (uid ${uid})`,
      // Safe as given: a regular file in the job's own folder, which nobody else may change.
      { hint: `chown ${uid} ${q(file)}` },
    );
  }
  if ((st.mode & forbidden) === 0) return;
  if (forbidden === 0o077) {
    throw new InsecureJobError(`secret ${file} is readable by other users (mode ${mode(st.mode)})`, {
      hint: `chmod 600 ${q(file)}`,
    });
  }
  throw new InsecureJobError(`${file} is writable by other users (mode ${mode(st.mode)}); ssh reads it`, {
    hint: `chmod go-w ${q(file)}`,
  });
}

/** Refuses a job whose secrets another user may read or change (run after openJob's checks). */
export async function assertJobSecure(job: JobConfig): Promise<void> {
  const uid = runningUid();
  if (!(await lstatOrNull(job.secrets.passphrase))) {
    throw new InsecureJobError(`the job's passphrase file ${job.secrets.passphrase} is missing`, {
      hint: 'put the repository passphrase there (mode 0600), or create the job with `borg-provision backup init`',
    });
  }
  for (const [file, forbidden] of secretFiles(job)) {
    const st = await lstatOrNull(file);
    if (st) assertSecretFile(file, st, forbidden, uid);
  }
}

/**
 * The job, checked and read as every command that runs something of it must: the way to it first,
 * then config.yaml from the descriptor that was checked, then its secrets. The job's paths are the
 * real ones, so a symlink on the way (which nobody checked the folder of) cannot be turned later.
 */
export async function openJob(name: string, configDir?: string, env?: NodeJS.ProcessEnv): Promise<JobConfig> {
  const uid = runningUid();
  const dir = await realJobDir(name, configDir);
  await assertTrustedDir(dir, uid);
  await assertDirPrivate(dir);
  const file = path.join(dir, 'config.yaml');
  const text = await readJobConfig(name, file, (st) => assertConfigOwned(file, st, uid));
  const job = parseJob(name, dir, file, text, env ?? process.env);
  await assertJobSecure(job);
  return job;
}
