// What a job must look like before anything of it runs: its directory and secrets readable by the
// running user only, and its config.yaml (whose hooks run as shell commands) owned by that user
// and writable by nobody else. A job that fails this is refused (InsecureJobError, exit 2).
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { InsecureJobError, filesystemError } from '../errors';
import { loadJob } from './config-load';
import type { JobConfig } from './job-config';

function mode(m: number): string {
  return (m & 0o777).toString(8).padStart(4, '0');
}

async function statOrNull(p: string) {
  return fs.stat(p).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return null;
    throw filesystemError(err, 'read', p);
  });
}

export async function assertJobSecure(job: JobConfig): Promise<void> {
  const uid = process.getuid?.() ?? 0;
  // Whoever may change the job directory, or the directory holding it, may swap config.yaml between
  // its check and its use: both must be ours (or root's) and writable by nobody else.
  for (const d of [path.dirname(job.dir), job.dir]) {
    const st = await fs.stat(d);
    if ((st.uid !== uid && st.uid !== 0) || (st.mode & 0o022) !== 0) {
      throw new InsecureJobError(
        `${d} may be changed by another user (owner uid ${st.uid}, mode ${mode(st.mode)}); it holds the job`,
        { hint: `chown ${uid} ${d} && chmod go-w ${d}` },
      );
    }
  }
  const dir = await fs.stat(job.dir);
  if ((dir.mode & 0o077) !== 0) {
    throw new InsecureJobError(
      `job directory ${job.dir} is open to other users (mode ${mode(dir.mode)}); it holds the job's secrets`,
      {
        hint: `chmod 700 ${job.dir}`,
      },
    );
  }
  const conf = await fs.stat(job.file);
  if (conf.uid !== uid) {
    throw new InsecureJobError(
      `${job.file} is owned by uid ${conf.uid}, not by the user running the job (uid ${uid}); ` +
        'its hooks would run as this user',
      {
        hint: `chown ${uid} ${job.file}`,
      },
    );
  }
  if ((conf.mode & 0o022) !== 0) {
    throw new InsecureJobError(
      `${job.file} is writable by other users (mode ${mode(conf.mode)}); its hooks run as shell commands`,
      {
        hint: `chmod 600 ${job.file}`,
      },
    );
  }
  const { passphrase, sshKey, keyFile, keyExport } = job.secrets;
  const st = await statOrNull(passphrase);
  if (!st) {
    throw new InsecureJobError(`the job's passphrase file ${passphrase} is missing`, {
      hint: 'put the repository passphrase there (mode 0600), or create the job with `borg-provision backup init`',
    });
  }
  for (const secret of [passphrase, sshKey, keyFile, keyExport]) {
    if (secret === null) continue;
    const s = await statOrNull(secret);
    if (s && (s.mode & 0o077) !== 0) {
      throw new InsecureJobError(`secret ${secret} is readable by other users (mode ${mode(s.mode)})`, {
        hint: `chmod 600 ${secret}`,
      });
    }
  }
}

/** The job, read and refused as every command that runs something of it must (bad config, loose modes). */
export async function openJob(name: string, configDir?: string, env?: NodeJS.ProcessEnv): Promise<JobConfig> {
  const job = await loadJob(name, { configDir, env });
  await assertJobSecure(job);
  return job;
}
