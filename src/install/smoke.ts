// The smoke test: run `borg -V` through the installed wrapper, exactly as the user will, and
// require the requested version. A build that cannot start here is caught before it is trusted.
import { execFile } from 'node:child_process';
import { InterruptedError, SmokeTestError } from '../errors';

export interface SmokeResult {
  output: string;
}

const TIMEOUT_MS = 60_000;

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
export function smokeTest(program: string, version: string, signal?: AbortSignal, env?: NodeJS.ProcessEnv): Promise<SmokeResult> {
  return new Promise((resolve, reject) => {
    execFile(program, ['-V'], { timeout: TIMEOUT_MS, signal, maxBuffer: 1 << 20, env: env ?? process.env }, (err, stdout, stderr) => {
      const output = `${stdout}${stderr}`.trim();
      if (signal?.aborted) return reject(new InterruptedError());
      if (err) {
        const code = (err as { code?: unknown }).code;
        const how = typeof code === 'number' ? `exited with ${code}` : err.killed ? 'timed out' : err.message;
        const said = output ? `: ${lastLine(output)}` : '';
        return reject(new SmokeTestError(`borg ${version} did not run (\`borg -V\` ${how}${said})`));
      }
      if (!versionMatches(stdout, version)) {
        return reject(new SmokeTestError(`\`borg -V\` printed "${lastLine(output) || '(nothing)'}", not version ${version}`));
      }
      resolve({ output: stdout.trim() });
    });
  });
}

function lastLine(text: string): string {
  return (text.trim().split('\n').pop() ?? '').trim().slice(0, 200);
}
