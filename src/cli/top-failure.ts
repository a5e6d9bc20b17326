// What escapes oclif itself (bin/run.js catches it): failures of oclif's own commands and plugins,
// e.g. `help instal`. Rendered like every other failure: one `borg-provision: error:` line in our
// format; `command X not found` gets the nearest command, as an unknown command does (not-found.ts).
// oclif's ExitError (a command's this.exit(n)) is an exit code, not a failure.
import { describeError, provisionFailure, renderFailure } from './failure';

interface OclifError {
  code?: string;
  message?: string;
  oclif?: { exit?: number };
  stack?: string;
}

export async function renderTopFailure(err: unknown): Promise<void> {
  const e = (err ?? {}) as OclifError;
  if (e.code === 'EEXIT') {
    process.exitCode = e.oclif?.exit ?? 0;
    return;
  }
  const missing = /^command (\S+) not found/i.exec(e.message ?? '');
  if (missing) {
    const [{ Config }, { notFoundError }] = await Promise.all([import('@oclif/core'), import('./not-found')]);
    const config = await Config.load({ root: `${__dirname}/../..` });
    const ids = config.commands.filter((c) => !c.hidden).map((c) => c.id);
    const words = missing[1].split(/[: ]/);
    renderFailure(provisionFailure(notFoundError(words, ids, config.bin))!, { json: false });
    return;
  }
  const isUsage = (x: unknown): boolean => (x as OclifError).oclif?.exit === 2;
  renderFailure(describeError(err, { isUsage }), { json: process.argv.includes('--json'), stack: e.stack });
}
