// The one place where failures become exit codes and one-line messages, and where SIGINT/SIGTERM
// become an AbortSignal the stages watch. Commands extend BaseCommand and stay thin: parse flags,
// call the stages, render human text or return an object for `--json`.
// Every command also has --quiet (no progress, no warnings: only the result and errors) and
// --verbose (each step, each HTTP request and retry on stderr, through `this.trace`).
import { Command, Errors, Flags } from '@oclif/core';
import { InterruptedError } from '../errors';
import { describeError, renderFailure, writeWarning, type Failure } from './failure';
import { verboseLogger, type LogLine } from './verbose';
import type { NetOptions } from '../net';

export abstract class BaseCommand extends Command {
  static override enableJsonFlag = true;

  static override baseFlags = {
    quiet: Flags.boolean({
      description: 'no progress and no warnings: only the result and errors',
      exclusive: ['verbose'],
    }),
    verbose: Flags.boolean({
      description: 'say each step, each HTTP request and each retry on stderr',
      exclusive: ['quiet'],
    }),
  };

  private readonly abortController = new AbortController();
  /**
   * The first SIGINT/SIGTERM starts the graceful stop. A listener stays for later ones: without it
   * a second signal would kill this process mid-stop (borg still running, no state written, a
   * `backup shell`'s child orphaned), so they are only noted.
   */
  private readonly onSignal = (sig: NodeJS.Signals): void => {
    if (!this.abortController.signal.aborted) this.abortController.abort(new InterruptedError());
    else this.traceFn?.(`${sig} again: still stopping`);
  };
  private quietFlag = false;
  private traceFn: LogLine | undefined;

  /** Fires on SIGINT/SIGTERM; pass it to every stage so it can clean up and stop. */
  protected get signal(): AbortSignal {
    return this.abortController.signal;
  }

  /** --quiet: no progress bars, step lines or warnings. */
  protected get quiet(): boolean {
    return this.quietFlag;
  }

  /** With --verbose, a line writer for stderr to hand to the stages (their `log` option); else undefined. */
  protected get trace(): LogLine | undefined {
    return this.traceFn;
  }

  /** Whether progress (bars, step lines) may be drawn: not with --json, not with --quiet. */
  protected get showProgress(): boolean {
    return !this.jsonEnabled() && !this.quietFlag;
  }

  /**
   * The network options with each API retry announced on stderr (not with --quiet) and, with
   * --verbose, the log of every request, answer and failed attempt.
   */
  protected traced<T extends { net: NetOptions }>(api: T): T {
    const onRetry = this.quietFlag
      ? undefined
      : (line: string): void => void process.stderr.write(`borg-provision: ${line}\n`);
    return { ...api, net: { ...api.net, onRetry, ...(this.traceFn ? { log: this.traceFn } : {}) } };
  }

  override async init(): Promise<void> {
    await super.init();
    process.on('SIGINT', this.onSignal);
    process.on('SIGTERM', this.onSignal);
    // The shared flags are needed before run() parses the command's own (oclif's base-command pattern).
    const ctor = this.ctor as typeof BaseCommand;
    const { flags } = await this.parse({
      flags: ctor.flags,
      baseFlags: ctor.baseFlags,
      args: ctor.args,
      strict: ctor.strict,
      enableJsonFlag: ctor.enableJsonFlag,
    });
    this.quietFlag = flags.quiet === true;
    this.traceFn = flags.verbose === true ? verboseLogger() : undefined;
  }

  override async finally(err: Error | undefined): Promise<void> {
    process.removeListener('SIGINT', this.onSignal);
    process.removeListener('SIGTERM', this.onSignal);
    return super.finally(err);
  }

  /** A warning line on stderr; shown with --json too, since stdout then holds only the JSON. Not with --quiet. */
  protected warnLine(message: string): void {
    if (!this.quietFlag) writeWarning(message);
  }

  override async catch(err: Error & { exitCode?: number; oclif?: { exit?: number } }): Promise<void> {
    renderFailure(describeFailure(err, this.signal.aborted, this.id), { json: this.jsonEnabled(), stack: err.stack });
  }
}

/** oclif's own parse errors (unknown flag, missing argument) are bad usage. */
export function describeFailure(err: Error, aborted = false, commandId?: string): Failure {
  // A flag's parse function failed (ours throw UsageError, oclif's a plain Error): oclif rewrote its message.
  const flagValue = typeof err?.message === 'string' && err.message.startsWith('Parsing --');
  const isUsage = (e: unknown): boolean => flagValue || e instanceof Errors.CLIError;
  const usageMessage = (e: unknown): string | null => parseErrorMessage(e, commandId);
  if (flagValue) return describeError(new Errors.CLIError(err.message), { isUsage, usageMessage });
  return describeError(err, { aborted, isUsage, usageMessage });
}

/**
 * oclif's parse errors in one line that names what is wrong: "missing VERSION" for a required
 * argument (oclif lists them on further lines), the flag's own rule for a bad flag value (oclif
 * puts it on the line after "Parsing --limit").
 */
function parseErrorMessage(err: unknown, commandId: string | undefined): string | null {
  const help = `see borg-provision ${commandId ? `${commandId.replace(/:/g, ' ')} ` : ''}--help`;
  const e = err as { message?: string; args?: { name?: string }[] };
  const text = typeof e?.message === 'string' ? e.message : '';
  if (/^Missing \d+ required arg/.test(text) && Array.isArray(e.args)) {
    const names = e.args.map((a) => (a.name ?? 'argument').toUpperCase());
    return `missing ${names.join(' and ')} (${help})`;
  }
  const parsing = /^Parsing (--[\w-]+)\s*\n\s*([^\n]+)/.exec(text);
  if (parsing) {
    const rule = parsing[2].trim();
    return `${rule.startsWith(parsing[1]) ? rule : `${parsing[1]}: ${rule}`} (${help})`;
  }
  // Several flag rules broken (exclusive flags, ...): oclif heads its list with this line.
  const listed = /^The following errors occurred:\s*\n\s*([^\n]+)/.exec(text);
  if (listed) return `${listed[1].trim().replace(/^[^\w-]+/, '')} (${help})`;
  return null;
}
