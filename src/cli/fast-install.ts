// Start-up fast path for `borg-provision install`, used by bin/run.js before oclif is loaded.
// WHY: loading @oclif/core and its plugin costs ~0.13 s on Node 20 (no compile cache): a fifth of a
// whole install of a 30 MB build, whose target is to be as quick as curl + gpgv + tar by hand
// (bench/install.bench.js). Only plain command lines are taken (src/cli/plain-argv.ts):
//   install [VERSION] [--json] [--force] [--dry-run] [--allow-unsigned] [--strict-key-expiry]
//           [--prefix DIR] [--bin-dir DIR] [--from PATH] [--asset NAME] [--signing-key FILE]
//           [--fingerprint FPR] [--glibc X.Y] [--arch ARCH] [--api-url URL]     (also --name=VALUE)
// Anything else goes to oclif untouched. It runs the same code as the oclif command
// (src/cli/install-run.ts) and prints the same: the human summary, or with --json the result as
// oclif prints it (JSON.stringify with 2 spaces); failures as BaseCommand.catch renders them.
// Unlike detect's fast path it never falls back to oclif after starting: install writes.
import { describeError, renderFailure, writeWarning } from './failure';
import { withInterrupts } from './interrupts';
import { INSTALL_FLAG_KINDS, startInstallVerifier, type InstallFlagValues } from './install-args';
import { plainArgv } from './plain-argv';
import { warm } from '../util/code-cache';

export interface FastInstallArgs {
  version: string | undefined;
  json: boolean;
  flags: InstallFlagValues;
}

/** The install arguments when the command line is plain, else null (use oclif). */
export function plainInstallArgs(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): FastInstallArgs | null {
  const p = plainArgv(argv, 'install', INSTALL_FLAG_KINDS, 1, env);
  if (!p) return null;
  const { json, ...rest } = p.flags;
  return { version: p.args[0], json: json === true, flags: rest as InstallFlagValues };
}

export async function runFastInstall(a: FastInstallArgs): Promise<void> {
  await withInterrupts(async (signal) => {
    // First of all: the worker's start-up overlaps the loading of everything else.
    const verifier = startInstallVerifier(a.flags, signal);
    try {
      const { renderInstall, runInstall } = await import('./install-run');
      const r = await runInstall(a.version, a.flags, { signal, json: a.json, warn: writeWarning, verifier });
      if (a.json) process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
      else renderInstall(r, (line) => process.stdout.write(`${line}\n`));
      // A whole install ran: its code is compiled, worth a code cache (when loaded from the bundle).
      if (r.action === 'installed' || r.action === 'reinstalled') warm();
    } catch (err) {
      renderFailure(describeError(err, { aborted: signal.aborted }), { json: a.json, stack: (err as Error)?.stack });
    } finally {
      await verifier.close(); // runInstall closes it; not if loading it failed
    }
  });
}
