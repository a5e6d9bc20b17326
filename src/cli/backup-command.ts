// The base of the `backup` commands: --config-dir for all, and failures that carry a partial
// result (a run's per-job outcomes, status's table) print it with the error under --json.
import { Flags } from '@oclif/core';
import { BaseCommand, describeFailure } from './base';
import { renderFailure } from './failure';

export const configDirFlag = Flags.string({
  description: 'base directory of the jobs (default $XDG_CONFIG_HOME/borg-provision; jobs in <dir>/backups/<name>/)',
});

export abstract class BackupCommand extends BaseCommand {
  /** Short progress lines go to a terminal only; in a pipe or a log they would be noise. */
  protected progress(line: string): void {
    if (process.stderr.isTTY && !this.jsonEnabled()) process.stderr.write(`\r\x1b[K${line}`);
  }

  protected endProgress(): void {
    if (process.stderr.isTTY && !this.jsonEnabled()) process.stderr.write('\r\x1b[K');
  }

  override async catch(err: Error & { exitCode?: number; body?: object }): Promise<void> {
    this.endProgress();
    if (err.body) {
      renderFailure(describeFailure(err, this.signal.aborted), {
        json: this.jsonEnabled(),
        body: err.body,
        stack: err.stack,
      });
      return;
    }
    return super.catch(err);
  }
}
