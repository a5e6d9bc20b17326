// Runs vagrant as a child process in the work dir: output goes to the build log, step markers
// printed by vagrant/provision.sh become progress events, and an abort stops the child.
import { spawn } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';

export const STEP_MARKER = /==> borg-provision step: (\S.*?)\s*$/;
export const ERROR_MARKER = /==> borg-provision error: (\S.*?)\s*$/;

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Last step marker seen, if any. */
  lastStep: string | null;
  /** Message of the script's own error marker, if it printed one. */
  scriptError: string | null;
  /** Last non-empty output line (vagrant's own error, when it failed before provisioning). */
  lastLine: string | null;
  aborted: boolean;
}

export interface RunOptions {
  cwd: string;
  log: WriteStream;
  signal?: AbortSignal;
  onStep?: (step: string) => void;
  /** Time between SIGINT and SIGKILL once aborted. */
  killGraceMs?: number;
  timeoutMs?: number;
}

/**
 * GitHub credentials the CLI itself may read. vagrant and its plugins never need them, and what a
 * child gets it can log or pass on; vagrant's own settings (VAGRANT_CLOUD_TOKEN for private boxes,
 * provider credentials) stay, as a build may need them.
 */
const WITHHELD = ['GITHUB_TOKEN', 'GH_TOKEN', 'GITHUB_PAT', 'GH_ENTERPRISE_TOKEN', 'GITHUB_ENTERPRISE_TOKEN'];

/** Our environment without GitHub credentials, for every tool the build stage runs. */
export function withoutGithubCredentials(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = { ...env };
  for (const name of WITHHELD) delete out[name];
  return out;
}

/** The environment for a vagrant child working in `cwd`. */
export function vagrantEnv(cwd: string, env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return { ...withoutGithubCredentials(env), VAGRANT_CWD: cwd };
}

export function openLog(file: string): WriteStream {
  return createWriteStream(file, { flags: 'a' });
}

export function runVagrant(args: string[], o: RunOptions): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    o.log.write(`\n$ vagrant ${args.join(' ')}\n`);
    // Its own process group: a Ctrl-C in the terminal reaches only us, and we interrupt vagrant
    // exactly once (a second SIGINT would make vagrant skip its cleanup).
    const child = spawn('vagrant', args, {
      cwd: o.cwd,
      env: vagrantEnv(o.cwd),
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const state = {
      lastStep: null as string | null,
      scriptError: null as string | null,
      lastLine: null as string | null,
    };
    const onLine = (line: string): void => {
      const step = STEP_MARKER.exec(line);
      if (step) {
        state.lastStep = step[1]!;
        o.onStep?.(step[1]!);
      }
      const err = ERROR_MARKER.exec(line);
      if (err) state.scriptError = err[1]!;
      if (line.trim() !== '') state.lastLine = line.trim();
    };
    pipeLines(child.stdout, o.log, onLine);
    pipeLines(child.stderr, o.log, onLine);

    let aborted = false;
    let killTimer: NodeJS.Timeout | undefined;
    // SIGINT is vagrant's graceful stop ("Waiting for cleanup before exiting..."); SIGKILL if it hangs.
    const stop = (): void => {
      aborted = true;
      child.kill('SIGINT');
      killTimer = setTimeout(() => child.kill('SIGKILL'), o.killGraceMs ?? 60000);
    };
    const timer = o.timeoutMs ? setTimeout(stop, o.timeoutMs) : undefined;
    if (o.signal?.aborted) stop();
    else o.signal?.addEventListener('abort', stop, { once: true });

    child.on('error', (err) => {
      o.signal?.removeEventListener('abort', stop);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(killTimer);
      clearTimeout(timer);
      o.signal?.removeEventListener('abort', stop);
      o.log.write(`[exit ${code ?? signal}]\n`);
      resolve({ code, signal, aborted, ...state });
    });
  });
}

function pipeLines(stream: NodeJS.ReadableStream, log: WriteStream, onLine: (l: string) => void): void {
  let rest = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    log.write(chunk);
    const lines = (rest + chunk).split('\n');
    rest = lines.pop() ?? '';
    lines.forEach(onLine);
  });
  stream.on('end', () => {
    if (rest) onLine(rest);
  });
}

/** Runs `vagrant ssh -c CMD --no-tty`, sending the command's raw stdout to `out` (binary-safe). */
export function vagrantSshToStream(
  command: string,
  o: { cwd: string; log: WriteStream; out: NodeJS.WritableStream; signal?: AbortSignal },
): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const args = ['ssh', '--no-tty', '-c', command];
    o.log.write(`\n$ vagrant ${args.join(' ')}\n`);
    const child = spawn('vagrant', args, { cwd: o.cwd, env: vagrantEnv(o.cwd), stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      o.log.write(d);
    });
    child.stdout.pipe(o.out, { end: false });
    const stop = (): void => {
      child.kill('SIGTERM');
    };
    o.signal?.addEventListener('abort', stop, { once: true });
    child.on('error', reject);
    child.on('close', (code) => {
      o.signal?.removeEventListener('abort', stop);
      resolve({ code, stderr });
    });
  });
}
