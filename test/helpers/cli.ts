// Runs the built CLI (dist/, via bin/run.js) as a real subprocess, the way a user would.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';

export const repoRoot = path.resolve(__dirname, '..', '..');
export const binRun = path.join(repoRoot, 'bin', 'run.js');

/** Fails, saying what to run, when dist/ is not built (unit tests do not need it; runs of the CLI do). */
export function requireBuild(): void {
  if (!existsSync(path.join(repoRoot, 'dist', 'commands', 'index.js'))) {
    throw new Error('this test runs the built CLI, and dist/ is not built: run `npm run build` first');
  }
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  input?: string;
  timeoutMs?: number;
  /** Run as this user and group (the test runs as root). */
  uid?: number;
  gid?: number;
  /**
   * In a process group of its own, as a terminal's foreground job is: `process.kill(-pid, sig)`
   * then signals it and its children at once, as Ctrl-C does.
   */
  detached?: boolean;
  /** Called once the process has started, e.g. to send it SIGINT later. */
  onSpawn?: (child: import('node:child_process').ChildProcess) => void;
}

export function runCli(args: string[], opts: CliOptions = {}): Promise<CliResult> {
  requireBuild();
  return new Promise((resolve, reject) => {
    // jest sets NODE_ENV=test, which makes oclif print development warnings a user never sees.
    const env = { ...process.env, NODE_ENV: 'production', NODE_OPTIONS: '', DEBUG: '', ...opts.env };
    const { uid, gid, detached } = opts;
    const child = spawn(process.execPath, [binRun, ...args], { cwd: opts.cwd ?? repoRoot, env, uid, gid, detached });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 30000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    if (opts.input !== undefined) child.stdin.end(opts.input);
    else child.stdin.end();
    opts.onSpawn?.(child);
  });
}

/** Parses stdout as the one JSON document a `--json` run prints. */
export function jsonOf<T = unknown>(result: CliResult): T {
  try {
    return JSON.parse(result.stdout) as T;
  } catch {
    throw new Error(`stdout is not JSON (exit ${result.code}):\n${result.stdout}\nstderr:\n${result.stderr}`);
  }
}
