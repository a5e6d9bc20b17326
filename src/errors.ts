// Typed failures. Every failure kind the tool can report has one class here, with the exit code
// the README documents and a one-line message that says what went wrong and what to do.
// Stages throw these, with a hint (what to do) where there is one; src/cli/failure.ts renders them.
// Anything else is a bug (exit 1).

export const ExitCode = {
  ok: 0,
  internal: 1,
  usage: 2,
  unsupported: 3,
  network: 4,
  verification: 5,
  /** Something on this machine failed: disk, permissions, a lock, the smoke test, a VM build, a scheduler. */
  local: 6,
  backupFailed: 7,
  backupStale: 8,
  jobBusy: 9,
  interrupted: 130,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

export abstract class ProvisionError extends Error {
  abstract readonly exitCode: ExitCodeValue;
  /** Stable machine-readable name of the failure kind, used in `--json` error output. */
  abstract readonly kind: string;

  /** What the user can do about it, shown on its own line after the message. */
  readonly hint?: string;

  constructor(message: string, options?: { cause?: unknown; hint?: string }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    if (options?.hint) this.hint = options.hint;
  }
}

/** Bad flags or arguments (exit 2). */
export class UsageError extends ProvisionError {
  readonly exitCode = ExitCode.usage;
  readonly kind = 'usage';
}

/** An input file or directory that is missing, unreadable or of the wrong kind (exit 2). */
export class BadInputError extends ProvisionError {
  readonly exitCode = ExitCode.usage;
  readonly kind = 'bad-input';
}

/** A file that should be ELF but is not, or is truncated/corrupt (exit 2). */
export class ElfFormatError extends ProvisionError {
  readonly exitCode = ExitCode.usage;
  readonly kind = 'elf-format';
}

/** The target cannot run borg's Linux builds at all: musl, unknown libc, unknown arch (exit 3). */
export class UnsupportedTargetError extends ProvisionError {
  readonly exitCode = ExitCode.unsupported;
  readonly kind = 'unsupported-target';
}

/** A release has no build that fits the target (exit 3). */
export class NoCompatibleBuildError extends ProvisionError {
  readonly exitCode = ExitCode.unsupported;
  readonly kind = 'no-compatible-build';
}

/** A release or tag that does not exist (exit 3: nothing to install for this target). */
export class ReleaseNotFoundError extends ProvisionError {
  readonly exitCode = ExitCode.unsupported;
  readonly kind = 'release-not-found';
}

/** Connection, HTTP status, timeout, rate limit, short body (exit 4). */
export class NetworkError extends ProvisionError {
  readonly exitCode = ExitCode.network;
  readonly kind = 'network';
}

/** An OpenPGP signature that is missing, bad, by the wrong key, revoked, or too weak (exit 5). */
export class SignatureError extends ProvisionError {
  readonly exitCode = ExitCode.verification;
  readonly kind = 'signature';
}

/** Bytes whose size or digest differ from what was announced (exit 5). */
export class ChecksumError extends ProvisionError {
  readonly exitCode = ExitCode.verification;
  readonly kind = 'checksum';
}

/** A build that needs a newer glibc (or another arch) than the target has (exit 5). */
export class CompatibilityError extends ProvisionError {
  readonly exitCode = ExitCode.verification;
  readonly kind = 'compatibility';
}

/** An archive entry that escapes the target, or a layout that is not a borg build (exit 5). */
export class ArchiveError extends ProvisionError {
  readonly exitCode = ExitCode.verification;
  readonly kind = 'archive';
}

/** Disk full, permission denied, noexec or read-only prefix, failed rename (exit 6). */
export class FilesystemError extends ProvisionError {
  readonly exitCode = ExitCode.local;
  readonly kind = 'filesystem';
}

/** Another install holds the prefix lock (exit 6). */
export class LockedError extends ProvisionError {
  readonly exitCode = ExitCode.local;
  readonly kind = 'locked';
}

/** The installed borg did not run or printed the wrong version (exit 6). */
export class SmokeTestError extends ProvisionError {
  readonly exitCode = ExitCode.local;
  readonly kind = 'smoke-test';
}

/** A Vagrant build step failed, or its prerequisites are missing (exit 6). */
export class BuildError extends ProvisionError {
  readonly exitCode = ExitCode.local;
  readonly kind = 'build';
}

/** SIGINT/SIGTERM, or an aborted AbortSignal (exit 130). */
export class InterruptedError extends ProvisionError {
  readonly exitCode = ExitCode.interrupted;
  readonly kind = 'interrupted';
  constructor(message = 'interrupted; nothing was left half-written', options?: { cause?: unknown; hint?: string }) {
    super(message, options);
  }
}

// --- schedule (src/schedule/) ---

/** --via names a scheduler this machine does not have (e.g. truenas off TrueNAS) (exit 3). */
export class SchedulerUnavailableError extends ProvisionError {
  readonly exitCode = ExitCode.unsupported;
  readonly kind = 'scheduler-unavailable';
}

/** The command a schedule would run cannot start: missing, not executable, on a noexec mount (exit 6). */
export class NotRunnableError extends ProvisionError {
  readonly exitCode = ExitCode.local;
  readonly kind = 'not-runnable';
}

/** midclt, systemctl or crontab refused or failed; what it said is in the message (exit 6). */
export class SchedulerError extends ProvisionError {
  readonly exitCode = ExitCode.local;
  readonly kind = 'scheduler';
}

// --- backup (src/backup/) ---

/** A backup job's config.yaml that cannot be read or does not match the schema; nothing ran (exit 2). */
export class JobConfigError extends ProvisionError {
  readonly exitCode = ExitCode.usage;
  readonly kind = 'job-config';
}

/** A job whose secrets or config others may read or change; refused before anything runs (exit 2). */
export class InsecureJobError extends ProvisionError {
  readonly exitCode = ExitCode.usage;
  readonly kind = 'insecure-job';
}

/** A step of a backup run (hook, create, prune, compact, check) failed after its tries (exit 7). */
export class BackupFailedError extends ProvisionError {
  readonly exitCode = ExitCode.backupFailed;
  readonly kind = 'backup-failed';
}

/** `backup status`: a job's last success is older than allowed, or there was none (exit 8). */
export class BackupStaleError extends ProvisionError {
  readonly exitCode = ExitCode.backupStale;
  readonly kind = 'backup-stale';
}

/** Another run of the same backup job holds its lock (exit 9). */
export class JobBusyError extends ProvisionError {
  readonly exitCode = ExitCode.jobBusy;
  readonly kind = 'job-busy';
}

export function isProvisionError(err: unknown): err is ProvisionError {
  return err instanceof ProvisionError;
}

/** A system call's error (ENOENT, EIO, E2BIG, ...), not one of Node's own (ERR_...) or ours. */
export function isErrnoError(err: unknown): err is NodeJS.ErrnoException {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' && /^E[A-Z0-9]+$/.test(code);
}

/** Throws InterruptedError when the signal has fired; call between steps of long work. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new InterruptedError();
}

/**
 * Turns a Node fs error into a one-line FilesystemError naming the path and what to do.
 * `elsewhere` is how to choose another place when the disk is full (by default: --prefix).
 */
export function filesystemError(
  err: unknown,
  action: string,
  path: string,
  elsewhere = 'choose another --prefix',
): ProvisionError {
  if (err instanceof ProvisionError) return err;
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const hints: Record<string, string> = {
    ENOSPC: `the disk is full: free space or ${elsewhere}`,
    EACCES: 'permission denied: run as a user who may write there, or choose another place',
    EPERM: 'operation not permitted: run as a user who may write there, or choose another place',
    EROFS: 'the filesystem is read-only: choose a writable place',
    EDQUOT: 'the disk quota is exceeded: free space or choose another place',
  };
  const hint = (code && hints[code]) ?? (err instanceof Error ? err.message : String(err));
  return new FilesystemError(`cannot ${action} ${path}: ${hint}`, { cause: err });
}
