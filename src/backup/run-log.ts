// One log file per job run under $XDG_STATE_HOME/borg-provision/logs/, mode 0600, the newest
// KEEP_LOGS per job kept. It holds what borg and the hooks printed and the runner's own lines;
// never a secret (borg gets the passphrase through a file, and argv carries none).
import { closeSync, constants, openSync, readFileSync, writeSync } from 'node:fs';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { stateHome } from '../util/xdg';
import { makeDirs } from '../util/make-dirs';

const KEEP_LOGS = 10;

export function logsDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(stateHome(env), 'logs');
}

/**
 * A run's log. A write that fails (a full disk, a quota) stops the logging, not the backup: the
 * run goes on and reports the log's problem as a notice.
 */
export class RunLog {
  private fd: number | null;
  private failure: string | null = null;

  constructor(readonly file: string) {
    // O_NOFOLLOW: a symlink planted under the log's name must not redirect the log elsewhere.
    this.fd = openSync(file, constants.O_WRONLY | constants.O_CREAT | constants.O_APPEND | constants.O_NOFOLLOW, 0o600);
  }

  line(text: string): void {
    if (this.fd === null) return;
    const stamp = new Date().toISOString();
    const body = text
      .split('\n')
      .map((l) => `${stamp} ${l}`)
      .join('\n');
    try {
      writeSync(this.fd, `${body}\n`);
    } catch (err) {
      this.failure = `the run log ${this.file} could not be written (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); it stops there`;
      this.close();
    }
  }

  /** Why the log stopped early, if it did. */
  problem(): string | null {
    return this.failure;
  }

  /** The last `bytes` of the log, starting at a line (what the fail ping sends). */
  tail(bytes = 10_000): string {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch {
      return '';
    }
    if (text.length <= bytes) return text;
    const cut = text.slice(-bytes);
    return cut.slice(cut.indexOf('\n') + 1);
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}

/** Opens a new log for a run of a job (named by its stateKey), keeping the newest KEEP_LOGS - 1 old ones. */
export async function openRunLog(key: string, env: NodeJS.ProcessEnv = process.env): Promise<RunLog> {
  const dir = logsDir(env);
  await makeDirs(dir, 0o700);
  // Exactly this job's names: `daily.` is also the start of job `daily.db`'s logs.
  const own = new RegExp(`^${key.replace(/[.]/g, '\\.')}\\.\\d{4}-\\d\\d-\\d\\dT[\\d-]+Z\\.\\d+\\.log$`);
  const mine = (await fs.readdir(dir)).filter((f) => own.test(f)).sort();
  for (const old of mine.slice(0, Math.max(0, mine.length - (KEEP_LOGS - 1)))) {
    await fs.rm(path.join(dir, old), { force: true });
  }
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  return new RunLog(path.join(dir, `${key}.${stamp}.${process.pid}.log`));
}
