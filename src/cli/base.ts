// The one place where failures become exit codes and one-line messages, and where SIGINT/SIGTERM
// become an AbortSignal the stages watch. Commands extend BaseCommand and stay thin: parse flags,
// call the stages, render human text or return an object for `--json`.
import { Command, Errors } from '@oclif/core';
import { InterruptedError } from '../errors';
import { describeError, renderFailure, writeWarning, type Failure } from './failure';

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

/** oclif's own parse errors (unknown flag, missing argument) are bad usage. */
export function describeFailure(err: Error, aborted = false): Failure {
  return describeError(err, { aborted, isUsage: (e) => e instanceof Errors.CLIError });
}
