// The smoke test: run `borg -V` through the installed wrapper, exactly as the user will, and
// require the requested version. A build that cannot start here is caught before it is trusted.
//
// WHY a process group: a build that ignores SIGTERM, or whose `-V` starts children that keep the
// output pipes open, would outlive execFile's timeout (it sends one signal to one pid and waits for
// the pipes to close): the install would hang with its lock held. So the program runs in its own
// process group, and on the timeout (or an interrupt) the whole group gets SIGKILL; the test is
// over once the program itself has exited, whatever its orphans do with the pipes.
import { spawn } from 'node:child_process';
import { InterruptedError, SmokeTestError } from '../errors';

export interface SmokeResult {
  output: string;
}

const DEFAULT_TIMEOUT_MS = 60_000;
const MAX_OUTPUT = 1 << 20;
/** How long the output pipes may stay open after the program exited (held by its orphans). */
const PIPE_GRACE_MS = 1000;

/** BORG_PROVISION_SMOKE_TIMEOUT_MS (whole milliseconds) when set, else 60 s. */
export function smokeTimeoutMs(env: NodeJS.ProcessEnv = process.env): number {
  const v = env.BORG_PROVISION_SMOKE_TIMEOUT_MS;
  return v && /^\d+$/.test(v) && Number(v) > 0 ? Number(v) : DEFAULT_TIMEOUT_MS;
}

/** `borg.exe 1.4.2` or `borg 1.4.2`: the last token must be the version. */
export function versionMatches(output: string, version: string): boolean {
  const line = output.trim().split('\n').pop() ?? '';
  const last = line.trim().split(/\s+/).pop();
  return last === version;
}

/**
 * Runs `<program> -V` and requires `version`. `program` is the wrapper (after activation) or the
 * staged `borg.exe` itself (before); `env` lets the latter get the TMPDIR the wrapper would set.
 */
export async function smokeTest(
  program: string,
  version: string,
  signal?: AbortSignal,
  env?: NodeJS.ProcessEnv,
  timeoutMs = smokeTimeoutMs(),
): Promise<SmokeResult> {
  if (signal?.aborted) throw new InterruptedError();
  const run = await runGroup(program, ['-V'], env ?? process.env, timeoutMs, signal);
  const output = `${run.stdout}${run.stderr}`.trim();
  if (signal?.aborted) throw new InterruptedError();
  if (run.how !== null) {
    const said = output ? `: ${lastLine(output)}` : '';
    throw new SmokeTestError(`borg ${version} did not run (\`borg -V\` ${run.how}${said})`);
  }
  if (!versionMatches(run.stdout, version)) {
    throw new SmokeTestError(`\`borg -V\` printed "${lastLine(output) || '(nothing)'}", not version ${version}`);
  }
  return { output: run.stdout.trim() };
}

interface GroupRun {
  stdout: string;
  stderr: string;
  /** Why it failed ("exited with 1", "timed out after 60 s ..."), or null for exit 0. */
  how: string | null;
}

function runGroup(
  program: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<GroupRun> {
  return new Promise((resolve) => {
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const child = spawn(program, args, { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const killGroup = (): void => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // the group is gone already
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup();
    }, timeoutMs);
    const onAbort = (): void => killGroup();
    signal?.addEventListener('abort', onAbort, { once: true });
    const take = (chunk: Buffer, into: 'out' | 'err'): void => {
      const text = chunk.toString('utf8');
      if (into === 'out' && stdout.length < MAX_OUTPUT) stdout += text;
      if (into === 'err' && stderr.length < MAX_OUTPUT) stderr += text;
    };
    child.stdout.on('data', (c: Buffer) => take(c, 'out'));
    child.stderr.on('data', (c: Buffer) => take(c, 'err'));
    let open = 2;
    let verdict: string | null | undefined;
    let settled = false;
    const settle = (): void => {
      if (settled || verdict === undefined) return;
      settled = true;
      clearTimeout(timer);
      clearTimeout(grace);
      signal?.removeEventListener('abort', onAbort);
      child.stdout.destroy();
      child.stderr.destroy();
      resolve({ stdout, stderr, how: verdict });
    };
    child.stdout.on('close', () => (--open === 0 ? settle() : undefined));
    child.stderr.on('close', () => (--open === 0 ? settle() : undefined));
    let grace: NodeJS.Timeout | undefined;
    const exited = (how: string | null): void => {
      verdict = how;
      if (open === 0) return settle();
      // The pipes are still open after the exit: children it left behind hold them. Read what is
      // buffered, then end them with it.
      grace = setTimeout(() => {
        killGroup();
        settle();
      }, PIPE_GRACE_MS);
    };
    child.on('error', (err) => {
      verdict = err.message;
      open = 0;
      settle();
    });
    child.on('exit', (code, sig) => {
      if (timedOut) return exited(`timed out after ${formatSeconds(timeoutMs)}: it and its process group were killed`);
      if (code === 0) return exited(null);
      exited(code !== null ? `exited with ${code}` : `was killed by ${sig}`);
    });
  });
}

function formatSeconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(1))} s`;
}

function lastLine(text: string): string {
  return (text.trim().split('\n').pop() ?? '').trim().slice(0, 200);
}
