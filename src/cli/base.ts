// The one place where failures become exit codes and one-line messages, and where SIGINT/SIGTERM
// become an AbortSignal the stages watch. Commands extend BaseCommand and stay thin: parse flags,
// call the stages, render human text or return an object for `--json`.
import { Command, Errors } from '@oclif/core';
import { ExitCode, InterruptedError } from '../errors';
import { firstLine } from '../util/text';
import { provisionFailure, renderFailure, writeWarning, type Failure } from './failure';

export abstract class BaseCommand extends Command {
  static override enableJsonFlag = true;

  private readonly abortController = new AbortController();
  private readonly onSignal = (): void => this.abortController.abort(new InterruptedError());

  /** Fires on SIGINT/SIGTERM; pass it to every stage so it can clean up and stop. */
  protected get signal(): AbortSignal {
    return this.abortController.signal;
  }

  override async init(): Promise<void> {
    await super.init();
    process.once('SIGINT', this.onSignal);
    process.once('SIGTERM', this.onSignal);
  }

  override async finally(err: Error | undefined): Promise<void> {
    process.removeListener('SIGINT', this.onSignal);
    process.removeListener('SIGTERM', this.onSignal);
    return super.finally(err);
  }

  /** A warning line on stderr; shown with --json too, since stdout then holds only the JSON. */
  protected warnLine(message: string): void {
    writeWarning(message);
  }

  override async catch(err: Error & { exitCode?: number; oclif?: { exit?: number } }): Promise<void> {
    renderFailure(describeFailure(err, this.signal.aborted), { json: this.jsonEnabled(), stack: err.stack });
  }
}

export function describeFailure(
  err: Error & { oclif?: { exit?: number } },
  aborted = false,
): Failure {
  const typed = provisionFailure(err);
  if (typed) return typed;
  if (aborted || (err as { name?: string }).name === 'AbortError') {
    return { code: ExitCode.interrupted, kind: 'interrupted', message: new InterruptedError().message };
  }
  // oclif's own parse errors (unknown flag, missing argument) are bad usage.
  if (err instanceof Errors.CLIError) {
    const message = firstLine(err) || 'unknown error';
    return { code: ExitCode.usage, kind: 'usage', message: `${message} (see --help)` };
  }
  const hint = process.env.DEBUG ? '' : '; run with DEBUG=1 for details and report it';
  return { code: ExitCode.internal, kind: 'internal', message: `internal error: ${firstLine(err) || 'unknown error'}${hint}` };
}
