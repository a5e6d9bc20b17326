// The environment a job's borg (and its hooks and `backup shell`) runs with. The passphrase never
// enters it: BORG_PASSCOMMAND names a command that reads the job's passphrase file, and any
// BORG_PASSPHRASE inherited from the caller is removed (borg would prefer it).
import { existsSync } from 'node:fs';
import { shQuote } from '../util/text';
import { JobConfigError } from '../errors';
import type { JobConfig } from './job-config';

/** Variables that would carry a passphrase into borg or let the caller's override the job's. */
const DROPPED = [
  'BORG_PASSPHRASE',
  'BORG_PASSPHRASE_FD',
  'BORG_NEW_PASSPHRASE',
  'BORG_PASSCOMMAND',
  'BORG_RSH',
  'BORG_KEY_FILE',
  'BORG_REPO',
];

/** The job's own variables (what `backup shell` lists). */
export function jobVariables(job: JobConfig): Record<string, string> {
  const vars: Record<string, string> = {
    BORG_REPO: job.repository,
    // borg splits this with shlex and runs it without a shell: quote the path, no ~.
    BORG_PASSCOMMAND: `cat ${shQuote(job.secrets.passphrase)}`,
    BORG_KEY_FILE: job.secrets.keyFile,
    // Specific exit codes on borg >= 1.4; older borg ignores the variable.
    BORG_EXIT_CODES: 'modern',
    BORG_PROVISION_JOB: job.name,
  };
  if (job.remote && job.secrets.sshKey) vars.BORG_RSH = sshCommand(job);
  return vars;
}

/**
 * UserKnownHostsFile is a whitespace-separated list of %-expanded paths unless quoted: the value in
 * double quotes with % doubled names the one file. -i cannot be escaped so (ssh checks the file
 * before it expands %-tokens), so a job whose path holds a % is refused for ssh.
 */
function knownHostsOption(p: string): string {
  return `UserKnownHostsFile="${p.replace(/%/g, '%%')}"`;
}

function assertSshSafe(job: JobConfig): void {
  if (!/[%"]/.test(job.dir)) return;
  throw new JobConfigError(`${job.file}: the job's path ${job.dir} holds a % or ", which ssh would misread`, {
    hint: 'move the job to a path without them (borg-provision backup --config-dir DIR)',
  });
}

/** The job's ssh and its options as argv words (unquoted), for BORG_RSH and for probing the server. */
export function sshArgs(job: JobConfig): string[] {
  const words = ['ssh'];
  if (existsSync(job.secrets.sshConfig)) words.push('-F', job.secrets.sshConfig);
  assertSshSafe(job);
  words.push('-i', job.secrets.sshKey ?? '');
  words.push('-o', 'IdentitiesOnly=yes', '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=accept-new');
  words.push('-o', knownHostsOption(job.secrets.knownHosts));
  words.push('-o', 'ConnectTimeout=30', '-o', 'ServerAliveInterval=30');
  return words;
}

/** BORG_RSH: borg splits it with shlex, so every word that needs it is quoted. */
export function sshCommand(job: JobConfig): string {
  return sshArgs(job)
    .map((w) => (/^[\w@%+=:,./-]+$/.test(w) ? w : shQuote(w)))
    .join(' ');
}

/** The full environment for borg and hooks: the caller's, minus passphrase carriers, plus the job's. */
export function borgEnvironment(job: JobConfig, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...base };
  for (const k of DROPPED) delete env[k];
  return { ...env, ...jobVariables(job) };
}
