// The one place a failure is written out, for BaseCommand.catch and `releases` when no build
// fits: ONE line on stderr,
//   borg-provision: error: <message>
// and, with --json, one JSON document on stdout holding { error: { kind, exitCode, message } }
// (merged into `body` when the command has a partial result worth showing, e.g. the assets and
// the reasons none fits). The caller sets nothing else: this also sets process.exitCode.
import { ExitCode, InterruptedError, isProvisionError } from '../errors';
import { firstLine } from '../util/text';

export interface Failure {
  code: number;
  kind: string;
  message: string;
  /** What to do about it, when the stage knows. */
  hint?: string;
}

/** The Failure of a typed error (src/errors.ts); null for anything else (the caller decides). */
export function provisionFailure(err: unknown): Failure | null {
  if (!isProvisionError(err)) return null;
  return { code: err.exitCode, kind: err.kind, message: err.message, ...(err.hint ? { hint: err.hint } : {}) };
}

/**
 * Any failure as the user sees it: a typed error as it is; an interrupt as exit 130; what
 * `isUsage` recognises (oclif's parse errors, for BaseCommand) as bad usage, in the words of
 * `usageMessage` when it has some; anything else as an
 * internal error (exit 1) that asks for a report.
 */
export function describeError(
  err: unknown,
  o: { aborted?: boolean; isUsage?: (err: unknown) => boolean; usageMessage?: (err: unknown) => string | null } = {},
): Failure {
  const typed = provisionFailure(err);
  if (typed) return typed;
  if (o.aborted || (err as { name?: string } | null)?.name === 'AbortError') {
    return { code: ExitCode.interrupted, kind: 'interrupted', message: new InterruptedError().message };
  }
  if (o.isUsage?.(err)) {
    const message = o.usageMessage?.(err) ?? `${firstLine(err) || 'unknown error'} (see --help)`;
    return { code: ExitCode.usage, kind: 'usage', message };
  }
  const hint = process.env.DEBUG ? '' : '; run with DEBUG=1 for details and report it';
  return {
    code: ExitCode.internal,
    kind: 'internal',
    message: `internal error: ${firstLine(err) || 'unknown error'}${hint}`,
  };
}

export function renderFailure(f: Failure, o: { json: boolean; body?: object; stack?: string }): void {
  process.exitCode = f.code;
  if (o.json) {
    const error = { kind: f.kind, exitCode: f.code, message: f.message, ...(f.hint ? { hint: f.hint } : {}) };
    process.stdout.write(`${JSON.stringify({ ...o.body, error }, null, 2)}\n`);
  }
  process.stderr.write(`borg-provision: error: ${f.message}\n`);
  if (f.hint) process.stderr.write(`borg-provision: hint: ${f.hint}\n`);
  if (process.env.DEBUG && o.stack) process.stderr.write(`${o.stack}\n`);
}

/** A warning line on stderr; shown with --json too, since stdout then holds only the JSON. */
export function writeWarning(message: string): void {
  process.stderr.write(`borg-provision: warning: ${message}\n`);
}
