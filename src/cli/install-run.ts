// What `borg-provision install` does once its command line is parsed: the flags become the
// pipeline's options, progress and steps go to stderr, and the outcome is rendered for people.
import { apiOptionsFromFlags } from './api-options';
import { createProgressBar } from './progress';
import { resolveTargetFromFlags } from './target-options';
import type { ProgressEvent } from '../fetch';
import type { InstallResult } from '../install';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { stateHome } from '../util/xdg';
import { logProgress } from './verbose';

/** The install command's flags, as oclif parses them (names as on the command line). */
export interface InstallFlagValues {
  prefix?: string;
  'bin-dir'?: string;
  from?: string;
  asset?: string;
  'allow-unsigned'?: boolean;
  'strict-key-expiry'?: boolean;
  'signing-key'?: string;
  fingerprint?: string;
  force?: boolean;
  'dry-run'?: boolean;
  'keep-download'?: boolean;
  glibc?: string;
  arch?: string;
  'api-url'?: string;
}

export interface InstallIo {
  signal: AbortSignal;
  json: boolean;
  /** A warning line (stderr, also with --json). */
  warn: (line: string) => void;
  /** --quiet: no progress, no step lines, no warnings. */
  quiet?: boolean;
  /** --verbose: each step, HTTP request and retry (src/cli/verbose.ts). */
  log?: (line: string) => void;
  /** The command's network callbacks (BaseCommand.traced): retries announced, --verbose's log. */
  net?: import('../net').NetOptions;
}

export async function runInstall(
  version: string | undefined,
  flags: InstallFlagValues,
  io: InstallIo,
): Promise<InstallResult> {
  if (version !== undefined) (await import('../releases')).checkVersionArg(version); // before anything is read
  const r = await runPipeline(version, flags, io);
  const fix = r.verification?.keyFix;
  if (fix && !io.quiet)
    suggestOnce('key-refresh-suggested', `the signing key copy in use is expired: ${fix} (said once)`, io.warn);
  return r;
}

/** A suggestion worth making once per user, not on every run: a marker in the state folder remembers it. */
function suggestOnce(marker: string, line: string, warn: (line: string) => void): void {
  const file = path.join(stateHome(), marker);
  if (existsSync(file)) return;
  warn(line);
  try {
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, `${new Date().toISOString()}\n`);
  } catch {
    // Not remembered: it is said again next time, which is all that is lost.
  }
}

async function runPipeline(
  version: string | undefined,
  flags: InstallFlagValues,
  io: InstallIo,
): Promise<InstallResult> {
  const api = await apiOptionsFromFlags(flags, io.signal);
  const net = { ...api.net, ...io.net };
  const chatty = !io.json && !io.quiet;
  const target = await resolveTargetFromFlags({ glibc: flags.glibc, arch: flags.arch });
  // The one key every signature of this install is checked against: a bad --signing-key or
  // --fingerprint is refused before any request.
  const { loadSigningKey } = await import('../verify');
  const key = await loadSigningKey({ keyFile: flags['signing-key'], fingerprint: flags.fingerprint });
  // The pipeline's own modules, not the install index (list/use/uninstall are not needed here).
  const { install, defaultBinDir, defaultPrefix } = await import('../install');
  // A bar only on a terminal and never with --json; on a pipe only retries are worth a line.
  const bar = createProgressBar({ enabled: chatty });
  const onProgress = (e: ProgressEvent): void => {
    if (bar.active) return bar.onProgress(e);
    if (io.log) return logProgress(e, io.log);
    if (chatty && e.type === 'retry') process.stderr.write(`  ${e.fileName}: ${e.reason}; retry ${e.attempt}\n`);
  };
  const say = io.log ?? ((s: string) => process.stderr.write(`  ${s}\n`));
  try {
    return await install({
      version,
      prefix: flags.prefix ?? defaultPrefix(),
      binDir: flags['bin-dir'] ?? defaultBinDir(),
      apiUrl: api.apiUrl,
      token: api.token,
      net,
      target,
      asset: flags.asset,
      allowUnsigned: flags['allow-unsigned'],
      strictKeyExpiry: flags['strict-key-expiry'],
      key,
      from: flags.from,
      dryRun: flags['dry-run'],
      force: flags.force,
      keepDownload: flags['keep-download'],
      signal: io.signal,
      onWarning: (w) => {
        bar.done();
        if (!io.quiet) io.warn(w);
      },
      onStep:
        chatty || io.log
          ? (s) => {
              bar.done();
              say(s);
            }
          : undefined,
      onProgress,
    });
  } finally {
    bar.done();
  }
}

/** The human summary of an install, line by line (stdout). */
export async function renderInstall(r: InstallResult, log: (line: string) => void): Promise<void> {
  const { groupFingerprint } = await import('../verify');
  const p = r.plan;
  if (r.action === 'dry-run') {
    log(`would install borg ${r.version} from ${p.asset} (${p.source}, ${p.kind})`);
    log(`  archive:   ${p.archiveUrl}`);
    if (p.chosen) log(`  chosen:    ${p.chosen}`);
    log(`  signature: ${p.signatureUrl ?? '(none)'}`);
    log(`  into:      ${p.dir}`);
    log(`  wrapper:   ${p.wrapper}`);
    log(`  target:    glibc ${p.target.glibc} ${p.target.arch}`);
    log(`  elf scan:  ${p.elfScan}`);
    for (const c of p.checks) log(`  check:     ${c}`);
    log('nothing was written (--dry-run)');
    return;
  }
  if (r.action === 'already-installed') {
    log(`borg ${r.version} is already installed in ${p.dir}${r.current ? ' and current' : ''}; --force reinstalls it`);
    return;
  }
  const v = r.verification;
  const how =
    v?.status === 'good' || v?.status === 'good-expired-key'
      ? `signature ${v.status === 'good' ? 'good' : 'good (key expired in our copy)'} by ${groupFingerprint(v.primaryFingerprint ?? '')}`
      : v?.status === 'sha256-manifest'
        ? `built locally, NOT signed by borg; SHA-256 ${v.sha256} matches its build manifest`
        : `UNSIGNED, not verified (--allow-unsigned); SHA-256 ${v?.sha256 ?? '?'}`;
  // Verdict first: an unsigned install says so on its first line, not only in a warning or --json.
  const caveat =
    v?.status === 'sha256-manifest'
      ? ' (locally built, unsigned by borg)'
      : v?.status === 'unsigned'
        ? ' (UNSIGNED, unverified)'
        : '';
  // The smoke test's output is the version again: say that it ran, not what it printed.
  log(`${r.action} borg ${r.version}${caveat}; borg -V runs`);
  log(`  from:     ${p.asset} (${how})`);
  const scanned =
    p.kind === 'onefile'
      ? 'one-file: bootloader only, the libraries packed inside are not scanned'
      : `${r.elfFiles} ELF files checked`;
  log(`  glibc:    needs ${r.glibcNeeded ?? 'nothing'}, target has ${p.target.glibc} (${scanned})`);
  log(`  in:       ${p.dir}`);
  log(`  run as:   ${p.wrapper}${r.previous && r.previous !== r.version ? ` (was ${r.previous})` : ''}`);
}
