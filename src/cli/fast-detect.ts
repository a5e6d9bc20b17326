// Start-up fast path for `borg-provision detect`, used by bin/run.js before oclif is loaded.
// WHY: on Node 20 (no compile cache) merely loading @oclif/core and its plugin costs ~2x a bare
// `node -e 0`; detect is meant to be instant. Only the plain forms are taken here:
//   detect [--json] [--libc PATH | --libc=PATH] [--root DIR | --root=DIR]
// Anything else (see src/cli/plain-argv.ts: help, unknown or repeated flags, values starting
// with "-", DEBUG set, BORG_PROVISION_FAST_PATH=0) goes to oclif untouched. Output and exit codes
// are the same as the oclif command's (BaseCommand.catch for typed errors); an unexpected error is
// not reported here at all: detect is read-only, so oclif simply runs it again and reports it.
// bin/run.js requires it from dist/cli/fast-detect.js; it imports nothing that loads oclif.
import { provisionFailure, renderFailure, writeWarning } from './failure';
import { withInterrupts } from './interrupts';
import { plainArgv } from './plain-argv';

export interface FastDetectArgs {
  json: boolean;
  libc?: string;
  root?: string;
}

/** The detect arguments when they are in the plain form above, else null (use oclif). */
export function plainDetectArgs(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): FastDetectArgs | null {
  const p = plainArgv(argv, 'detect', { json: 'boolean', libc: 'string', root: 'string' }, 0, env);
  if (!p) return null;
  const { json, libc, root } = p.flags;
  return { json: json === true, ...(typeof libc === 'string' ? { libc } : {}), ...(typeof root === 'string' ? { root } : {}) };
}

/** Runs detect without oclif. Resolves 'fallback' when oclif should run the command instead. */
export async function runFastDetect(args: FastDetectArgs): Promise<'done' | 'fallback'> {
  return withInterrupts(async (signal) => {
    try {
      const { detectTarget, requireGlibc } = await import('../target');
      const { renderSummary, detectWarnings } = await import('./detect-summary');
      const report = requireGlibc(await detectTarget({ libc: args.libc, root: args.root, signal }));
      detectWarnings(report).forEach(writeWarning);
      process.stdout.write(`${args.json ? JSON.stringify(report, null, 2) : renderSummary(report)}\n`);
      return 'done';
    } catch (err) {
      const failure = provisionFailure(err);
      if (!failure) return 'fallback';
      renderFailure(failure, { json: args.json });
      return 'done';
    }
  });
}
