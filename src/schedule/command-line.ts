// What a schedule runs: this borg-provision, by absolute path, with `backup run JOB`. As a Node
// single executable that is the executable itself; otherwise node and bin/run.js. It is checked
// before anything is registered: a missing or non-executable file, or one on a noexec mount, would
// only fail at the first scheduled run, silently. Quoting for sh (cron, TrueNAS) and for systemd.
import { constants, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { backupsDir } from '../backup';
import { NotRunnableError } from '../errors';
import { pathReport } from '../target';
import type { PathReport } from '../target';
import { isSingleExecutable } from '../util/package-files';

export interface SelfInvocation {
  /** The program that is started: the single executable, or node. */
  executable: string;
  /** bin/run.js when the executable is node; null for a single executable. */
  script: string | null;
}

export interface SelfOptions {
  env?: NodeJS.ProcessEnv;
  execPath?: string;
  isSea?: boolean;
  script?: string;
}

/**
 * How to start this borg-provision again. BORG_PROVISION_SELF names an executable to schedule
 * instead (a wrapper script or a copy of the single executable kept elsewhere).
 */
export function selfInvocation(o: SelfOptions = {}): SelfInvocation {
  const override = (o.env ?? process.env).BORG_PROVISION_SELF;
  if (override) return { executable: path.resolve(override), script: null };
  const execPath = o.execPath ?? process.execPath;
  if (o.isSea ?? isSingleExecutable()) return { executable: execPath, script: null };
  return { executable: execPath, script: o.script ?? path.resolve(__dirname, '..', '..', 'bin', 'run.js') };
}

/**
 * The words of the scheduled command line. The job's base directory is always named: cron, systemd
 * and the middleware start it with their own environment (another HOME than a `sudo` shell's, no
 * XDG_CONFIG_HOME), and a run that looked elsewhere would fail every night.
 */
export function backupRunArgv(self: SelfInvocation, job: string, configDir?: string): string[] {
  return [
    self.executable,
    ...(self.script ? [self.script] : []),
    'backup',
    'run',
    job,
    '--config-dir',
    path.dirname(backupsDir(configDir)),
  ];
}

const EXEC_HINT =
  'put borg-provision on an exec-capable path (on TrueNAS e.g. /root or a pool dataset with exec on), ' +
  'or name one with BORG_PROVISION_SELF';

function canAccess(file: string, mode: number): Promise<boolean> {
  return fs.access(file, mode).then(
    () => true,
    () => false,
  );
}

async function checkExecutable(file: string, report: (p: string) => Promise<PathReport>): Promise<void> {
  const st = await fs.stat(file).catch(() => null);
  if (!st) throw new NotRunnableError(`cannot schedule ${file}: it does not exist`, { hint: EXEC_HINT });
  if (!st.isFile()) {
    throw new NotRunnableError(`cannot schedule ${file}: it is not a regular file`, { hint: EXEC_HINT });
  }
  // First the mount: access(X_OK) fails on a noexec mount too, and the mount is what to fix then.
  const r = await report(await fs.realpath(file));
  if (!r.flagsKnown) {
    throw new NotRunnableError(`cannot tell whether ${file} is on a noexec mount: /proc/self/mountinfo is unreadable`, {
      hint: 'mount /proc (or run where it is mounted), then schedule again',
    });
  }
  if (r.noexec) {
    throw new NotRunnableError(`cannot schedule ${file}: it is on ${r.mountPoint ?? 'a mount'}, mounted noexec`, {
      hint: EXEC_HINT,
    });
  }
  const executable = await canAccess(file, constants.X_OK);
  if (!executable || (st.mode & 0o111) === 0) {
    throw new NotRunnableError(`cannot schedule ${file}: it is not executable`, {
      hint: `chmod +x it, or ${EXEC_HINT}`,
    });
  }
}

/** Refuses (NotRunnableError, exit 6) a command line that could not start when its time comes. */
export async function assertRunnable(argv: string[], self: SelfInvocation, report = pathReport): Promise<void> {
  // Control characters are exactly what is looked for here.
  // eslint-disable-next-line no-control-regex
  const odd = argv.find((w) => /[\0-\x1f\x7f]/.test(w));
  if (odd !== undefined) {
    throw new NotRunnableError(`cannot schedule a command with a control character (newline, tab) in '${odd}'`, {
      hint: 'use paths without control characters',
    });
  }
  await checkExecutable(self.executable, report);
  if (self.script) {
    const readable = await canAccess(self.script, constants.R_OK);
    if (!readable) {
      throw new NotRunnableError(`cannot schedule ${self.script}: it is missing or unreadable`, { hint: EXEC_HINT });
    }
  }
}

const SAFE_WORD = /^[A-Za-z0-9_@+=:,./-]+$/;

/** One word for sh: bare when it is plainly safe, else in single quotes. */
export function shWord(word: string): string {
  return SAFE_WORD.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** A command line for sh -c (what the TrueNAS middleware runs). */
export function shLine(argv: string[]): string {
  return argv.map(shWord).join(' ');
}

/** A command line for a cron table: sh quoting, and `%` escaped (cron turns a bare one into a newline). */
export function cronCommand(line: string): string {
  return line.replace(/%/g, '\\%');
}

/**
 * A command line for ExecStart= (systemd.service(5)): words with anything odd in double quotes,
 * `%` doubled everywhere, `$` doubled in the arguments (systemd expands variables only there).
 */
export function systemdLine(argv: string[]): string {
  return argv
    .map((w) => (SAFE_WORD.test(w) ? w : `"${w.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`))
    .map((w, i) => (i === 0 ? w.replace(/%/g, '%%') : w.replace(/%/g, '%%').replace(/\$/g, '$$$$')))
    .join(' ');
}

/** systemd refuses an executable path holding quotes or backslashes ("special characters"). */
export function systemdCanStart(executable: string): boolean {
  return !/["'\\]/.test(executable);
}

/** sh that waits a random 0..N seconds first (cron and the middleware have no random delay of their own). */
export function withRandomDelay(line: string, seconds: number): string {
  return seconds > 0 ? `sleep "$(shuf -i 0-${seconds} -n 1)" && ${line}` : line;
}

/** The random delay a line made by withRandomDelay carries, and the line without it. */
export function splitRandomDelay(line: string): { seconds: number; line: string } {
  const m = /^sleep "\$\(shuf -i 0-(\d+) -n 1\)" && (.*)$/.exec(line);
  return m ? { seconds: Number(m[1]), line: m[2] } : { seconds: 0, line };
}
