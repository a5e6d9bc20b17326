// A job as the runner uses it: the config file resolved (either format), with absolute paths and
// every default filled in, and where its secrets are. Only paths to secrets, never their content.
export type JobFormat = 'native' | 'origin';
export type CheckName = 'repository' | 'archives' | 'data';
export type StepName = 'create' | 'prune' | 'compact' | 'check';

export interface Retention {
  keep_within?: string;
  keep_last?: number;
  keep_hourly?: number;
  keep_daily?: number;
  keep_weekly?: number;
  keep_monthly?: number;
  keep_yearly?: number;
}

export interface CheckSpec {
  name: CheckName;
  /** The frequency as written ("2 weeks", "always"). */
  frequency: string;
  /** The same in milliseconds; 0 means every run. */
  everyMs: number;
}

export interface JobSecrets {
  /** The passphrase file, read by borg through BORG_PASSCOMMAND. */
  passphrase: string;
  /** The private key BORG_RSH uses; null for a local repository. */
  sshKey: string | null;
  /** BORG_KEY_FILE: where a keyfile-mode key lives. */
  keyFile: string;
  /** The exported repository key (the backup of it `init` makes). */
  keyExport: string;
  /** Host keys seen by this job's ssh (accept-new on first use). */
  knownHosts: string;
  /** An optional ssh_config of the job (host aliases, ports), passed with -F when present. */
  sshConfig: string;
}

export interface JobConfig {
  name: string;
  dir: string;
  file: string;
  format: JobFormat;
  sources: string[];
  repository: string;
  remote: boolean;
  archiveName: string;
  createOptions: string[];
  pruneOptions: string[];
  retention: Retention | null;
  compact: boolean;
  checks: CheckSpec[];
  /** Further tries per step after a failure that can pass. */
  retries: Record<StepName, number>;
  retryWaitS: number;
  lockWaitS: number;
  hooks: { before: string[]; after: string[]; on_error: string[] };
  pingUrl: string | null;
  /** The borg named in the config, or null for the default (see borg-binary.ts). */
  borg: string | null;
  secrets: JobSecrets;
}

/** File names of a job's secrets, per format (the origin document's names for its format). */
export const SECRET_NAMES: Record<JobFormat, Omit<JobSecrets, 'sshKey'> & { sshKey: string }> = {
  native: {
    passphrase: 'passphrase',
    sshKey: 'ssh_key',
    keyFile: 'keyfile',
    keyExport: 'key-export',
    knownHosts: 'known_hosts',
    sshConfig: 'ssh_config',
  },
  origin: {
    passphrase: 'BORGKeyPassword.file',
    sshKey: 'SSHKey.pem',
    keyFile: 'BORGKey.bak',
    keyExport: 'BORGKey.bak',
    knownHosts: 'known_hosts',
    sshConfig: 'ssh_config',
  },
};

/**
 * Whether borg reaches the repository over ssh: an ssh:// URL, or the scp-like `[user@]host:path`
 * that borg 1.x reads the same way (and hosting services hand out). Read as borg reads it: a
 * colon before any slash names a host, so `backups:2024` is host `backups` to borg, and to us.
 */
export function isRemoteRepository(repo: string): boolean {
  return repo.startsWith('ssh://') || /^(?:[^@:/]+@)?(?:\[[0-9a-fA-F:.]+\]|[^:/[\]]+):(?!:)./.test(repo);
}
