// Running the schedulers' own tools (midclt, systemctl, crontab): found on PATH, given their input
// on stdin, their output kept. A tool that is missing or fails becomes one typed error that says
// which command failed and the first thing it said.
import { spawn } from 'node:child_process';
import { constants as osConstants } from 'node:os';
import { constants, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { SchedulerError, SchedulerUnavailableError } from '../errors';
import { firstLine } from '../util/text';
import { shLine } from './command-line';

export interface ToolResult {
  code: number;
  stdout: string;
  stderr: string;
}

const isExecutable = (file: string): Promise<boolean> =>
  fs.access(file, constants.X_OK).then(
    () => true,
    () => false,
  );

/** Whether an executable of that name is on PATH. */
export async function onPath(name: string, env: NodeJS.ProcessEnv = process.env): Promise<boolean> {
  for (const dir of (env.PATH ?? '').split(':').filter((d) => d !== '')) {
    if (await isExecutable(path.join(dir, name))) return true;
  }
  return false;
}

export interface ToolOptions {
  input?: string;
  env?: NodeJS.ProcessEnv;
}

/** Runs argv; resolves with any exit code (callers decide), rejects only when it cannot start. */
export function runTool(argv: string[], o: ToolOptions = {}): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), { env: o.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') {
        reject(new SchedulerUnavailableError(`${argv[0]} is not on PATH`, { hint: hintFor(argv[0]) }));
      } else reject(new SchedulerError(`cannot run ${argv[0]}: ${err.message}`, { cause: err }));
    });
    child.on('close', (code, signal) => {
      resolve({ code: code ?? 128 + (signal ? osConstants.signals[signal] : 0), stdout, stderr });
    });
    child.stdin.on('error', () => undefined); // a tool that exits without reading its input
    child.stdin.end(o.input ?? '');
  });
}

function hintFor(tool: string): string {
  if (tool === 'crontab') return 'install cron (Debian: apt-get install cron), or use --via systemd-user';
  if (tool === 'systemctl') return 'this machine has no systemd: use --via cron';
  return 'is this TrueNAS? use another --via';
}

/** The SchedulerError for a tool that exited non-zero: the command and the first thing it said. */
export function toolFailure(argv: string[], r: ToolResult): SchedulerError {
  const said = firstLine(r.stderr) || firstLine(r.stdout) || `exit ${r.code}`;
  return new SchedulerError(`${shLine(argv.slice(0, 3))} failed: ${said}`, { hint: toolHint(argv[0], said) });
}

/** Runs argv and requires exit 0; otherwise SchedulerError naming the command and what it said. */
export async function runToolOk(argv: string[], o: ToolOptions = {}): Promise<ToolResult> {
  const r = await runTool(argv, o);
  if (r.code !== 0) throw toolFailure(argv, r);
  return r;
}

function toolHint(tool: string, said: string): string | undefined {
  if (tool === 'systemctl' && /bus|booted with systemd|XDG_RUNTIME_DIR/i.test(said)) {
    return (
      'systemd is not running here for this user: log in to a session (or `loginctl enable-linger USER`), ' +
      'or use --via cron'
    );
  }
  return undefined;
}
